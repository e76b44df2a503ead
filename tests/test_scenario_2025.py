"""The 2025 scenario (docs/scenario-2025.md): the districts and departments of before 1 July 2025 built on the seeded
province and catalogue, with June dossiers in every state, then the reorganisations of that day applied. Nothing is
lost, every open dossier is at a successor, the report says what the database holds, and running it again or dry
changes nothing."""

import datetime as dt
import json
from collections import Counter as Tally
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from core.models import OutboxMessage
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import CLOSED, Dossier, Event, Status
from dossiers.reorganisation import reorganisation_apply
from dossiers.scenario_2025 import (
    agencies_before_build,
    dossiers_before_build,
    former_keys,
    reorganisations_2025_record,
)
from organizations.models import Agency, Counter, Department, Reorganisation, Staff, Succession
from organizations.selectors import agency_current
from procedures.models import Competence
from procedures.services import catalogue_load
from workflows.models import ChecklistItem, Version

from .conftest import PASSWORD

DAY = dt.date(2025, 7, 1)
APPLIED = dt.datetime(2025, 7, 1, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
SEATS = {
    "ubnd_tp_long_xuyen": "ubnd_30307",
    "ubnd_tp_chau_doc": "ubnd_30316",
    "ubnd_tp_rach_gia": "ubnd_30742",
    "ubnd_tp_phu_quoc": "ubnd_31078",
}
TO_PROVINCE = {"1.013831", "1.013870"}  # the districts' land procedures that pass to Sở Nông nghiệp và Môi trường
MERGED = {"snnptnt": "snnmt", "stnmt": "snnmt", "stttt": "skhcn"}


@pytest.fixture(autouse=True)
def quick(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Twenty staff accounts per run: a fast hasher; and the results' files in a directory of this test's own.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def expected_successor(dossier: Dossier) -> str:
    key = dossier.agency.key
    if key in MERGED:
        return MERGED[key]
    return "snnmt" if dossier.procedure.code in TO_PROVINCE else SEATS[key]


def snapshot(ids: list[int]) -> dict[int, tuple]:  # type: ignore[type-arg]
    rows = Dossier.objects.filter(pk__in=ids).values_list(
        "pk", "code", "status", "appointment_at", "received_at", "register_number", "agency_id", "counter_id"
    )
    return {row[0]: row[1:] for row in rows}


@pytest.fixture
def replayed(db):  # type: ignore[no-untyped-def]
    """The scenario step by step, with what the dossiers were before the reorganisations."""
    former, staff = agencies_before_build(password=PASSWORD)
    dossiers = dossiers_before_build(staff=staff)
    dossiers = list(Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).select_related("agency", "procedure"))
    before = snapshot([d.pk for d in dossiers])
    successors = {d.pk: expected_successor(d) for d in dossiers}
    tasks = {d.pk: (d.current_task.due_at if d.current_task_id else None) for d in dossiers}  # type: ignore[union-attr]
    reports = []
    for reorganisation in reorganisations_2025_record():
        reports.append(reorganisation_apply(reorganisation_id=reorganisation.pk, now=APPLIED))
    return {"former": former, "staff": staff, "dossiers": dossiers, "before": before, "successors": successors,
            "due": tasks, "reports": reports}  # fmt: skip


def test_the_state_before_holds_june_dossiers_in_every_state(replayed):  # type: ignore[no-untyped-def]
    dossiers = replayed["dossiers"]
    statuses = Tally(replayed["before"][d.pk][1] for d in dossiers)
    assert statuses == {
        Status.ACCEPTED: 3, Status.IN_PROCESS: 5, Status.WAITING_SUPPLEMENT: 2, Status.RESOLVED: 3,
        Status.RETURNED: 2, Status.STOPPED: 1,
    }  # fmt: skip
    for dossier in dossiers:
        code, _status, _appointment, received_at, register_number, agency_id, _counter = replayed["before"][dossier.pk]
        assert received_at.date() < DAY and received_at.year == 2025 and received_at.month == 6
        assert code.startswith(dossier.agency.identifier + "-2506") and register_number
        assert agency_id == dossier.agency_id and dossier.agency.key in former_keys()
    # The former agencies had published workflows, dated before the June dossiers.
    versions = Version.objects.filter(workflow__agency__key__in=former_keys(), number=1)
    assert versions.count() == 4 * 7 + 1 + 6 + 1
    assert all(v.published_at.date() < dt.date(2025, 6, 1) for v in versions)


def test_former_agencies_end_on_1_july_and_keep_nothing_current(replayed):  # type: ignore[no-untyped-def]
    former = Agency.objects.filter(key__in=former_keys())
    assert former.count() == 7
    assert set(former.values_list("valid_until", flat=True)) == {DAY}
    # No former agency is competent any more, none has an open counter, department or officer.
    assert not Competence.objects.valid_on(DAY).filter(agency__in=former).exists()
    assert not Competence.objects.filter(agency__in=former, valid_until__isnull=True).exists()
    assert not Counter.objects.filter(Q(agency__in=former) | Q(code__in=MERGED), is_active=True).exists()
    assert not Department.objects.filter(agency__in=former, valid_until__isnull=True).exists()
    assert not Staff.objects.filter(agency__in=former).exists()
    # Each procedure a district had is now its seat commune's, or the department's for the land procedures.
    for district, seat in SEATS.items():
        for competence in Competence.objects.filter(agency__key=district).select_related("procedure"):
            successor = "snnmt" if competence.procedure.code in TO_PROVINCE else seat
            assert (
                Competence.objects.valid_on(DAY).filter(agency__key=successor, procedure=competence.procedure).exists()
            ), (district, competence.procedure.code)
        assert agency_current(identifier=Agency.objects.get(key=district).identifier).key == seat
    # Sở Khoa học và Công nghệ carries on under its name; the department that took the land branch has it.
    science = Agency.objects.get(key="skhcn")
    assert science.valid_until is None and science.valid_from < DAY
    branch = Department.objects.get(agency__key="ubnd_tp_rach_gia", code="cn_vpdkdd")
    assert Staff.objects.get(user__username="truoc2025.dkdd.rachgia").department.agency.key == "snnmt"
    assert branch.valid_until == DAY
    # The demo catalogue loaded again gives nothing to an agency that ended.
    catalogue_load(render_templates=False)
    assert not Competence.objects.filter(agency__in=former, valid_until__isnull=True).exists()


def test_every_open_dossier_is_at_its_successor_and_every_closed_one_untouched(replayed):  # type: ignore[no-untyped-def]
    after = snapshot(list(replayed["before"]))
    for dossier in replayed["dossiers"]:
        code, status, appointment, received_at, register, agency_id, counter_id = replayed["before"][dossier.pk]
        now = Dossier.objects.select_related("agency", "current_task").get(pk=dossier.pk)
        # Nothing a citizen or the register knows changes.
        assert after[dossier.pk][:5] == (code, status, appointment, received_at, register)
        events = Event.objects.filter(dossier=dossier, action="reorganise")
        if status in CLOSED:
            assert now.agency_id == agency_id and now.counter_id == counter_id and now.original_agency_id is None
            assert not events.exists()
            continue
        assert now.agency.key == replayed["successors"][dossier.pk], now.code
        assert now.original_agency_id == agency_id and now.original_counter_id == counter_id
        event = events.get()
        assert dossier.agency.name in event.note and now.agency.name in event.note and "(minh họa)" in event.note
        assert event.at == APPLIED and event.status_from == event.status_to == status
        assert OutboxMessage.objects.filter(key=f"d{dossier.pk}", operation="progress", ref=event.pk).exists()
        # It finishes on its former steps, now the successor's, with the same deadline.
        task = now.current_task
        assert task.due_at == replayed["due"][dossier.pk]
        assert now.workflow_version.workflow.agency_id == now.agency_id
        assert now.workflow_version.state == Version.State.RETIRED
        steps = now.workflow_version.steps.all()
        assert {s.agency_id for s in steps} == {now.agency_id}, now.code
        assert all(s.department.agency_id == now.agency_id for s in steps if s.department_id)
        if task.department_id:
            assert task.department.valid_until is None
            assert task.agency_id == task.department.agency_id == now.agency_id
    assert sum(sum(r.dossiers_moved.values()) for r in replayed["reports"]) == 13


def test_moved_dossiers_carry_on_with_the_officers_who_moved(replayed):  # type: ignore[no-untyped-def]
    at = dt.datetime(2025, 7, 1, 8, 0, tzinfo=APPLIED.tzinfo)

    def act(username: str, dossier: Dossier, action: str, **data) -> Dossier:  # type: ignore[no-untyped-def]
        fresh = Dossier.objects.get(pk=dossier.pk)
        return dossier_act(
            officer=Staff.objects.get(user__username=username), code=fresh.code, action=action,
            task_id=fresh.current_task_id, data=ActionInput(**data), now=at,
        )  # fmt: skip

    by_state = {(d.agency.key, d.procedure.code, replayed["before"][d.pk][1]): d for d in replayed["dossiers"]}
    # The district's land dossier waiting at its counter: the district's officer, now at the ward's desk, still
    # holds it and sends it on to the department that took the land branch.
    land = by_state[("ubnd_tp_long_xuyen", "1.013831", Status.ACCEPTED)]
    assert Dossier.objects.get(pk=land.pk).current_task.assignee.user.username == "truoc2025.mc.longxuyen"
    act("truoc2025.mc.longxuyen", land, "forward")
    task = Dossier.objects.get(pk=land.pk).current_task
    assert task.agency.key == "snnmt" and task.department.code == "vpdkdd" and task.department.agency.key == "snnmt"
    # A department's dossier resolved in June is returned by the service centre's officer of its counter, now the
    # counter of Sở Khoa học và Công nghệ.
    resolved = by_state[("stttt", "1.005443", Status.RESOLVED)]
    officer = Staff.objects.get(user__username="truoc2025.mc.stttt")
    assert officer.counter == Counter.objects.get(agency__key="ttpvhcc", code="skhcn")
    act("truoc2025.mc.stttt", resolved, "claim")
    act("truoc2025.mc.stttt", resolved, "return_result")
    assert Dossier.objects.get(pk=resolved.pk).status == Status.RETURNED
    # The district's resolved dossier is returned at the ward's desk.
    certified = by_state[("ubnd_tp_long_xuyen", "2.000815", Status.RESOLVED)]
    act("truoc2025.mc.longxuyen", certified, "claim")
    act("truoc2025.mc.longxuyen", certified, "return_result")
    assert Dossier.objects.get(pk=certified.pk).status == Status.RETURNED


def test_the_checklists_ask_each_new_or_receiving_agency_once_per_procedure(replayed):  # type: ignore[no-untyped-def]
    # Sở Nông nghiệp và Môi trường begins on 1 July: every procedure it is competent for, once, from its source.
    items = ChecklistItem.objects.filter(agency__key="snnmt")
    competent = set(Competence.objects.valid_on(DAY).filter(agency__key="snnmt").values_list("procedure_id", flat=True))
    assert sorted(items.values_list("procedure_id", flat=True)) == sorted(competent)
    assert set(items.values_list("reason", flat=True)) == {ChecklistItem.Reason.NEW_AGENCY}
    assert set(items.values_list("source_agency__key", flat=True)) == {"stnmt", "snnptnt"}
    # Sở Khoa học và Công nghệ keeps its name: only the postal licence that moved in, from Sở Thông tin và Truyền thông.
    science = ChecklistItem.objects.get(agency__key="skhcn")
    assert (science.procedure.code, science.reason, science.source_agency.key) == (
        "1.005443", ChecklistItem.Reason.MOVED_IN, "stttt",
    )  # fmt: skip
    # Each seat commune begins on 1 July too: all its procedures, the district's ones named as their source.
    for district, seat in SEATS.items():
        items = ChecklistItem.objects.filter(agency__key=seat)
        assert items.count() == Competence.objects.valid_on(DAY).filter(agency__key=seat).count()
        assert items.filter(source_agency__key=district).count() == 5


def run(*args: str) -> dict:  # type: ignore[type-arg]
    from io import StringIO

    out = StringIO()
    call_command("reorganisation_2025", "--json", *args, stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def counts() -> dict[str, int]:
    return {
        "agencies": Agency.objects.count(),
        "departments": Department.objects.count(),
        "counters_open": Counter.objects.filter(is_active=True).count(),
        "staff": Staff.objects.count(),
        "competences": Competence.objects.count(),
        "competences_ended": Competence.objects.filter(valid_until__isnull=False).count(),
        "versions": Version.objects.count(),
        "dossiers": Dossier.objects.count(),
        "events": Event.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "reorganisations": Reorganisation.objects.count(),
        "checklist": ChecklistItem.objects.count(),
        "skhcn_from": Agency.objects.get(key="skhcn").valid_from.toordinal(),
    }


def files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def test_the_command_reports_what_the_database_holds_and_a_second_run_changes_nothing(db, settings):  # type: ignore[no-untyped-def]
    outcome = run()
    assert outcome["applied"] is True and outcome["dry_run"] is False
    assert outcome["built"] == {"agencies": 7, "staff": 20, "dossiers_open": 13, "dossiers_closed": 3}
    summaries = outcome["reorganisations"]
    assert [s["kind"] for s in summaries] == ["merge_into", "merge_into"] + ["split"] * 4
    assert all(Reorganisation.objects.get(pk=s["id"]).state == Reorganisation.State.APPLIED for s in summaries)
    former = Agency.objects.filter(key__in=former_keys())
    totals = outcome["totals"]
    assert totals["agencies_ended"] == former.filter(valid_until=DAY).count() == 7
    assert totals["agencies_begun"] == 5  # Sở Nông nghiệp và Môi trường and the four seat communes
    assert totals["dossiers_moved"] == Event.objects.filter(action="reorganise").count() == 13
    assert totals["staff_moved"] == Staff.objects.filter(user__username__startswith="truoc2025.").count() == 20
    assert totals["counters_closed"] == Counter.objects.filter(successor__isnull=False, is_active=False).count() == 7
    assert totals["procedures_moved"] == Competence.objects.filter(agency__in=former, valid_until=DAY).count() == 36
    assert totals["checklist_items"] == ChecklistItem.objects.count()
    assert totals["departments_moved"] == Department.objects.filter(agency__in=former, valid_until=DAY).count()
    for summary in summaries:
        report, pk = summary["report"], summary["id"]
        assert report == Reorganisation.objects.get(pk=pk).report
        items = Tally(ChecklistItem.objects.filter(reorganisation_id=pk).values_list("agency__name", flat=True))
        assert report["checklist"] == dict(items)
        predecessors = Succession.objects.filter(reorganisation_id=pk).values("predecessor_id")
        ended = Competence.objects.filter(agency__in=predecessors, valid_until=DAY).values_list(
            "procedure__code", "agency__name"
        )
        assert sorted((r["procedure"], r["from"]) for r in report["procedures_moved"]) == sorted(ended)
    pairs = Tally(
        f"{d.original_agency.name} → {d.agency.name}"
        for d in Dossier.objects.filter(original_agency__isnull=False).select_related("agency", "original_agency")
    )
    merged: Tally[str] = Tally()
    for summary in summaries:
        merged.update(summary["report"]["dossiers_moved"])
    assert merged == pairs
    stored_files = files(Path(settings.MEDIA_ROOT))
    assert len(stored_files) == 5  # the results of the three resolved and two returned dossiers

    # A second run finds the scenario applied: it changes nothing and gives back the stored reports.
    before = counts()
    again = run()
    assert again["applied"] is False and again["built"] == {}
    assert [s["report"] for s in again["reorganisations"]] == [s["report"] for s in summaries]
    assert again["totals"] == totals
    assert counts() == before
    assert files(Path(settings.MEDIA_ROOT)) == stored_files
    # The text says so, in the language of the site.
    from io import StringIO

    out = StringIO()
    call_command("reorganisation_2025", stdout=out)
    assert "Ủy ban nhân dân thành phố Long Xuyên → Ủy ban nhân dân phường Long Xuyên: 3" in out.getvalue()
    assert counts() == before


def test_the_dry_run_reports_and_leaves_nothing(db, settings):  # type: ignore[no-untyped-def]
    before = counts()
    outcome = run("--dry-run")
    assert outcome["applied"] is True and outcome["dry_run"] is True
    assert outcome["totals"]["dossiers_moved"] == 13 and outcome["totals"]["agencies_ended"] == 7
    assert counts() == before
    assert not Agency.objects.filter(key__in=former_keys()).exists()
    assert files(Path(settings.MEDIA_ROOT)) == []  # the results' files went with the rolled-back rows
    # And the real run afterwards still applies everything.
    assert run()["applied"] is True


def test_without_the_demo_data_nothing_is_built(db):  # type: ignore[no-untyped-def]
    Agency.objects.filter(key="snnmt").update(key="snnmt_khac")
    before = counts()
    with pytest.raises(CommandError, match="snnmt"):
        run()
    assert counts() == before
    assert not Agency.objects.filter(key__in=former_keys()).exists()
