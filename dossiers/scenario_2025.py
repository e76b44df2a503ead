"""The 2025 two-level change replayed on the demo data (docs/scenario-2025.md).

The demo holds the province as it is since 1 July 2025. This module builds, from the data files in
``data/scenario_2025/``, what stood before: former district-level People's Committees and provincial departments,
their divisions, counters, staff, competences and published workflows, and dossiers received in June 2025 through
the real intake and workflow services. It then records the reorganisations of 1 July 2025 with the recording services
(each district split between the commune that took its seat and the competent department; the departments merged)
and applies them with ``reorganisation_apply``. Everything is illustrative (the data files say what and why).

Run once: a second run finds the former agencies ended and returns the reports stored on the reorganisations.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound
from organizations.models import AdministrativeUnit, Agency, Counter, Department, Reorganisation, Staff
from organizations.reorganisation import Part, merge_record, split_record
from organizations.services import agency_identifier, staff_create
from procedures.models import Competence, Procedure
from procedures.services import competences_add, reception_counters
from workflows.models import Step, Version
from workflows.standard import standard_workflows_publish

from .engine import ActionInput, actions_available, dossier_act
from .models import CLOSED, Attachment, Dossier
from .reorganisation import reorganisation_apply
from .services import Applicant, Intake, ReceivedComponent, dossier_receive

DATA_DIR = Path(__file__).resolve().parent / "data" / "scenario_2025"
VN = dt.timezone(dt.timedelta(hours=7))
GAP = dt.timedelta(minutes=25)  # between two actions on the same dossier
# A one-page result, enough for the upload check (the demo never opens it).
RESULT_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# The actions that take a dossier received at the counter to each state; "sign" is every forward up to the signing
# step. Whoever may take the action does it (claiming the task first when nobody has).
PLANS: dict[str, list[str]] = {
    "received": [],
    "in_department": ["forward"],
    "in_process": ["forward", "claim"],
    "at_review": ["forward", "forward"],
    "supplement": ["forward", "request_supplement"],
    "refused": ["forward", "refuse"],
    "resolved": ["forward", "sign", "record_result", "approve"],
    "returned": ["forward", "sign", "record_result", "approve", "return_result"],
}


def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass
class Outcome:
    """What a run did (``applied`` False: the scenario had been applied before, these are its stored reports)."""

    applied: bool
    dry_run: bool = False
    built: dict[str, int] = field(default_factory=dict)
    reorganisations: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def former_keys() -> list[str]:
    """The keys of the agencies the scenario creates (they identify a scenario already applied)."""
    before = _load("before.json")
    return [row["key"] for row in before["districts"]] + [row["key"] for row in before["departments"]]


# Reading the stored result --------------------------------------------------------------------------------------


def _summary(reorganisation: Reorganisation) -> dict[str, Any]:
    predecessors = sorted(
        {s.predecessor.name for s in reorganisation.successions.select_related("predecessor")},
    )
    return {
        "id": reorganisation.pk,
        "kind": reorganisation.kind,
        "kind_label": str(reorganisation.get_kind_display()),
        "predecessors": predecessors,
        "effective_date": reorganisation.effective_date.isoformat(),
        "decision": reorganisation.decision,
        "report": reorganisation.report,
    }


def totals_of(reports: list[dict[str, Any]]) -> dict[str, int]:
    """The sums over the reports (agencies begun are counted once, whichever reorganisation names them)."""
    begun: set[str] = set()
    totals = dict.fromkeys(
        ["agencies_ended", "agencies_begun", "procedures_moved", "dossiers_moved", "staff_moved", "counters_closed",
         "departments_moved", "checklist_items"],
        0,
    )  # fmt: skip
    for report in reports:
        totals["agencies_ended"] += len(report["ended"])
        begun |= set(report["begun"])
        totals["procedures_moved"] += len(report["procedures_moved"])
        totals["dossiers_moved"] += sum(report["dossiers_moved"].values())
        totals["staff_moved"] += report["staff_moved"]
        totals["counters_closed"] += report["counters_closed"]
        totals["departments_moved"] += report["departments_moved"]
        totals["checklist_items"] += sum(report["checklist"].values())
    totals["agencies_begun"] = len(begun)
    return totals


def scenario_reorganisations() -> list[Reorganisation]:
    """The scenario's reorganisations, in the order they were applied."""
    return list(
        Reorganisation.objects.filter(successions__predecessor__key__in=former_keys()).distinct().order_by("pk")
    )


def _stored() -> Outcome | None:
    former = Agency.objects.filter(key__in=former_keys())
    if not former.exists():
        return None
    if former.filter(valid_until__isnull=True).exists():
        raise Conflict(
            _(
                "The former agencies of the 2025 scenario exist but have not ended: the data was changed by hand. "
                "Reload the demo database to run the scenario."
            )
        )
    summaries = [_summary(r) for r in scenario_reorganisations()]
    return Outcome(
        applied=False,
        reorganisations=summaries,
        totals=totals_of([s["report"] for s in summaries]),
    )


# Building the state before 1 July 2025 ---------------------------------------------------------------------------


def _check_demo(before: dict[str, Any], decisions: dict[str, Any], dossiers: list[dict[str, Any]]) -> None:
    keys = {row["seat"] for row in before["districts"]} | {row["successor"] for row in before["departments"]}
    keys |= {"ubnd_tinh", "ttpvhcc", before["keeps_name"]["agency"]}
    keys |= {part["successor"] for part in decisions["districts"]["province_parts"]}
    codes = {code for code, _kind in before["district_competences"]}
    codes |= {code for row in before["departments"] for code, _kind in row["competences"]}
    codes |= {row["procedure"] for row in dossiers}
    missing = sorted(keys - set(Agency.objects.filter(key__in=keys).values_list("key", flat=True)))
    missing += sorted(codes - set(Procedure.objects.filter(code__in=codes).values_list("code", flat=True)))
    if missing:
        raise NotFound(
            _("The demo data is not loaded (missing: %(missing)s): run manage.py seed_demo first.")
            % {"missing": ", ".join(missing)}
        )


def _agency(row: dict[str, Any], *, level: str, kind: str, province: AdministrativeUnit, parent: Agency,
            valid_from: dt.date) -> Agency:  # fmt: skip
    return Agency.objects.create(
        key=row["key"],
        identifier=agency_identifier(row["id"]),
        name=row["name"],
        short_name=row["short_name"],
        level=level,
        kind=kind,
        parent=parent,
        unit=province,
        valid_from=valid_from,
    )


def _departments(agency: Agency, rows: list[list[str]], valid_from: dt.date) -> None:
    Department.objects.bulk_create(
        [Department(agency=agency, code=code, kind=kind, name=name, valid_from=valid_from) for code, kind, name in rows]
    )


def _competences(agency: Agency, rows: list[list[str]], valid_from: dt.date) -> int:
    counters = reception_counters()
    procedures = {p.code: p for p in Procedure.objects.filter(code__in=[code for code, _kind in rows])}
    return sum(
        competences_add(
            procedure=procedures[code],
            agencies=[agency],
            counters=counters,
            department_kind=kind,
            valid_from=valid_from,
        )
        for code, kind in rows
    )


def agencies_before_build(*, password: str) -> tuple[list[Agency], list[Staff]]:
    """The former agencies with their divisions, counters, competences, published standard workflows and staff;
    Sở Khoa học và Công nghệ dated back (it existed before and keeps its name)."""
    before = _load("before.json")
    valid_from = dt.date.fromisoformat(before["valid_from"])
    province_agency = Agency.objects.get(key="ubnd_tinh")
    province = province_agency.unit
    centre = Agency.objects.get(key="ttpvhcc")
    former: list[Agency] = []
    for row in before["districts"]:
        agency = _agency(row, level=Agency.Level.COMMUNE, kind=Agency.Kind.PEOPLES_COMMITTEE, province=province,
                         parent=province_agency, valid_from=valid_from)  # fmt: skip
        _departments(agency, before["district_departments"], valid_from)
        Counter.objects.create(agency=agency, code="tiep_nhan", name=row["counter"])
        former.append(agency)
    for row in before["departments"]:
        agency = _agency(row, level=Agency.Level.PROVINCE, kind=Agency.Kind.DEPARTMENT, province=province,
                         parent=province_agency, valid_from=valid_from)  # fmt: skip
        _departments(agency, row["departments"], valid_from)
        # Provincial departments receive at the provincial service centre, at a counter named by their key.
        Counter.objects.create(agency=centre, code=row["key"], name=row["counter"])
        former.append(agency)
    for agency, row in zip(former, before["districts"] + before["departments"], strict=True):
        _competences(agency, row.get("competences") or before["district_competences"], valid_from)

    kept = before["keeps_name"]
    keeper = Agency.objects.get(key=kept["agency"])
    Agency.objects.filter(pk=keeper.pk).update(valid_from=valid_from)
    Department.objects.filter(agency=keeper, code__in=kept["departments"]).update(valid_from=valid_from)
    Competence.objects.filter(agency=keeper, procedure__code__in=kept["procedures"]).update(valid_from=valid_from)

    for agency in former:
        standard_workflows_publish(agency=agency)
    # Published when the agencies worked, not today: the June dossiers start on them.
    Version.objects.filter(workflow__agency__in=former, state=Version.State.PUBLISHED).update(
        published_at=dt.datetime.combine(valid_from, dt.time(7), tzinfo=VN)
    )
    identifiers = dict(Agency.objects.values_list("key", "identifier"))
    staff = [
        staff_create(
            username=row["username"],
            password=password,
            agency_identifier=identifiers[row["agency"]],
            role=row["role"],
            department_code=row.get("department"),
            counter_code=row.get("counter"),
            full_name=row["full_name"],
            title=row.get("title", ""),
        )
        for row in before["staff"]
    ]
    return former, staff


def _act(dossier: Dossier, action: str, *, pool: list[Staff], at: dt.datetime, data: ActionInput) -> Dossier:
    """``action`` on the dossier by the first officer of ``pool`` allowed to take it (after claiming the task)."""
    dossier = Dossier.objects.select_related("current_task__step", "counter").get(pk=dossier.pk)
    task = dossier.current_task
    assert task is not None, dossier.code
    if task.assignee_id is None and action != "claim":
        dossier = _act(dossier, "claim", pool=pool, at=at, data=ActionInput())
        at += dt.timedelta(minutes=5)
        dossier = Dossier.objects.select_related("current_task__step", "counter").get(pk=dossier.pk)
        task = dossier.current_task
        assert task is not None
    officer = next(
        (
            s
            for s in pool
            if task.assignee_id in (None, s.pk) and action in actions_available(officer=s, dossier=dossier, now=at)
        ),
        None,
    )
    if officer is None:
        raise ValueError(f"scenario data: nobody may {action} {dossier.code} at step {task.step.key}")
    return dossier_act(officer=officer, code=dossier.code, action=action, task_id=task.pk, data=data, now=at)


def _applicant(row: dict[str, Any]) -> Applicant:
    values = dict(row)
    if values.get("birth_date"):
        values["birth_date"] = dt.date.fromisoformat(values["birth_date"])
    return Applicant(**values)


def dossiers_before_build(*, staff: list[Staff]) -> list[Dossier]:
    """The June 2025 dossiers, received at the former agencies' counters and taken to their states."""
    rows = _load("dossiers.json")["dossiers"]
    identifiers = dict(Agency.objects.values_list("key", "identifier"))
    made = []
    for row in rows:
        procedure = Procedure.objects.get(code=row["procedure"])
        at = dt.datetime.fromisoformat(row["at"]).replace(tzinfo=VN)
        intake = Intake(
            procedure_code=procedure.code,
            agency_identifier=identifiers[row["agency"]],
            applicant=_applicant(row["applicant"]),
            components=[ReceivedComponent(component_id=c.pk) for c in procedure.components.all()],
        )
        counter_officer = next(
            s
            for s in staff
            if s.counter_id is not None
            and Competence.objects.filter(
                procedure=procedure, agency__key=row["agency"], counters=s.counter_id
            ).exists()
        )
        dossier = dossier_receive(officer=counter_officer, intake=intake, now=at)
        for action in PLANS[row["state"]]:
            at += GAP
            if action == "sign":
                while Dossier.objects.get(pk=dossier.pk).current_task.step.kind != Step.Kind.SIGN:  # type: ignore[union-attr]
                    dossier = _act(dossier, "forward", pool=staff, at=at, data=ActionInput())
                    at += GAP
                continue
            data = ActionInput()
            if action == "request_supplement":
                data = ActionInput(items=row["supplement"]["items"], reason=row["supplement"]["reason"])
            elif action == "refuse":
                data = ActionInput(reason=row["refusal"])
            elif action == "record_result":
                data = ActionInput(files=[SimpleUploadedFile("ket-qua.pdf", RESULT_PDF, "application/pdf")])
            dossier = _act(dossier, action, pool=staff, at=at, data=data)
        made.append(dossier)
    return made


# Recording and applying -------------------------------------------------------------------------------------------


def reorganisations_2025_record() -> list[Reorganisation]:
    """The decisions of 1 July 2025, in the order they are applied: the departments' mergers, then each district
    split between the commune that took its seat (main successor: its divisions, staff and commune-level procedures)
    and the competent department (the divisions and procedures the decisions name)."""
    before, decisions = _load("before.json"), _load("decisions.json")
    day = dt.date.fromisoformat(decisions["effective_date"])
    recorded = []
    for merge in decisions["merges"]:
        recorded.append(
            merge_record(
                sources=[Agency.objects.get(key=key) for key in merge["sources"]],
                target=Agency.objects.get(key=merge["target"]),
                effective_date=day,
                decision=merge["decision"],
                note=merge.get("note", ""),
            )
        )
    districts = decisions["districts"]
    for row in before["districts"]:
        parts = [Part(successor=Agency.objects.get(key=row["seat"]))]
        parts += [
            Part(
                successor=Agency.objects.get(key=part["successor"]),
                department_codes=part["department_codes"],
                procedure_codes=part["procedure_codes"],
            )
            for part in districts["province_parts"]
        ]
        recorded.append(
            split_record(
                source=Agency.objects.get(key=row["key"]),
                parts=parts,
                effective_date=day,
                decision=districts["decision"],
                note=districts.get("note", ""),
            )
        )
    return recorded


def _replay(*, password: str, files: list[str]) -> Outcome:
    before, decisions = _load("before.json"), _load("decisions.json")
    rows = _load("dossiers.json")["dossiers"]
    _check_demo(before, decisions, rows)
    former, staff = agencies_before_build(password=password)
    dossiers = dossiers_before_build(staff=staff)
    files += [name for name in Attachment.objects.filter(dossier__in=dossiers).values_list("file", flat=True) if name]
    built = {
        "agencies": len(former),
        "staff": len(staff),
        "dossiers_open": sum(1 for d in dossiers if d.status not in CLOSED),
        "dossiers_closed": sum(1 for d in dossiers if d.status in CLOSED),
    }
    applied_at = dt.datetime.fromisoformat(decisions["applied_at"])
    summaries = []
    for reorganisation in reorganisations_2025_record():
        reorganisation_apply(reorganisation_id=reorganisation.pk, now=applied_at)
        reorganisation.refresh_from_db()
        summaries.append(_summary(reorganisation))
    return Outcome(
        applied=True, built=built, reorganisations=summaries, totals=totals_of([s["report"] for s in summaries])
    )


def scenario_2025_apply(*, password: str, dry_run: bool = False) -> Outcome:
    """Build the state before 1 July 2025, record the reorganisations of that day and apply them, in one
    transaction (rolled back with ``dry_run``). Already applied: nothing changes, the stored reports come back."""
    stored = _stored()
    if stored is not None:
        stored.dry_run = dry_run
        return stored
    files: list[str] = []
    try:
        with transaction.atomic():
            outcome = _replay(password=password, files=files)
            outcome.dry_run = dry_run
            if dry_run:
                transaction.set_rollback(True)
    except BaseException:
        _files_delete(files)
        raise
    if dry_run:
        # The results recorded were stored as files: the rows that named them are gone.
        _files_delete(files)
    return outcome


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
