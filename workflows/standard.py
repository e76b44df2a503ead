"""The province's standard workflows, published for every procedure in every agency that handles it.

Commune level (4 steps): the counter receives and forwards, the competent division processes, a leader of the
commune signs, the counter returns the result. Province level adds the head of the department's review (5 steps).
Budgets share out the procedure's target time (or its statutory time) in working hours, rounded down, so they
always add up to no more than it.
"""

from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from core.calendar import WorkingHours
from core.national import Status
from organizations.models import Agency, Department, Role
from procedures.models import Competence, Procedure

from . import graph
from .models import Action, Step, Version, Workflow

PROCESS_ACTIONS = [Action.FORWARD, Action.SEND_BACK, Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT, Action.REFUSE,
                   Action.STOP, Action.APOLOGISE]  # fmt: skip
# (key, name, kind, role, department?, share of the time, national status, actions)
COMMUNE = [
    ("tiep_nhan", "Tiếp nhận và chuyển hồ sơ", Step.Kind.COUNTER, Role.ONE_STOP_OFFICER, False, "0.1",
     Status.ACCEPTED, [Action.FORWARD, Action.STOP]),
    ("xu_ly", "Thẩm định, xử lý hồ sơ", Step.Kind.PROCESS, Role.SPECIALIST, True, "0.6", Status.IN_PROCESS,
     PROCESS_ACTIONS),
    ("ky_duyet", "Lãnh đạo ký duyệt, phát hành kết quả", Step.Kind.SIGN, Role.AGENCY_LEADER, False, "0.2",
     Status.IN_PROCESS, [Action.RECORD_RESULT, Action.APPROVE, Action.SEND_BACK]),
    ("tra_ket_qua", "Trả kết quả", Step.Kind.COUNTER, Role.ONE_STOP_OFFICER, False, "0.1", Status.RESOLVED,
     [Action.RETURN_RESULT]),
]  # fmt: skip
PROVINCE = [
    COMMUNE[0],
    ("xu_ly", "Chuyên viên thẩm định hồ sơ", Step.Kind.PROCESS, Role.SPECIALIST, True, "0.45", Status.IN_PROCESS,
     PROCESS_ACTIONS),
    ("xem_xet", "Lãnh đạo phòng xem xét", Step.Kind.PROCESS, Role.DEPARTMENT_HEAD, True, "0.15", Status.IN_PROCESS,
     [Action.FORWARD, Action.SEND_BACK, Action.APOLOGISE]),
    ("ky_duyet", "Lãnh đạo Sở ký duyệt, phát hành kết quả", Step.Kind.SIGN, Role.AGENCY_LEADER, False, "0.2",
     Status.IN_PROCESS, [Action.RECORD_RESULT, Action.APPROVE, Action.SEND_BACK]),
    COMMUNE[3],
]  # fmt: skip


def standard_steps(*, procedure: Procedure, agency: Agency, department: Department | None) -> list[Step]:
    """Unsaved steps of the standard workflow of ``procedure`` in ``agency``, handled by ``department``."""
    template = COMMUNE if agency.level == "commune" else PROVINCE
    statutory, target = graph.procedure_hours(
        procedure.time_unit,
        procedure.processing_time,
        procedure.target_time,
        WorkingHours.from_json(agency.working_hours),
    )
    total = target or statutory
    steps = []
    for position, (key, name, kind, role, needs_department, share, status, actions) in enumerate(template, start=1):
        budget = (total * Decimal(share)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
        steps.append(
            Step(
                position=position,
                key=key,
                name=name,
                kind=kind,
                agency=agency,
                department=department if needs_department else None,
                role=role,
                budget=max(budget, Decimal("0.1")),
                budget_unit=Step.Unit.HOURS,
                national_status=status,
                actions=[str(a) for a in actions],
            )
        )
    return steps


@transaction.atomic
def standard_workflows_publish(
    *, only_missing: bool = True, procedure: Procedure | None = None, agency: Agency | None = None
) -> int:
    """Publish the standard workflow for every (procedure, agency) competence that has none; bulk writes, checked
    in memory with the same rules as the designer's publishing. Returns how many were published."""
    now = timezone.now()
    today = timezone.localdate()
    departments = {(d.agency_id, d.kind): d for d in Department.objects.valid_on(today).select_related("agency")}
    existing = set(
        Version.objects.filter(state=Version.State.PUBLISHED).values_list(
            "workflow__procedure_id", "workflow__agency_id"
        )
    )
    competences = (
        Competence.objects.valid_on(today)
        .filter(procedure__status=Procedure.Status.PUBLISHED)
        .select_related("procedure", "agency")
        .order_by("pk")
    )
    if procedure is not None:
        competences = competences.filter(procedure=procedure)
    if agency is not None:
        competences = competences.filter(agency=agency)
    planned: list[tuple[Workflow, list[Step]]] = []
    for competence in competences:
        pair = (competence.procedure_id, competence.agency_id)
        if only_missing and pair in existing:
            continue
        agency = competence.agency
        department = departments.get((agency.pk, competence.department_kind))
        if department is None:
            # UBND tỉnh has no divisions of its own: its office advises on the file (an inter-agency leg).
            department = next(
                (
                    d
                    for (agency_id, kind), d in departments.items()
                    if kind == "chuyen_mon" and d.agency.parent_id == agency.pk and d.agency.kind == "office"
                ),
                None,
            )
        if department is None:
            continue  # reported by the "needs configuration" list
        steps = standard_steps(procedure=competence.procedure, agency=agency, department=department)
        if department.agency_id != agency.pk:
            for step in steps:  # the department's steps are the advising agency's leg
                if step.department is not None:
                    step.agency = department.agency
        hours = WorkingHours.from_json(agency.working_hours)
        procedure = competence.procedure
        statutory, target = graph.procedure_hours(
            procedure.time_unit, procedure.processing_time, procedure.target_time, hours
        )
        result = graph.check(
            steps, agency_id=agency.pk, statutory_hours=statutory, target_hours=target, day_length={agency.pk: hours}
        )
        if not result.ok:
            raise ValueError(f"standard workflow of {procedure.code} in {agency.identifier}: {result.errors}")
        workflow, _created = Workflow.objects.get_or_create(procedure_id=pair[0], agency_id=pair[1])
        planned.append((workflow, steps))
    if not planned:
        return 0
    Version.objects.filter(
        workflow__in=[w for w, _s in planned], state__in=[Version.State.PUBLISHED, Version.State.DRAFT]
    ).update(state=Version.State.RETIRED, retired_at=now)
    numbers = {w.pk: n for w, n in ((w, w.versions.count()) for w, _s in planned)}
    versions = Version.objects.bulk_create(
        [
            Version(workflow=w, number=numbers[w.pk] + 1, state=Version.State.PUBLISHED, published_at=now)
            for w, _s in planned
        ]
    )
    for version, (_w, steps) in zip(versions, planned, strict=True):
        for step in steps:
            step.version = version
    Step.objects.bulk_create([s for _w, steps in planned for s in steps])
    return len(planned)
