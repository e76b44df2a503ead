"""Applying a reorganisation (docs/reorganisation.md): the organisation changes on its effective date, procedures
pass to the successors, each affected agency gets its workflow checklist, and every open dossier moves to the
successor with an event in its log, its code and deadlines unchanged, in one transaction."""

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, ValidationFailed
from organizations.models import Agency, Reorganisation, Staff
from organizations.reorganisation import Change, agencies_apply, focal_officers_succeed, staff_succeed
from procedures.models import Procedure
from procedures.services import Move, competences_succeed, counters_succeed
from workflows.models import Step, Version
from workflows.selectors import versions_using
from workflows.services import checklist_build, version_carry

from .models import CLOSED, Dossier, Draft, Task
from .services import event_record

logger = logging.getLogger(__name__)

ACTION = "reorganise"


@dataclass
class Report:
    """What applying a reorganisation did; stored on it (``Reorganisation.report``) and shown to the administrators."""

    ended: list[str] = field(default_factory=list)
    begun: list[str] = field(default_factory=list)
    departments_moved: int = 0
    staff_moved: int = 0
    focal_officers_moved: int = 0
    counters_closed: int = 0
    procedures_moved: list[dict[str, str]] = field(default_factory=list)
    procedures_ended: list[dict[str, str]] = field(default_factory=list)
    dossiers_moved: dict[str, int] = field(default_factory=dict)  # "from → to": count
    tasks_released: int = 0
    drafts_moved: int = 0
    checklist: dict[str, int] = field(default_factory=dict)  # agency name: items


def _assignee_stays(task: Task, staff: Staff | None, *, counter_id: int | None) -> bool:
    if staff is None:
        return False
    if task.step.kind == Step.Kind.COUNTER and counter_id is not None:
        # A counter's step belongs to whoever staffs the dossier's counter (engine.can_act_on), whatever their agency:
        # the provincial service centre's officers, or a district's officers now at the commune's desk.
        return staff.counter_id == counter_id
    if staff.agency_id != task.agency_id:
        return False
    return task.department_id is None or staff.department_id == task.department_id


def _dossier_move(
    dossier: Dossier,
    *,
    to: int | None,
    change: Change,
    counters: dict[int, int],
    carried: dict[tuple[int, int], Version],
    stale: set[int],
    staff: dict[int, Staff],
    names: dict[int, str],
    now: dt.datetime,
    report: Report,
) -> None:
    """Move one open dossier (locked by the caller) to ``to``, or onto a copy of its workflow version when that
    version is ``stale`` (uses an ended agency or a moved department)."""
    source = dossier.agency_id
    target = to if to is not None else source
    version_id = dossier.workflow_version_id
    needs_version = version_id is not None and (target != source or version_id in stale)
    if target == source and not needs_version:
        return
    fields = []
    if target != source:
        if dossier.register_number is not None:
            # Received already: its receipt and register entry stay the former agency's. An online dossier not yet
            # accepted is received by the successor.
            dossier.original_agency_id = dossier.original_agency_id or source
        dossier.agency_id = target
        fields += ["original_agency", "agency"]
    if dossier.counter_id in counters:
        # Its counter closed: the successor's counter returns the result; the receipt keeps the one that received it.
        if dossier.register_number is not None:
            dossier.original_counter_id = dossier.original_counter_id or dossier.counter_id
            fields.append("original_counter")
        dossier.counter_id = counters[dossier.counter_id]
        fields.append("counter")
    released = 0
    if needs_version:
        key = (version_id, target)
        if key not in carried:
            carried[key] = version_carry(
                version=Version.objects.select_related("workflow").get(pk=version_id),
                agency_id=target,
                change=change,
                now=now,
            )
        version = carried[key]
        steps = {s.key: s for s in Step.objects.filter(version=version).select_related("department")}
        dossier.workflow_version = version
        fields.append("workflow_version")
        open_tasks = Task.objects.select_for_update(of=("self",)).filter(dossier=dossier, finished_at__isnull=True)
        for task in open_tasks.select_related("step"):
            step = steps[task.step.key]
            task.step = step
            task.agency_id = step.agency_id
            task.department_id = step.department_id
            if task.assignee_id is not None and not _assignee_stays(
                task, staff.get(task.assignee_id), counter_id=dossier.counter_id
            ):
                task.assignee = None  # released to the department's queue
                released += 1
            task.save(update_fields=["step", "agency", "department", "assignee"])
        planned = [s.department.name for s in steps.values() if s.department_id is not None]
        dossier.public_departments = list(dict.fromkeys([*dossier.public_departments, *planned]))
        fields.append("public_departments")
    dossier.save(update_fields=[*fields, "updated_at"])
    report.tasks_released += released
    reorganisation = change.reorganisation
    if target != source:
        note = _("Moved from %(source)s to %(target)s by %(decision)s, effective %(date)s.") % {
            "source": names[source],
            "target": names[target],
            "decision": reorganisation.decision,
            "date": reorganisation.effective_date.strftime("%d/%m/%Y"),
        }
        label = f"{names[source]} → {names[target]}"
        report.dossiers_moved[label] = report.dossiers_moved.get(label, 0) + 1
    else:
        note = _("Handling departments changed by %(decision)s, effective %(date)s.") % {
            "decision": reorganisation.decision,
            "date": reorganisation.effective_date.strftime("%d/%m/%Y"),
        }
    if released:
        note += " " + _("The officer's assignment was released to the department's queue.")
    event_record(
        dossier=dossier,
        action=ACTION,
        actor=None,
        status_from=dossier.status,
        note=note,
        at=now,
        actor_name=_("System"),
        unit_name=names[target],
    )


def dossiers_succeed(
    *, change: Change, moves: list[Move], counters: dict[int, int], now: dt.datetime, report: Report
) -> None:
    """Every open dossier of a moved procedure goes to its successor; every other open dossier whose workflow uses an
    ended agency or a moved department finishes on a copy of it bound to the successors. Closed dossiers keep the
    agency, names and identifiers of their time."""
    targets = {(m.source, m.procedure_id): m.to for m in moves}
    scope = Q()
    for source, procedure_id in targets:
        scope |= Q(agency_id=source, procedure_id=procedure_id)
    stale = versions_using(agency_ids=change.ended, department_ids=set(change.departments))
    if stale:
        scope |= Q(workflow_version_id__in=stale)
    if not scope:
        return
    ids = list(Dossier.objects.filter(scope).exclude(status__in=CLOSED).values_list("pk", flat=True).distinct())
    staff = {s.pk: s for s in Staff.objects.filter(tasks__dossier_id__in=ids).distinct()}
    names = dict(Agency.objects.values_list("pk", "name"))
    carried: dict[tuple[int, int], Version] = {}
    for dossier in Dossier.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        to = targets.get((dossier.agency_id, dossier.procedure_id), dossier.agency_id)
        if to is None:
            raise ValidationFailed(
                _(
                    "Dossier %(code)s is still open and its procedure has no successor agency: name one, or finish "
                    "the dossier first."
                )
                % {"code": dossier.code or dossier.pk}
            )
        _dossier_move(dossier, to=to, change=change, counters=counters, carried=carried, stale=stale, staff=staff,
                      names=names, now=now, report=report)  # fmt: skip
    # Online applications not yet submitted follow their procedure too.
    for (source, procedure_id), to in targets.items():
        if to is not None:
            report.drafts_moved += Draft.objects.filter(agency_id=source, procedure_id=procedure_id).update(
                agency_id=to
            )


@transaction.atomic
def reorganisation_apply(*, reorganisation_id: int, now: dt.datetime | None = None) -> Report:
    """Apply a recorded reorganisation whose effective date has come. All or nothing; applying it twice is refused."""
    now = now or timezone.now()
    reorganisation = Reorganisation.objects.select_for_update().filter(pk=reorganisation_id).first()
    if reorganisation is None:
        raise NotFound(_("No such reorganisation."))
    if reorganisation.state == Reorganisation.State.APPLIED:
        raise Conflict(
            _("This reorganisation was applied on %(date)s.")
            % {"date": timezone.localtime(reorganisation.applied_at).strftime("%d/%m/%Y %H:%M")}
        )
    if reorganisation.effective_date > timezone.localdate(now):
        raise Conflict(
            _("This reorganisation takes effect on %(date)s; it is applied on that day.")
            % {"date": reorganisation.effective_date.strftime("%d/%m/%Y")}
        )
    report = Report()
    change = agencies_apply(reorganisation=reorganisation)
    counters = counters_succeed(change=change)
    report.counters_closed = len(counters)
    report.staff_moved = staff_succeed(change=change, counters=counters)
    report.focal_officers_moved = focal_officers_succeed(change=change)
    moves = competences_succeed(change=change)
    dossiers_succeed(change=change, moves=moves, counters=counters, now=now, report=report)
    items = checklist_build(change=change, moves=moves)

    names = dict(Agency.objects.values_list("pk", "name"))
    procedures = dict(Procedure.objects.filter(pk__in={m.procedure_id for m in moves}).values_list("pk", "code"))
    report.ended = sorted(names[pk] for pk in change.ended)
    report.begun = sorted(names[pk] for pk in change.begun)
    report.departments_moved = len(change.departments)
    for move in moves:
        row = {"procedure": procedures[move.procedure_id], "from": names[move.source]}
        if move.to is None:
            report.procedures_ended.append(row)
        else:
            report.procedures_moved.append({**row, "to": names[move.to]})
    for item in items:
        label = names[item.agency_id]
        report.checklist[label] = report.checklist.get(label, 0) + 1

    reorganisation.state = Reorganisation.State.APPLIED
    reorganisation.applied_at = now
    reorganisation.report = asdict(report)
    reorganisation.save(update_fields=["state", "applied_at", "report", "updated_at"])
    transaction.on_commit(
        lambda: logger.info(
            "reorganisation applied",
            extra={
                "reorganisation": reorganisation.pk,
                "kind": reorganisation.kind,
                "dossiers": sum(report.dossiers_moved.values()),
                "procedures": len(report.procedures_moved),
            },
        )
    )
    return report


def reorganisations_due(*, today: dt.date | None = None) -> list[int]:
    """Planned reorganisations whose effective date has come, oldest first (the beat task applies them)."""
    today = today or timezone.localdate()
    return list(
        Reorganisation.objects.filter(state=Reorganisation.State.PLANNED, effective_date__lte=today)
        .order_by("effective_date", "pk")
        .values_list("pk", flat=True)
    )
