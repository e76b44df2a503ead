"""Deadline tracking: alerts once per threshold, who is told, paused clocks, the apology flag, a constant pass."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dossiers.deadlines import ScanReport, deadline_scan
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import DeadlineAlert, Dossier, Notification, Task, Threshold
from dossiers.services import dossier_receive
from organizations.models import Agency, Department, Role

from .conftest import PASSWORD
from .dossier_helpers import BIRTH, intake, officer
from .workflow_helpers import handling_department, publish_standard, staff

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# An ordinary working week. The birth registration takes 6 working hours (target time): received on Monday at
# 08:00, its appointment is Tuesday 07:30, and the department's step (0.6 of it) ends on Monday around 13:00.
MONDAY = dt.datetime(2026, 11, 9, 8, 0, tzinfo=VN)
LONG = "2.002894"  # 20 working days at the same commune: nothing is near its deadline on the first days


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    publish_standard()
    department = handling_department()
    other = Department.objects.filter(agency=department.agency).exclude(pk=department.pk).order_by("code").first()
    assert other is not None
    return {
        "counter": officer(),
        "specialist": staff("cv.hanxl", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng"),
        "head": staff("tp.hanxl", role=Role.DEPARTMENT_HEAD, department=department, full_name="Bùi Thị Thu"),
        "leader": staff("ld.hanxl", role=Role.AGENCY_LEADER, full_name="Trương Văn Phúc"),
        "other_head": staff("tp.khac", role=Role.DEPARTMENT_HEAD, department=other, full_name="Lý Văn Khác"),
    }


def receive(people, at: dt.datetime = MONDAY, procedure_code: str = BIRTH) -> Dossier:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return dossier_receive(officer=people["counter"], intake=intake(procedure_code=procedure_code), now=at)


def act(who, dossier: Dossier, action: str, at: dt.datetime, **data) -> Dossier:  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    dossier_act(
        officer=who, code=dossier.code, action=action, task_id=fresh.current_task_id, data=ActionInput(**data), now=at
    )
    return Dossier.objects.select_related("current_task").get(pk=dossier.pk)


def in_department(people, *, claimed: bool = True, at: dt.datetime = MONDAY) -> Dossier:  # type: ignore[no-untyped-def]
    """A birth registration at the department's step, taken by the specialist unless ``claimed`` is false."""
    dossier = act(people["counter"], receive(people, at), "forward", at + dt.timedelta(minutes=5))
    if claimed:
        dossier = act(people["specialist"], dossier, "claim", at + dt.timedelta(minutes=10))
    return dossier


def scan(at: dt.datetime) -> ScanReport:
    with time_machine.travel(at, tick=False):
        return deadline_scan()


def alerts(dossier: Dossier) -> set[tuple[str, int | None]]:
    return set(DeadlineAlert.objects.filter(dossier=dossier).values_list("threshold", "task_id"))


def kinds(who) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(Notification.objects.filter(staff=who).values_list("kind", flat=True))


def test_steps_and_dossiers_are_alerted_when_due_soon_then_when_overdue(people):  # type: ignore[no-untyped-def]
    dossier = in_department(people)
    task = dossier.current_task
    assert MONDAY + dt.timedelta(hours=2) < task.due_at < MONDAY + dt.timedelta(hours=6)
    assert dossier.appointment_at == dt.datetime(2026, 11, 10, 7, 30, tzinfo=VN)
    publish_standard(procedure_code=LONG)
    calm = receive(people, procedure_code=LONG)

    first = scan(MONDAY + dt.timedelta(hours=1))
    assert (first.step_due_soon, first.step_overdue, first.dossier_due_soon, first.dossier_overdue) == (1, 0, 1, 0)
    assert alerts(dossier) == {("step_due_soon", task.pk), ("dossier_due_soon", None)}

    after_step = scan(task.due_at + dt.timedelta(minutes=1))
    assert (after_step.step_overdue, after_step.step_due_soon, after_step.dossier_due_soon) == (1, 0, 0)
    assert after_step.dossier_overdue == 0  # the appointment is tomorrow morning
    assert ("step_overdue", task.pk) in alerts(dossier)
    assert alerts(calm) == set()  # twenty working days ahead: nothing to say

    late = scan(dossier.appointment_at + dt.timedelta(minutes=1))
    assert late.dossier_overdue == 1 and late.step_overdue == 0
    assert alerts(dossier) == {
        ("step_due_soon", task.pk),
        ("step_overdue", task.pk),
        ("dossier_due_soon", None),
        ("dossier_overdue", None),
    }
    assert first.elapsed_ms > 0


def test_the_assignee_and_the_head_are_told_once_per_threshold_however_often_it_runs(people):  # type: ignore[no-untyped-def]
    dossier = in_department(people)
    due = dossier.current_task.due_at
    reports = [scan(MONDAY + dt.timedelta(hours=1, minutes=i)) for i in range(3)]
    reports += [scan(due + dt.timedelta(minutes=i + 1)) for i in range(3)]

    assert [r.notifications for r in reports] == [4, 0, 0, 2, 0, 0]  # 2 officers x (step + dossier), then 2 x step
    expected = ["dossier_due_soon", "step_due_soon", "step_overdue"]
    assert kinds(people["specialist"]) == expected
    assert kinds(people["head"]) == expected
    # Not the leader (the step has a department), not another department's head, not the counter.
    assert kinds(people["leader"]) == kinds(people["other_head"]) == kinds(people["counter"]) == []
    note = Notification.objects.get(staff=people["head"], kind=Threshold.STEP_OVERDUE)
    assert note.dossier_id == dossier.pk and note.read_at is None
    assert note.message == f"{dossier.code} — Thẩm định, xử lý hồ sơ"
    told = Notification.objects.get(staff=people["head"], kind=Threshold.DOSSIER_DUE_SOON)
    assert told.message == f"{dossier.code} — 07:30 10/11/2026"


def test_an_unassigned_step_is_told_to_the_head_only(people):  # type: ignore[no-untyped-def]
    former = staff("tp.cu", role=Role.DEPARTMENT_HEAD, department=handling_department())
    former.user.is_active = False  # a disabled account is told nothing
    former.user.save(update_fields=["is_active"])
    in_department(people, claimed=False)
    report = scan(MONDAY + dt.timedelta(hours=1))
    assert report.step_due_soon == 1 and report.notifications == 2
    assert kinds(people["head"]) == ["dossier_due_soon", "step_due_soon"]
    assert kinds(people["specialist"]) == kinds(former) == []


def test_a_head_who_holds_the_step_is_told_once(people):  # type: ignore[no-untyped-def]
    dossier = in_department(people, claimed=False)
    act(people["head"], dossier, "claim", MONDAY + dt.timedelta(minutes=15))  # heads also do their specialists' work
    assert scan(MONDAY + dt.timedelta(hours=1)).notifications == 2
    assert kinds(people["head"]) == ["dossier_due_soon", "step_due_soon"]


def test_a_step_without_department_is_told_to_the_agency_leaders(people):  # type: ignore[no-untyped-def]
    dossier = receive(people)  # at the counter's step, held by the receiving officer, due at 08:36
    report = scan(MONDAY + dt.timedelta(hours=1))
    assert (report.step_overdue, report.step_due_soon, report.dossier_due_soon) == (1, 0, 1)
    assert kinds(people["counter"]) == kinds(people["leader"]) == ["dossier_due_soon", "step_overdue"]
    assert kinds(people["head"]) == []
    assert alerts(dossier) == {("step_overdue", dossier.current_task_id), ("dossier_due_soon", None)}


def test_paused_clocks_are_not_alerted(people):  # type: ignore[no-untyped-def]
    dossier = in_department(people)
    act(
        people["specialist"],
        dossier,
        "request_supplement",
        MONDAY + dt.timedelta(minutes=30),
        items=["Tờ khai"],
        reason="Thiếu",
    )
    for day in (0, 1, 2):  # through Wednesday: both the step's deadline and the appointment have passed
        report = scan(MONDAY + dt.timedelta(days=day, hours=6))
        assert report == ScanReport(elapsed_ms=report.elapsed_ms)
    assert alerts(dossier) == set() and Notification.objects.count() == 0
    assert Dossier.objects.get(pk=dossier.pk).needs_apology_at is None
    # Once the applicant brings the supplement the clocks run again, and the scan sees them.
    thursday = MONDAY + dt.timedelta(days=3)
    act(people["counter"], dossier, "resume", thursday)
    assert scan(thursday + dt.timedelta(minutes=1)).step_due_soon == 1


def test_dossiers_near_their_appointment_are_flagged_for_the_apology_unless_it_was_issued(people):  # type: ignore[no-untyped-def]
    plain = in_department(people)
    apologised = act(
        people["specialist"], in_department(people), "apologise", MONDAY + dt.timedelta(minutes=20),
        reason="Cần xác minh", extra_days=1,
    )  # fmt: skip
    assert apologised.original_appointment_at == plain.appointment_at
    new_appointment = apologised.appointment_at
    assert new_appointment == dt.datetime(2026, 11, 11, 7, 30, tzinfo=VN)

    at = MONDAY + dt.timedelta(hours=1)
    report = scan(at)
    assert report.apology_flagged == 1
    assert Dossier.objects.get(pk=plain.pk).needs_apology_at == at
    assert Dossier.objects.get(pk=apologised.pk).needs_apology_at is None
    # A day later the new appointment is near too: alerted, but never flagged (form 4 is issued once).
    tuesday = MONDAY + dt.timedelta(days=1, hours=1)
    again = scan(tuesday)
    assert again.apology_flagged == 0 and again.dossier_due_soon == 1 and again.dossier_overdue == 1
    assert ("dossier_due_soon", None) in alerts(apologised)
    assert Dossier.objects.get(pk=apologised.pk).needs_apology_at is None
    assert Dossier.objects.get(pk=plain.pk).needs_apology_at == at  # flagged once, never moved


def test_soon_follows_each_agencys_working_hours(people):  # type: ignore[no-untyped-def]
    dossier = in_department(people)
    tuesday_evening = dt.datetime(2026, 11, 10, 18, 0, tzinfo=VN)
    # Due on Wednesday at 17:30: one working day after Tuesday 18:00 is Wednesday 17:00 in the usual hours...
    Dossier.objects.filter(pk=dossier.pk).update(appointment_at=dt.datetime(2026, 11, 20, 17, 0, tzinfo=VN))
    Task.objects.filter(pk=dossier.current_task_id).update(due_at=dt.datetime(2026, 11, 11, 17, 30, tzinfo=VN))
    assert scan(tuesday_evening).step_due_soon == 0
    # ...but Wednesday 18:00 in an agency that works until 20:00.
    Agency.objects.filter(pk=dossier.agency_id).update(working_hours=[["07:00", "11:30"], ["13:00", "20:00"]])
    assert scan(tuesday_evening).step_due_soon == 1


def test_a_pass_runs_the_same_few_queries_however_many_tasks(people, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    in_department(people)

    def queries(at: dt.datetime, expected: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert scan(at).step_due_soon == expected
        return len(ctx.captured_queries)

    one = queries(MONDAY + dt.timedelta(hours=1), 1)
    for minutes in range(5):
        in_department(people, at=MONDAY + dt.timedelta(minutes=minutes))
    assert queries(MONDAY + dt.timedelta(hours=1, minutes=1), 5) == one
    with django_assert_max_num_queries(one):
        assert scan(MONDAY + dt.timedelta(hours=1, minutes=2)).notifications == 0


def test_the_beat_task_runs_one_pass(people):  # type: ignore[no-untyped-def]
    from django.conf import settings

    from config.celery import app
    from dossiers.tasks import deadline_scan as task

    # The name beat sends is the task's (a typo on either side would leave deadlines unwatched, silently).
    assert task.name == settings.CELERY_BEAT_SCHEDULE["deadline-scan"]["task"] and task.name in app.tasks
    in_department(people)
    with time_machine.travel(MONDAY + dt.timedelta(hours=1), tick=False):
        result = task.run()
    assert result["step_due_soon"] == 1 and result["notifications"] == 4 and result["skipped"] is False


def test_the_work_page_lists_unread_notifications_and_marks_them_read(people):  # type: ignore[no-untyped-def]
    dossier = in_department(people)
    scan(MONDAY + dt.timedelta(hours=1))
    client = Client()
    assert client.login(username=people["specialist"].user.username, password=PASSWORD)
    html = client.get("/mot-cua/viec-cua-toi/").content.decode()
    assert 'data-unread="2"' in html and html.count("data-notification=") == 2
    assert '<input type="hidden" name="next" value="/mot-cua/viec-cua-toi/">' in html  # back to where it was
    assert f'href="/mot-cua/ho-so/{dossier.code}/">{dossier.code} — Thẩm định, xử lý hồ sơ</a>' in html

    note = Notification.objects.get(staff=people["specialist"], kind=Threshold.STEP_DUE_SOON)
    response = client.post(f"/mot-cua/thong-bao/{note.pk}/da-doc/", {"next": "/mot-cua/viec-cua-toi/?queue=overdue"})
    assert response.status_code == 302 and response["Location"] == "/mot-cua/viec-cua-toi/?queue=overdue"
    assert Notification.objects.get(pk=note.pk).read_at is not None
    html = client.get("/mot-cua/viec-cua-toi/").content.decode()
    assert 'data-unread="1"' in html and html.count("data-notification=") == 1
    # Someone else's notification is not found; an outside "next" is not followed.
    heads = Notification.objects.get(staff=people["head"], kind=Threshold.STEP_DUE_SOON)
    assert client.post(f"/mot-cua/thong-bao/{heads.pk}/da-doc/").status_code == 404
    assert Notification.objects.get(pk=heads.pk).read_at is None
    away = client.post(f"/mot-cua/thong-bao/{note.pk}/da-doc/", {"next": "https://example.com/"})
    assert away["Location"] == "/mot-cua/viec-cua-toi/"


def test_the_administration_shows_alerts_and_notifications_read_only(people, django_user_model):  # type: ignore[no-untyped-def]
    dossier = in_department(people)
    scan(MONDAY + dt.timedelta(hours=1))
    admin = django_user_model.objects.create_superuser("qt.hanxl", "qt@example.gov.vn", PASSWORD)
    client = Client()
    client.force_login(admin)
    for model in ("deadlinealert", "notification"):
        page = client.get(f"/quan-tri/dossiers/{model}/")
        assert page.status_code == 200 and dossier.code in page.content.decode()
        assert client.get(f"/quan-tri/dossiers/{model}/add/").status_code == 403
    alert = DeadlineAlert.objects.filter(dossier=dossier).first()
    assert alert is not None
    response = client.post(f"/quan-tri/dossiers/deadlinealert/{alert.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403 and DeadlineAlert.objects.filter(pk=alert.pk).exists()
