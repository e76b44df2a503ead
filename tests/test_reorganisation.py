"""Reorganisations: two communes merge into a new one with dossiers in every state; nothing is lost, the open ones
move with their codes and deadlines, the closed ones keep their history; the checklist and its bulk copy."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q

from core.errors import Conflict, ValidationFailed
from core.models import OutboxMessage
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import CLOSED, Dossier, Event, Status, Task
from dossiers.online import dossier_accept_online
from dossiers.reorganisation import reorganisation_apply, reorganisations_due
from dossiers.services import dossier_receive, dossier_refuse_at_intake
from organizations.models import Agency, AgencyName, Counter, Department, Reorganisation, Role, Staff
from organizations.reorganisation import (
    NewAgency,
    Part,
    department_move_record,
    dissolve_record,
    merge_record,
    rename_record,
    split_record,
)
from organizations.selectors import agency_current, agency_name_on
from procedures.models import Competence
from workflows.models import ChecklistItem, Version
from workflows.selectors import checklist_for, published_version
from workflows.services import checklist_copy

from .citizen_helpers import citizen_user, submitted
from .dossier_helpers import BIRTH, PDF, intake, officer
from .workflow_helpers import handling_department, publish_standard, staff

VN = dt.timezone(dt.timedelta(hours=7))
MONDAY = dt.datetime(2026, 11, 9, 8, 0, tzinfo=VN)
EFFECTIVE = dt.date(2026, 11, 10)
APPLIED = dt.datetime(2026, 11, 10, 6, 0, tzinfo=VN)
A, B = "ubnd_30307", "ubnd_30316"


def act(who, dossier, action, at, **data):  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    return dossier_act(
        officer=who, code=fresh.code, action=action, task_id=fresh.current_task_id, data=ActionInput(**data), now=at
    )


def people_of(agency_key: str, suffix: str) -> dict[str, Staff]:
    publish_standard(agency_key=agency_key)
    department = handling_department(agency_key=agency_key)
    return {
        "counter": officer(agency_key=agency_key, username=f"mc.{suffix}"),
        "specialist": staff(f"cv.{suffix}", role=Role.SPECIALIST, agency_key=agency_key, department=department),
        "head": staff(f"tp.{suffix}", role=Role.DEPARTMENT_HEAD, agency_key=agency_key, department=department),
        "leader": staff(f"ld.{suffix}", role=Role.AGENCY_LEADER, agency_key=agency_key),
    }


def receive(people, agency_key: str, at: dt.datetime) -> Dossier:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return dossier_receive(
            officer=people["counter"], intake=intake(agency=Agency.objects.get(key=agency_key)), now=at
        )


def dossiers_in_every_state(people, agency_key: str) -> dict[str, Dossier]:  # type: ignore[no-untyped-def]
    t = MONDAY
    made: dict[str, Dossier] = {}
    with time_machine.travel(t, tick=False):
        made["submitted"] = submitted(citizen_user(f"0891950001{len(agency_key) % 10}{agency_key[-1]}"),
                                      agency_key=agency_key)  # fmt: skip
    made["at_counter"] = receive(people, agency_key, t)
    made["in_department"] = receive(people, agency_key, t)
    act(people["counter"], made["in_department"], "forward", t + dt.timedelta(minutes=5))
    made["claimed"] = receive(people, agency_key, t)
    act(people["counter"], made["claimed"], "forward", t + dt.timedelta(minutes=5))
    act(people["specialist"], made["claimed"], "claim", t + dt.timedelta(minutes=10))
    made["supplement"] = receive(people, agency_key, t)
    act(people["counter"], made["supplement"], "forward", t + dt.timedelta(minutes=5))
    act(people["specialist"], made["supplement"], "claim", t + dt.timedelta(minutes=10))
    act(people["specialist"], made["supplement"], "request_supplement", t + dt.timedelta(minutes=15),
        items=["Bản sao CCCD của cha"], reason="Thiếu giấy tờ")  # fmt: skip
    made["payment"] = receive(people, agency_key, t)
    act(people["counter"], made["payment"], "forward", t + dt.timedelta(minutes=5))
    act(people["specialist"], made["payment"], "claim", t + dt.timedelta(minutes=10))
    act(people["specialist"], made["payment"], "request_payment", t + dt.timedelta(minutes=15), items=["Lệ phí"],
        reason="Chưa nộp lệ phí")  # fmt: skip
    for state, action in (("withdrawn", "stop"), ("refused_in_process", "refuse")):
        made[state] = receive(people, agency_key, t)
        act(people["counter"], made[state], "forward", t + dt.timedelta(minutes=5))
        act(people["specialist"], made[state], "claim", t + dt.timedelta(minutes=10))
        act(people["specialist"], made[state], action, t + dt.timedelta(minutes=15), reason="Theo đề nghị")
    made["at_leader"] = receive(people, agency_key, t)
    act(people["counter"], made["at_leader"], "forward", t + dt.timedelta(minutes=5))
    act(people["specialist"], made["at_leader"], "claim", t + dt.timedelta(minutes=10))
    act(people["specialist"], made["at_leader"], "forward", t + dt.timedelta(minutes=20))
    act(people["leader"], made["at_leader"], "claim", t + dt.timedelta(minutes=30))
    made["resolved"] = receive(people, agency_key, t)
    act(people["counter"], made["resolved"], "forward", t + dt.timedelta(minutes=5))
    act(people["specialist"], made["resolved"], "claim", t + dt.timedelta(minutes=10))
    act(people["specialist"], made["resolved"], "forward", t + dt.timedelta(minutes=20))
    act(people["leader"], made["resolved"], "claim", t + dt.timedelta(minutes=30))
    act(people["leader"], made["resolved"], "record_result", t + dt.timedelta(minutes=40),
        files=[SimpleUploadedFile("kq.pdf", PDF, "application/pdf")])  # fmt: skip
    act(people["leader"], made["resolved"], "approve", t + dt.timedelta(minutes=45))
    made["returned"] = receive(people, agency_key, t)
    act(people["counter"], made["returned"], "forward", t + dt.timedelta(minutes=5))
    act(people["specialist"], made["returned"], "claim", t + dt.timedelta(minutes=10))
    act(people["specialist"], made["returned"], "forward", t + dt.timedelta(minutes=20))
    act(people["leader"], made["returned"], "claim", t + dt.timedelta(minutes=30))
    act(people["leader"], made["returned"], "record_result", t + dt.timedelta(minutes=40),
        files=[SimpleUploadedFile("kq.pdf", PDF, "application/pdf")])  # fmt: skip
    act(people["leader"], made["returned"], "approve", t + dt.timedelta(minutes=45))
    act(people["counter"], made["returned"], "claim", t + dt.timedelta(minutes=50))
    act(people["counter"], made["returned"], "return_result", t + dt.timedelta(minutes=55))
    with time_machine.travel(t, tick=False):
        made["refused"] = dossier_refuse_at_intake(
            officer=people["counter"], intake=intake(agency=Agency.objects.get(key=agency_key)), reasons="Thiếu tờ khai"
        )
    return made


def new_agency() -> NewAgency:
    old = Agency.objects.get(key=A)
    return NewAgency(
        key="ubnd_lx_moi",
        identifier="000.99.30.H01",
        name="Ủy ban nhân dân phường Long Xuyên (mới)",
        short_name="UBND phường Long Xuyên (mới)",
        level=Agency.Level.COMMUNE,
        kind=Agency.Kind.PEOPLES_COMMITTEE,
        unit=old.unit,
        parent=old.parent,
    )


def snapshot(dossiers: list[Dossier]) -> dict[int, tuple]:  # type: ignore[type-arg]
    rows = Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).values_list(
        "pk", "code", "status", "appointment_at", "received_at", "register_number"
    )
    return {row[0]: row[1:] for row in rows}


@pytest.fixture
def merged(db):  # type: ignore[no-untyped-def]
    people_a, people_b = people_of(A, "a"), people_of(B, "b")
    dossiers_a = dossiers_in_every_state(people_a, A)
    dossiers_b = dossiers_in_every_state(people_b, B)
    everything = [*dossiers_a.values(), *dossiers_b.values()]
    before = snapshot(everything)
    due = {t.pk: t.due_at for t in Task.objects.filter(dossier__in=everything, finished_at__isnull=True)}
    outbox_before = OutboxMessage.objects.count()
    reorganisation = merge_record(
        sources=[Agency.objects.get(key=A), Agency.objects.get(key=B)],
        effective_date=EFFECTIVE,
        decision="Nghị quyết số 99/NQ-HĐND ngày 01/11/2026",
        new=new_agency(),
    )
    report = reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    return {
        "a": dossiers_a, "b": dossiers_b, "people_a": people_a, "people_b": people_b, "before": before, "due": due,
        "report": report, "reorganisation": reorganisation, "outbox_before": outbox_before, "all": everything,
    }  # fmt: skip


def test_merging_two_agencies_moves_every_open_dossier_and_keeps_every_closed_one(merged):  # type: ignore[no-untyped-def]
    new = Agency.objects.get(key="ubnd_lx_moi")
    old_a, old_b = Agency.objects.get(key=A), Agency.objects.get(key=B)
    # Nothing lost: every dossier is still there with its code, status, appointment and register entry.
    assert snapshot(merged["all"]) == merged["before"]
    for group, old in ((merged["a"], old_a), (merged["b"], old_b)):
        for state, dossier in group.items():
            dossier = Dossier.objects.get(pk=dossier.pk)
            if dossier.status in CLOSED:
                assert dossier.agency == old and dossier.original_agency is None, state
                assert not Event.objects.filter(dossier=dossier, action="reorganise").exists(), state
                continue
            assert dossier.agency == new, state
            # Its receipt and register entry stay the former agency's; an online one not accepted yet has neither.
            assert dossier.original_agency == (None if state == "submitted" else old), state
            event = Event.objects.get(dossier=dossier, action="reorganise")
            assert old.name in event.note and new.name in event.note and "99/NQ-HĐND" in event.note
            assert event.status_from == event.status_to == dossier.status
            # The national portal learns it through the outbox, written in the same transaction.
            assert OutboxMessage.objects.filter(key=f"d{dossier.pk}", operation="progress", ref=event.pk).exists()
            # Its steps are now the successor's: a copy of the version it ran on, never offered to new dossiers.
            if dossier.workflow_version_id:
                assert dossier.workflow_version.workflow.agency == new
                assert dossier.workflow_version.state == Version.State.RETIRED
                assert dossier.current_task.agency == new
                if dossier.current_task.department_id:
                    assert dossier.current_task.department.agency == new
            assert dossier.counter.agency == new and dossier.counter.is_active, state
    # Open tasks keep their deadlines.
    for task in Task.objects.filter(pk__in=merged["due"]):
        assert task.due_at == merged["due"][task.pk]
    # Assignments follow the officers, who now work for the new agency in the successor department.
    claimed = Dossier.objects.get(pk=merged["a"]["claimed"].pk)
    specialist = Staff.objects.get(pk=merged["people_a"]["specialist"].pk)
    assert specialist.agency == new and specialist.department.agency == new
    assert claimed.current_task.assignee == specialist
    assert claimed.current_task.department == specialist.department
    # Both communes' departments of the same kind became one.
    assert Staff.objects.get(pk=merged["people_b"]["specialist"].pk).department == specialist.department
    # The old agencies ended on the date, with their counters; their history is intact.
    assert old_a.valid_until == old_b.valid_until == EFFECTIVE
    assert not Counter.objects.filter(agency__in=[old_a, old_b], is_active=True).exists()
    assert Counter.objects.filter(agency=old_a).first().successor.agency == new
    assert not Department.objects.filter(agency__in=[old_a, old_b], valid_until__isnull=True).exists()
    assert agency_current(identifier=old_a.identifier) == new
    report = merged["report"]
    # Every status a dossier can have is in the set, open and closed.
    statuses = set(Dossier.objects.filter(pk__in=[d.pk for d in merged["all"]]).values_list("status", flat=True))
    assert statuses == set(Status.values)
    assert sum(report.dossiers_moved.values()) == 16  # eight open dossiers in each commune
    assert report.ended == sorted([old_a.name, old_b.name]) and report.begun == [new.name]


def test_moved_dossiers_continue_and_are_returned_on_time(merged):  # type: ignore[no-untyped-def]
    t = dt.datetime(2026, 11, 10, 7, 0, tzinfo=VN)  # the appointment is at 7:30 (one working day)
    new_counter = Staff.objects.get(pk=merged["people_a"]["counter"].pk)
    specialist = Staff.objects.get(pk=merged["people_a"]["specialist"].pk)
    leader_b = Staff.objects.get(pk=merged["people_b"]["leader"].pk)
    dossier = merged["a"]["claimed"]
    act(specialist, dossier, "forward", t)
    act(leader_b, dossier, "claim", t + dt.timedelta(minutes=3))  # the other commune's leader now leads both
    act(leader_b, dossier, "record_result", t + dt.timedelta(minutes=6),
        files=[SimpleUploadedFile("kq.pdf", PDF, "application/pdf")])  # fmt: skip
    act(leader_b, dossier, "approve", t + dt.timedelta(minutes=9))
    act(new_counter, dossier, "claim", t + dt.timedelta(minutes=12))
    act(new_counter, dossier, "return_result", t + dt.timedelta(minutes=15))
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.status == Status.RETURNED and dossier.returned_at <= dossier.appointment_at
    assert Task.objects.filter(dossier=dossier, finished_by=leader_b).exists()
    # The resolved one waiting at the closed counter is returned at its successor counter.
    resolved = merged["b"]["resolved"]
    counter_b = Staff.objects.get(pk=merged["people_b"]["counter"].pk)
    act(counter_b, resolved, "claim", t)
    act(counter_b, resolved, "return_result", t + dt.timedelta(minutes=5))
    assert Dossier.objects.get(pk=resolved.pk).status == Status.RETURNED
    # The online dossier waits for the new agency's counter, which accepts it.
    online = merged["a"]["submitted"]
    task_id = Dossier.objects.get(pk=online.pk).current_task_id
    accepted = dossier_accept_online(officer=new_counter, code=online.code, task_id=task_id, now=t)
    assert accepted.status == Status.ACCEPTED and accepted.code == online.code


def test_closed_dossiers_keep_their_agency_and_receipts_their_names(merged):  # type: ignore[no-untyped-def]
    from receipts import services as receipts

    old_a = Agency.objects.get(key=A)
    returned = Dossier.objects.get(pk=merged["a"]["returned"].pk)
    assert returned.agency == old_a and returned.code.startswith(old_a.identifier)
    # A moved dossier's receipt, printed again, is the one issued that day: the former agency's name and code.
    moved = Dossier.objects.get(pk=merged["a"]["at_counter"].pk)
    html = receipts.form1_html(dossier=moved)
    assert old_a.name.upper() in html.upper() and moved.code in html
    assert "Long Xuyên (mới)" not in html


def test_the_new_agency_gets_its_checklist_and_copies_the_old_workflows(merged):  # type: ignore[no-untyped-def]
    new = Agency.objects.get(key="ubnd_lx_moi")
    competences = Competence.objects.valid_on(EFFECTIVE).filter(agency=new)
    assert competences.count() == Competence.objects.filter(agency__key=A).count()
    items = ChecklistItem.objects.filter(agency=new)
    assert items.count() == competences.count()
    assert set(items.values_list("reason", flat=True)) == {ChecklistItem.Reason.NEW_AGENCY}
    birth = items.get(procedure__code=BIRTH)
    assert birth.source_agency.key in (A, B)
    # New dossiers wait for the new agency's own configuration.
    assert published_version(procedure_id=birth.procedure_id, agency_id=new.pk) is None
    admin = staff("qt.moi", role=Role.AGENCY_ADMIN, agency_key="ubnd_lx_moi")
    assert checklist_for(actor=admin, open_only=True).count() == items.count()
    other_admin = staff("qt.khac", role=Role.AGENCY_ADMIN, agency_key="ubnd_30292")
    assert checklist_for(actor=other_admin).count() == 0
    with time_machine.travel(dt.datetime(2026, 11, 10, 9, 0, tzinfo=VN), tick=False):
        report = checklist_copy(actor=admin, agency=new, item_ids=[birth.pk], publish=True)
        assert [v.workflow.procedure.code for v in report.published] == [BIRTH], report.problems
        version = published_version(procedure_id=birth.procedure_id, agency_id=new.pk)
        steps = list(version.steps.select_related("department"))
        assert all(s.agency_id == new.pk for s in steps)
        assert all(s.department.agency_id == new.pk for s in steps if s.department_id)
        birth.refresh_from_db()
        assert birth.done_at is not None and birth.version_id == version.pk and birth.done_by == admin.user
        # Another agency's administrator cannot run the tool on it.
        with pytest.raises(Exception):  # noqa: B017 - PermissionDenied from the designer's check
            checklist_copy(actor=other_admin, agency=new)
        # A new dossier of the new agency carries the new identifier.
        counter = Staff.objects.get(pk=merged["people_a"]["counter"].pk)
        fresh = dossier_receive(
            officer=counter, intake=intake(agency=new), now=dt.datetime(2026, 11, 10, 9, 0, tzinfo=VN)
        )
    assert fresh.code.startswith("000.99.30.H01-261110-") and fresh.workflow_version == version


def test_applying_twice_or_before_the_date_is_refused(db):  # type: ignore[no-untyped-def]
    reorganisation = merge_record(
        sources=[Agency.objects.get(key=A)],
        target=Agency.objects.get(key=B),
        effective_date=EFFECTIVE,
        decision="Quyết định số 1/QĐ-UBND",
    )
    with pytest.raises(Conflict):
        reorganisation_apply(reorganisation_id=reorganisation.pk, now=MONDAY)
    assert Agency.objects.get(key=A).valid_until is None
    assert reorganisations_due(today=MONDAY.date()) == []
    assert reorganisations_due(today=EFFECTIVE) == [reorganisation.pk]
    reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    with pytest.raises(Conflict):
        reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)


def test_merging_into_an_agency_that_keeps_its_name(db):  # type: ignore[no-untyped-def]
    people_a = people_of(A, "a")
    open_one = receive(people_a, A, MONDAY)
    target = Agency.objects.get(key=B)
    moved_in = set(Competence.objects.filter(agency__key=A).values_list("procedure_id", flat=True))
    own = set(Competence.objects.filter(agency=target).values_list("procedure_id", flat=True))
    reorganisation = merge_record(
        sources=[Agency.objects.get(key=A)], target=target, effective_date=EFFECTIVE, decision="QĐ 2/QĐ-UBND"
    )
    reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    target.refresh_from_db()
    assert target.valid_until is None and target.name.startswith("Ủy ban nhân dân")
    assert Dossier.objects.get(pk=open_one.pk).agency == target
    # Only what moved in (and was not already the target's) is on its checklist: here the same catalogue, so none,
    # except what uses a department that is gone.
    items = ChecklistItem.objects.filter(agency=target)
    assert set(items.values_list("procedure_id", flat=True)) <= (moved_in - own) | set(
        items.filter(reason=ChecklistItem.Reason.DEPARTMENT_CHANGED).values_list("procedure_id", flat=True)
    )


def test_bad_input_records_nothing(db):  # type: ignore[no-untyped-def]
    before = Reorganisation.objects.count(), Agency.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        merge_record(sources=[Agency.objects.get(key=A)], effective_date=EFFECTIVE, decision="", new=None)
    assert {"decision", "target"} <= set(caught.value.detail)
    bad = new_agency()
    bad.identifier = "abc def"
    with pytest.raises(ValidationFailed) as caught:
        merge_record(sources=[Agency.objects.get(key=A)], effective_date=EFFECTIVE, decision="QĐ", new=bad)
    assert "identifier" in caught.value.detail
    assert (Reorganisation.objects.count(), Agency.objects.count()) == before


def test_rename_keeps_the_old_name_for_its_time_and_the_old_identifier_finds_it(db):  # type: ignore[no-untyped-def]
    agency = Agency.objects.get(key="stp")
    old_name, old_identifier = agency.name, agency.identifier
    reorganisation = rename_record(
        agency=agency, effective_date=EFFECTIVE, decision="QĐ 3/QĐ-UBND", new_name="Sở Tư pháp và Pháp chế",
        new_identifier="000.00.98.H01",
    )  # fmt: skip
    reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    agency.refresh_from_db()
    assert agency.name == "Sở Tư pháp và Pháp chế" and agency.identifier == "000.00.98.H01"
    assert agency_name_on(agency=agency, day=MONDAY.date()) == (old_name, old_identifier)
    assert agency_name_on(agency=agency, day=EFFECTIVE) == (agency.name, agency.identifier)
    assert agency_current(identifier=old_identifier) == agency
    assert AgencyName.objects.filter(agency=agency).count() == 1


def test_split_sends_each_procedure_with_its_department(db):  # type: ignore[no-untyped-def]
    source = Agency.objects.get(key=A)
    kinds = list(source.departments.values_list("code", "kind"))
    assert len(kinds) >= 2
    first, second = Agency.objects.get(key=B), Agency.objects.get(key="ubnd_30292")
    code, kind = kinds[1]
    reorganisation = split_record(
        source=source,
        parts=[Part(successor=first), Part(successor=second, department_codes=[code])],
        effective_date=EFFECTIVE,
        decision="QĐ 4/QĐ-UBND",
    )
    reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    moved = Competence.objects.filter(agency=source, valid_until=EFFECTIVE)
    for competence in moved:
        expected = second if competence.department_kind == kind else first
        assert (
            Competence.objects.valid_on(EFFECTIVE)
            .filter(agency=expected, procedure_id=competence.procedure_id)
            .exists()
        ), competence.procedure_id
    assert not Competence.objects.valid_on(EFFECTIVE).filter(agency=source).exists()
    assert not Department.objects.filter(Q(agency=source), Q(valid_until__isnull=True)).exists()


def test_a_moved_department_takes_its_procedures_officers_and_open_dossiers(db):  # type: ignore[no-untyped-def]
    from workflows.standard import standard_workflows_publish

    source, to = Agency.objects.get(key="syt"), Agency.objects.get(key="snv")
    moving = Department.objects.get(agency=source, code="bao_tro_xa_hoi")
    # One of the source's procedures is handled by the department that moves.
    competence = Competence.objects.filter(agency=source).select_related("procedure").first()
    Competence.objects.filter(pk=competence.pk).update(department_kind=moving.kind)
    procedure = competence.procedure
    standard_workflows_publish(procedure=procedure, agency=source)
    counter = Counter.objects.get(agency__key="ttpvhcc", code="syt")
    desk = staff("mc.syt", role=Role.ONE_STOP_OFFICER, agency_key="ttpvhcc", counter=counter)
    specialist = staff("cv.btxh", role=Role.SPECIALIST, agency_key="syt", department=moving)
    with time_machine.travel(MONDAY, tick=False):
        dossier = dossier_receive(officer=desk, intake=intake(procedure_code=procedure.code, agency=source), now=MONDAY)
    act(desk, dossier, "forward", MONDAY + dt.timedelta(minutes=5))
    dossier.refresh_from_db()
    assert dossier.current_task.department == moving
    act(specialist, dossier, "claim", MONDAY + dt.timedelta(minutes=10))
    due = Task.objects.get(pk=Dossier.objects.get(pk=dossier.pk).current_task_id).due_at
    reorganisation = department_move_record(department=moving, to=to, effective_date=EFFECTIVE, decision="QĐ 5/QĐ-UBND")
    reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    moving.refresh_from_db()
    new_department = Department.objects.get(agency=to, valid_from=EFFECTIVE, kind=moving.kind)
    assert moving.valid_until == EFFECTIVE and new_department.name == moving.name
    source.refresh_from_db()
    assert source.valid_until is None  # the agency itself carries on
    assert Competence.objects.valid_on(EFFECTIVE).filter(agency=to, procedure=procedure).exists()
    assert not Competence.objects.valid_on(EFFECTIVE).filter(agency=source, procedure=procedure).exists()
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.agency == to and dossier.original_agency == source
    task = dossier.current_task
    assert task.department == new_department and task.due_at == due
    specialist.refresh_from_db()
    assert specialist.agency == to and specialist.department == new_department
    assert task.assignee == specialist  # the officer moved with the department: the task stays theirs
    item = ChecklistItem.objects.get(agency=to, procedure=procedure)
    assert item.reason == ChecklistItem.Reason.MOVED_IN and item.source_agency == source


def test_dissolving_an_agency_with_open_dossiers_and_no_successor_changes_nothing(db):  # type: ignore[no-untyped-def]
    people_a = people_of(A, "a")
    open_one = receive(people_a, A, MONDAY)
    reorganisation = dissolve_record(
        agency=Agency.objects.get(key=A), effective_date=EFFECTIVE, decision="QĐ 6/QĐ-UBND"
    )
    with pytest.raises(ValidationFailed) as caught:
        reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    assert open_one.code in caught.value.message
    assert Agency.objects.get(key=A).valid_until is None
    assert Competence.objects.valid_on(EFFECTIVE).filter(agency__key=A).exists()
    assert Reorganisation.objects.get(pk=reorganisation.pk).state == Reorganisation.State.PLANNED
    assert Dossier.objects.get(pk=open_one.pk).agency.key == A


def test_a_former_identifier_still_receives_for_the_successor(merged):  # type: ignore[no-untyped-def]
    old_a = Agency.objects.get(key=A)
    counter = Staff.objects.get(pk=merged["people_a"]["counter"].pk)
    at = dt.datetime(2026, 11, 10, 9, 0, tzinfo=VN)
    with time_machine.travel(at, tick=False):
        dossier = dossier_receive(officer=counter, intake=intake(agency=old_a), now=at)
    assert dossier.agency.key == "ubnd_lx_moi" and dossier.code.startswith("000.99.30.H01-")


def test_focal_officers_pass_to_the_successor(db):  # type: ignore[no-untyped-def]
    from organizations.models import FocalOfficer

    admin = staff("dm.a", role=Role.AGENCY_ADMIN, agency_key=A)
    old = FocalOfficer.objects.create(
        agency=admin.agency, full_name="Trần Văn Đầu", phone="0912345678", id_number="089095000111",
        email="dm.a@example.vn", staff=admin, valid_from=dt.date(2025, 7, 1),
    )  # fmt: skip
    reorganisation = merge_record(
        sources=[Agency.objects.get(key=A), Agency.objects.get(key=B)],
        effective_date=EFFECTIVE,
        decision="NQ 7",
        new=new_agency(),
    )
    report = reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED)
    old.refresh_from_db()
    assert old.valid_until == EFFECTIVE and report.focal_officers_moved == 1
    carried = FocalOfficer.objects.get(agency__key="ubnd_lx_moi", valid_until__isnull=True)
    assert carried.id_number == old.id_number and carried.staff == admin
    admin.refresh_from_db()
    assert admin.agency.key == "ubnd_lx_moi" and admin.role == Role.AGENCY_ADMIN


def test_the_beat_task_applies_what_is_due_and_skips_what_cannot_be_applied(db):  # type: ignore[no-untyped-def]
    from dossiers.tasks import reorganisations_apply

    people_a = people_of(A, "a")
    receive(people_a, A, MONDAY)
    blocked = dissolve_record(agency=Agency.objects.get(key=A), effective_date=EFFECTIVE, decision="QĐ 8")
    due = rename_record(
        agency=Agency.objects.get(key="stp"), effective_date=EFFECTIVE, decision="QĐ 9", new_name="Sở Tư pháp mới"
    )
    with time_machine.travel(APPLIED, tick=False):
        assert reorganisations_apply.run() == [due.pk]
        assert reorganisations_apply.run() == []
    assert Reorganisation.objects.get(pk=blocked.pk).state == Reorganisation.State.PLANNED
    assert Agency.objects.get(key="stp").name == "Sở Tư pháp mới"
