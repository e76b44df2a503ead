"""The workflow engine: every action allowed and denied, the clock, lateness, versions, the API."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from dossiers.engine import ActionInput, actions_available, deadline_state, dossier_act
from dossiers.models import Dossier, Event, Notice, Status, Task
from dossiers.selectors import QueueFilter, queue_counts, queue_tasks
from dossiers.services import dossier_receive
from organizations.models import Role
from workflows.models import Step, Version

from .dossier_helpers import PDF, intake, officer
from .workflow_helpers import handling_department, publish_standard, staff

VN = dt.timezone(dt.timedelta(hours=7))
MONDAY = dt.datetime(2026, 11, 9, 8, 0, tzinfo=VN)  # an ordinary working week (24 Nov is Cultural Day)


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    publish_standard()
    department = handling_department()
    return {
        "counter": officer(),
        "specialist": staff("cv.a", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng"),
        "specialist2": staff("cv.b", role=Role.SPECIALIST, department=department, full_name="Lê Thị Bé"),
        "head": staff("tp.a", role=Role.DEPARTMENT_HEAD, department=department, full_name="Bùi Thị Thu"),
        "leader": staff("ld.a", role=Role.AGENCY_LEADER, full_name="Trương Văn Phúc"),
        "outsider": staff("cv.khac", role=Role.SPECIALIST, agency_key="ubnd_30316"),
    }


def receive(people, at=MONDAY) -> Dossier:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return dossier_receive(officer=people["counter"], intake=intake(), now=at)


def act(who, dossier: Dossier, action: str, at: dt.datetime, **data) -> Dossier:  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    return dossier_act(
        officer=who, code=dossier.code, action=action, task_id=fresh.current_task_id, data=ActionInput(**data), now=at
    )


def can(who, dossier: Dossier, at: dt.datetime) -> list[str]:  # type: ignore[no-untyped-def]
    from dossiers.selectors import access_dossier_for_officer

    return actions_available(officer=who, dossier=access_dossier_for_officer(officer=who, code=dossier.code), now=at)


def test_an_accepted_dossier_enters_the_first_step_with_the_receiving_officer(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    task = dossier.current_task
    assert dossier.workflow_version.state == Version.State.PUBLISHED
    assert task.step.position == 1 and task.assignee == people["counter"]
    assert dossier.current_step == "Tiếp nhận và chuyển hồ sơ"
    assert dossier.public_departments == [handling_department().name]
    assert can(people["counter"], dossier, MONDAY) == ["forward", "stop"]
    assert can(people["specialist"], dossier, MONDAY) == []


def test_the_whole_path_from_counter_to_result(people):  # type: ignore[no-untyped-def]
    t = MONDAY
    dossier = receive(people)
    act(people["counter"], dossier, "forward", t + dt.timedelta(minutes=10))
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS and dossier.current_task.assignee is None
    # Both specialists of the department may take it; an officer of another commune cannot even see it.
    assert can(people["specialist"], dossier, t) == ["claim"]
    assert can(people["specialist2"], dossier, t) == ["claim"]
    assert "assign" in can(people["head"], dossier, t)
    with pytest.raises(NotFound):
        act(people["outsider"], dossier, "claim", t)
    act(people["specialist"], dossier, "claim", t + dt.timedelta(minutes=20))
    assert can(people["specialist2"], dossier, t) == []
    assert can(people["specialist"], dossier, t + dt.timedelta(minutes=30)) == [
        "forward", "send_back", "request_supplement", "request_payment", "apologise", "stop", "refuse",
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):
        act(people["specialist2"], dossier, "forward", t)
    act(people["specialist"], dossier, "forward", t + dt.timedelta(hours=1), note="Đủ điều kiện")
    # The leader's step: record the result, then approve (sign) it on to the counter.
    assert can(people["leader"], dossier, t) == ["claim", "assign"]
    act(people["leader"], dossier, "claim", t + dt.timedelta(hours=2))
    with pytest.raises(ValidationFailed):
        act(people["leader"], dossier, "record_result", t + dt.timedelta(hours=2))
    act(
        people["leader"],
        dossier,
        "record_result",
        t + dt.timedelta(hours=2, minutes=5),
        files=[SimpleUploadedFile("giay-khai-sinh.pdf", PDF, "application/pdf")],
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.RESOLVED and dossier.attachments.get().kind == "result"
    act(people["leader"], dossier, "approve", t + dt.timedelta(hours=2, minutes=10))
    act(people["counter"], dossier, "claim", t + dt.timedelta(hours=2, minutes=15))
    assert can(people["counter"], dossier, t + dt.timedelta(hours=2, minutes=15)) == ["return_result"]
    act(people["counter"], dossier, "return_result", t + dt.timedelta(hours=2, minutes=20))
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED and dossier.current_task is None and dossier.returned_at
    tasks = list(Task.objects.filter(dossier=dossier).order_by("entered_at", "id"))
    assert [x.step.position for x in tasks] == [1, 2, 3, 4]
    assert all(x.finished_at and x.late is False for x in tasks)
    actions = list(Event.objects.filter(dossier=dossier).order_by("at", "id").values_list("action", flat=True))
    assert actions == ["receive", "forward", "claim", "forward", "claim", "record_result", "approve", "claim",
                       "return_result"]  # fmt: skip
    assert can(people["counter"], dossier, t) == []
    # The control sheet (form 6) has one row per hand-over, not per click.
    from dossiers.selectors import events_of
    from receipts.services import hand_overs

    rows = hand_overs(dossier=dossier, events=list(events_of(dossier=dossier)))
    assert [r.to_unit for r in rows] == ["Tiếp nhận và chuyển hồ sơ", "Thẩm định, xử lý hồ sơ",
                                         "Lãnh đạo ký duyệt, phát hành kết quả", "Trả kết quả", ""]  # fmt: skip
    assert {r.result for r in rows} <= {"early", "on_time"}


def test_a_stale_view_gets_a_conflict_and_nothing_changes(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    first_task = dossier.current_task_id
    act(people["counter"], dossier, "forward", MONDAY)
    before = Event.objects.filter(dossier=dossier).count()
    with pytest.raises(Conflict):
        dossier_act(officer=people["counter"], code=dossier.code, action="forward", task_id=first_task, now=MONDAY)
    act(people["specialist"], dossier, "claim", MONDAY)
    with pytest.raises(Conflict) as taken:
        act(people["specialist2"], dossier, "claim", MONDAY)
    assert "Ngô Văn Hùng" in taken.value.message
    assert Event.objects.filter(dossier=dossier).count() == before + 1


def test_supplement_pauses_the_clock_and_resume_moves_the_appointment(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    appointment = dossier.appointment_at
    act(people["counter"], dossier, "forward", MONDAY)
    act(people["specialist"], dossier, "claim", MONDAY)
    with pytest.raises(ValidationFailed) as missing:
        act(people["specialist"], dossier, "request_supplement", MONDAY, reason="Thiếu giấy tờ")
    assert "items" in missing.value.detail
    at = MONDAY + dt.timedelta(hours=1)
    act(people["specialist"], dossier, "request_supplement", at, items=["Bản sao CCCD của cha"], reason="Thiếu")
    dossier.refresh_from_db()
    assert dossier.status == Status.WAITING_SUPPLEMENT and dossier.paused_at == at and dossier.supplement_count == 1
    notice = Notice.objects.get(dossier=dossier)
    assert notice.kind == "supplement" and notice.items == ["Bản sao CCCD của cha"]
    assert deadline_state(dossier=dossier, now=at) == "paused"
    # Only resuming is possible; the counter (where the applicant brings it) or the specialist may resume.
    assert can(people["specialist"], dossier, at) == ["resume"]
    assert can(people["counter"], dossier, at) == ["resume"]
    task_due = dossier.current_task.due_at
    back = MONDAY + dt.timedelta(days=2)  # Wednesday 08:00: two working days later
    act(people["counter"], dossier, "resume", back)
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS and dossier.paused_at is None
    assert dossier.appointment_at > appointment  # the waiting time did not count against the agency
    assert dossier.current_task.due_at > task_due
    assert Notice.objects.get(dossier=dossier).answered_at == back


def test_apology_only_before_the_deadline_and_once(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    act(people["counter"], dossier, "forward", MONDAY)
    act(people["specialist"], dossier, "claim", MONDAY)
    dossier.refresh_from_db()
    old = dossier.appointment_at
    after = old + dt.timedelta(minutes=1)
    assert "apologise" not in can(people["specialist"], dossier, after)
    with pytest.raises(ValidationFailed):
        act(people["specialist"], dossier, "apologise", MONDAY, reason="Cần xác minh", extra_days=0)
    act(people["specialist"], dossier, "apologise", MONDAY, reason="Cần xác minh", extra_days=3)
    dossier.refresh_from_db()
    assert dossier.original_appointment_at == old and dossier.appointment_at > old
    assert "apologise" not in can(people["specialist"], dossier, MONDAY)
    with pytest.raises(PermissionDenied):
        act(people["specialist"], dossier, "apologise", MONDAY, reason="Lần nữa", extra_days=2)


def test_send_back_returns_to_whoever_handled_the_step(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    act(people["counter"], dossier, "forward", MONDAY)
    act(people["specialist"], dossier, "claim", MONDAY)
    act(people["specialist"], dossier, "forward", MONDAY)
    act(people["leader"], dossier, "claim", MONDAY)
    act(people["leader"], dossier, "send_back", MONDAY, to_step="xu_ly", note="Bổ sung ý kiến")
    dossier.refresh_from_db()
    assert dossier.current_task.step.key == "xu_ly" and dossier.current_task.assignee == people["specialist"]
    with pytest.raises(ValidationFailed):
        act(people["specialist"], dossier, "send_back", MONDAY, to_step="ky_duyet")  # not an earlier step


@pytest.mark.parametrize(("action", "status", "kind"), [("refuse", Status.STOPPED, "refusal"),
                                                        ("stop", Status.WITHDRAWN, "stop")])  # fmt: skip
def test_refuse_and_stop_close_the_dossier_with_a_notice(people, action, status, kind):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    act(people["counter"], dossier, "forward", MONDAY)
    act(people["specialist"], dossier, "claim", MONDAY)
    with pytest.raises(ValidationFailed):
        act(people["specialist"], dossier, action, MONDAY, reason="  ")
    act(people["specialist"], dossier, action, MONDAY, reason="Người yêu cầu rút hồ sơ")
    dossier.refresh_from_db()
    assert dossier.status == status and dossier.current_task is None
    assert Notice.objects.get(dossier=dossier).kind == kind
    assert can(people["specialist"], dossier, MONDAY) == []


def test_a_wrong_file_changes_nothing(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    before = Event.objects.count()
    with pytest.raises(ValidationFailed):
        act(
            people["counter"],
            dossier,
            "forward",
            MONDAY,
            files=[SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")],
        )
    dossier.refresh_from_db()
    assert dossier.current_task.step.position == 1 and Event.objects.count() == before
    assert not dossier.attachments.exists()


def test_lateness_is_attributed_to_the_step_and_officer(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    act(people["counter"], dossier, "forward", MONDAY)
    act(people["specialist"], dossier, "claim", MONDAY)
    task = Dossier.objects.get(pk=dossier.pk).current_task
    act(people["specialist"], dossier, "forward", task.due_at + dt.timedelta(hours=1))
    task.refresh_from_db()
    assert task.late is True and task.finished_by == people["specialist"] and task.department == handling_department()


def test_a_dossier_stays_on_the_version_it_started_with(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    old_version = dossier.workflow_version_id
    publish_standard()  # nothing missing: no change
    from workflows.standard import standard_workflows_publish

    standard_workflows_publish(only_missing=False, procedure=dossier.procedure, agency=dossier.agency)
    assert Version.objects.get(pk=old_version).state == Version.State.RETIRED
    act(people["counter"], dossier, "forward", MONDAY)
    dossier.refresh_from_db()
    assert dossier.workflow_version_id == old_version and dossier.current_task.step.version_id == old_version
    assert dossier_receive(officer=people["counter"], intake=intake()).workflow_version_id != old_version


def test_assign_by_the_department_head(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    act(people["counter"], dossier, "forward", MONDAY)
    with pytest.raises(ValidationFailed):
        act(people["head"], dossier, "assign", MONDAY, assignee_id=people["outsider"].pk)
    act(people["head"], dossier, "assign", MONDAY, assignee_id=people["specialist2"].pk)
    dossier.refresh_from_db()
    assert dossier.current_task.assignee == people["specialist2"]
    with pytest.raises(PermissionDenied):
        act(people["specialist"], dossier, "assign", MONDAY, assignee_id=people["specialist"].pk)


def test_work_queues_and_their_query_counts(people, django_assert_num_queries):  # type: ignore[no-untyped-def]
    dossiers = [receive(people) for _ in range(3)]
    for d in dossiers:
        act(people["counter"], d, "forward", MONDAY)
    act(people["specialist"], dossiers[0], "claim", MONDAY)
    act(people["specialist"], dossiers[1], "claim", MONDAY)
    act(people["specialist"], dossiers[1], "request_supplement", MONDAY, items=["Tờ khai"], reason="Thiếu")
    now, soon = MONDAY, MONDAY + dt.timedelta(days=1)

    def codes(who, queue):  # type: ignore[no-untyped-def]
        with django_assert_num_queries(1):
            tasks = list(queue_tasks(officer=who, filters=QueueFilter(queue=queue), now=now, soon=soon))
        return {t.dossier.code for t in tasks}

    assert codes(people["specialist"], "mine") == {dossiers[0].code}
    assert codes(people["specialist2"], "department") == {dossiers[2].code}
    assert codes(people["specialist"], "waiting") == {dossiers[1].code}
    assert codes(people["specialist"], "overdue") == set()
    late = dossiers[0].tasks.get(finished_at__isnull=True).due_at + dt.timedelta(minutes=1)
    with django_assert_num_queries(1):
        late_tasks = list(
            queue_tasks(officer=people["head"], filters=QueueFilter(queue="overdue"), now=late, soon=late)
        )
    assert {t.dossier.code for t in late_tasks} >= {dossiers[0].code}
    with django_assert_num_queries(2):
        counts = queue_counts(officer=people["specialist"], now=now, soon=soon)
    assert counts["mine"] == 1 and counts["department"] == 1 and counts["waiting"] == 1
    assert codes(people["outsider"], "department") == set()


def test_api_lists_and_takes_actions(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    client = APIClient()
    client.force_authenticate(people["counter"].user)
    listed = client.get(f"/api/v1/dossiers/{dossier.code}/actions/").json()
    assert [a["action"] for a in listed["actions"]] == ["forward", "stop"]
    assert listed["actions"][0]["to_steps"] == [{"key": "xu_ly", "name": "Thẩm định, xử lý hồ sơ"}]
    task = listed["task"]
    moved = client.post(f"/api/v1/dossiers/{dossier.code}/actions/forward/", {"task": task}, format="json")
    assert moved.status_code == 200 and moved.json()["status"] == Status.IN_PROCESS
    again = client.post(f"/api/v1/dossiers/{dossier.code}/actions/forward/", {"task": task}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "dossier_moved"
    assert "cán bộ khác" in again.json()["message"]
    new_task = moved.json()["current_task"]
    denied = client.post(f"/api/v1/dossiers/{dossier.code}/actions/claim/", {"task": new_task}, format="json")
    assert denied.status_code == 403 and denied.json()["code"] == "action_not_allowed"
    unknown = client.post(f"/api/v1/dossiers/{dossier.code}/actions/explode/", {"task": new_task}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_action"
    missing = client.post(f"/api/v1/dossiers/{dossier.code}/actions/forward/", {}, format="json")
    assert missing.status_code == 400
    other = APIClient()
    other.force_authenticate(people["outsider"].user)
    assert other.get(f"/api/v1/dossiers/{dossier.code}/actions/").status_code == 404
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/dossiers/{code}/actions/{action}/" in schema


def test_the_standard_workflows_pass_the_publishing_check(people):  # type: ignore[no-untyped-def]
    version = Version.objects.filter(state=Version.State.PUBLISHED).first()
    steps = list(version.steps.order_by("position"))
    assert [s.kind for s in steps] == [Step.Kind.COUNTER, Step.Kind.PROCESS, Step.Kind.SIGN, Step.Kind.COUNTER]
    from workflows.services import version_check

    assert version_check(version=version).ok


def test_an_inter_agency_leg_is_handed_over_and_received_back(db):  # type: ignore[no-untyped-def]
    """UBND tỉnh decides; its office (Văn phòng UBND tỉnh) examines the file: a leg under the same code."""
    publish_standard(procedure_code="2.000890", agency_key="ubnd_tinh")
    from organizations.models import Agency

    ubnd = Agency.objects.get(key="ubnd_tinh")
    counter = officer(agency_key="ttpvhcc", username="motcua.ttpvhcc")
    dossier = dossier_receive(officer=counter, intake=intake(procedure_code="2.000890", agency=ubnd), now=MONDAY)
    steps = list(dossier.workflow_version.steps.order_by("position"))
    office = steps[1].agency
    assert office.key == "vp_ubnd" and steps[1].department.agency == office
    examiner = staff("cv.vp", role=Role.SPECIALIST, agency_key="vp_ubnd", department=steps[1].department)
    head = staff("tp.vp", role=Role.DEPARTMENT_HEAD, agency_key="vp_ubnd", department=steps[1].department)
    leader = staff("ld.tinh", role=Role.AGENCY_LEADER, agency_key="ubnd_tinh")
    assert can(counter, dossier, MONDAY) == ["hand_over", "stop"]
    with pytest.raises(NotFound):
        can(examiner, dossier, MONDAY)  # before the hand-over the office does not see the dossier
    act(counter, dossier, "hand_over", MONDAY)
    assert can(examiner, dossier, MONDAY) == ["claim"]
    act(examiner, dossier, "claim", MONDAY)
    act(examiner, dossier, "forward", MONDAY)
    act(head, dossier, "claim", MONDAY)
    act(head, dossier, "forward", MONDAY, note="Trình UBND tỉnh")
    # Back at the lead agency: the leader receives it back before acting on it.
    assert can(leader, dossier, MONDAY) == ["receive_back", "assign"]
    act(leader, dossier, "receive_back", MONDAY)
    assert "record_result" in can(leader, dossier, MONDAY)
    dossier.refresh_from_db()
    assert dossier.public_departments == [steps[1].department.name]
    actions = list(Event.objects.filter(dossier=dossier).order_by("at", "id").values_list("action", flat=True))
    assert actions == ["receive", "hand_over", "claim", "forward", "claim", "forward", "receive_back"]
