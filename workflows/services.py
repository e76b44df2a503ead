"""Writes on workflow definitions: drafts, steps, publishing, templates applied to many agencies."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.calendar import WorkingHours
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from organizations.models import Agency, Department, DepartmentSuccession, Role, Staff
from organizations.reorganisation import Change
from procedures.models import Competence, Procedure
from procedures.services import Move

from . import graph
from .models import CONFIGURABLE_ACTIONS, Action, ChecklistItem, Step, Version, Workflow

DESIGNER_ROLES = {Role.AGENCY_ADMIN, Role.PROVINCE_ADMIN}
STEP_FIELDS = ("key", "name", "kind", "agency_id", "department_id", "role", "budget", "budget_unit",
               "national_status", "actions", "next_keys")  # fmt: skip


def check_designer(*, actor: Staff, agency: Agency) -> None:
    """Agency administrators configure their own agency's workflows; province administrators any agency's."""
    if actor.role == Role.PROVINCE_ADMIN:
        return
    if actor.role != Role.AGENCY_ADMIN or actor.agency_id != agency.pk:
        raise PermissionDenied(_("Only the agency's administrators may change its workflows."))


def version_check(*, version: Version) -> graph.Check:
    steps = list(version.steps.select_related("department"))
    workflow = version.workflow
    agencies = {s.agency_id for s in steps} | {workflow.agency_id}
    day_length = {
        pk: WorkingHours.from_json(value)
        for pk, value in Agency.objects.filter(pk__in=agencies).values_list("pk", "working_hours")
    }
    procedure = workflow.procedure
    statutory, target = graph.procedure_hours(
        procedure.time_unit, procedure.processing_time, procedure.target_time, day_length[workflow.agency_id]
    )
    return graph.check(
        steps,
        agency_id=workflow.agency_id,
        statutory_hours=statutory,
        target_hours=target,
        day_length=day_length,
    )


def _copy_steps(
    source: Version, target: Version, *, agency: Agency | None = None, departments: dict[int, int] | None = None
) -> list[str]:
    """Copy ``source``'s steps into ``target``. With ``agency``, the steps of the source's own agency are bound to
    ``agency`` and to the department ``departments`` maps theirs to (a reorganisation's successions), else to its
    department of the same kind; a missing kind is reported (the step keeps no department)."""
    problems: list[str] = []
    by_kind: dict[str, Department] = {}
    mapped = departments or {}
    if agency is not None:
        today = timezone.localdate()
        by_kind = {d.kind: d for d in Department.objects.filter(agency=agency).valid_on(today)}
    own = source.workflow.agency_id
    copies = []
    for s in source.steps.select_related("department").order_by("position"):
        values = {f: getattr(s, f) for f in STEP_FIELDS}
        if agency is not None and s.agency_id == own:
            values["agency_id"] = agency.pk
            if s.department_id is not None:
                match = by_kind.get(s.department.kind)
                values["department_id"] = mapped.get(s.department_id) or (match.pk if match else None)
                if values["department_id"] is None:
                    problems.append(
                        _("%(agency)s has no department like “%(department)s” for step “%(step)s”.")
                        % {"agency": agency.name, "department": s.department.name, "step": s.name}
                    )
        copies.append(Step(version=target, position=s.position, **values))
    Step.objects.bulk_create(copies)
    return problems


def _new_draft(workflow: Workflow, *, based_on: Version | None) -> Version:
    number = (workflow.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return Version.objects.create(workflow=workflow, number=number, based_on=based_on)


@transaction.atomic
def workflow_draft(*, actor: Staff, procedure: Procedure, agency: Agency) -> Version:
    """The draft of the workflow of ``procedure`` in ``agency``: the existing one, or a new one copied from the
    published version (editing a published version always goes through a new draft)."""
    check_designer(actor=actor, agency=agency)
    workflow, _created = Workflow.objects.get_or_create(procedure=procedure, agency=agency)
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    draft = workflow.versions.filter(state=Version.State.DRAFT).first()
    if draft is not None:
        return draft
    published = workflow.versions.filter(state=Version.State.PUBLISHED).first()
    draft = _new_draft(workflow, based_on=published)
    if published is not None:
        _copy_steps(published, draft)
    return draft


def _editable(*, actor: Staff, version_id: int) -> Version:
    version = (
        Version.objects.select_for_update(of=("self",))
        .select_related("workflow__agency", "workflow__procedure")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise NotFound(_("No such workflow version."))
    check_designer(actor=actor, agency=version.workflow.agency)
    if version.state != Version.State.DRAFT:
        raise Conflict(_("Only a draft can be edited; a published version is changed through a new draft."))
    return version


@dataclass
class StepInput:
    name: str
    role: str
    kind: str = Step.Kind.PROCESS
    department_id: int | None = None
    agency_id: int | None = None
    budget: str | Decimal = "1"
    budget_unit: str = Step.Unit.DAYS
    national_status: int = 4
    actions: list[str] = field(default_factory=lambda: [Action.FORWARD, Action.SEND_BACK])
    next_keys: list[str] = field(default_factory=list)
    key: str = ""


def _step_values(version: Version, data: StepInput) -> dict:  # type: ignore[type-arg]
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = _("Enter the step's name.")
    if data.role not in Role.values:
        errors["role"] = _("Choose a role.")
    if data.kind not in Step.Kind.values:
        errors["kind"] = _("Choose a kind of step.")
    if data.budget_unit not in Step.Unit.values:
        errors["budget_unit"] = _("Choose working days or working hours.")
    try:
        budget = Decimal(str(data.budget).replace(",", "."))
        if not budget.is_finite() or budget <= 0 or budget > 999:
            raise InvalidOperation
    except InvalidOperation:
        errors["budget"] = _("Enter a time budget above zero, e.g. 0,5 or 2.")
        budget = Decimal(1)
    if int(data.national_status) not in (2, 4, 5, 6, 9, 10):
        errors["national_status"] = _("Choose the national status of the step.")
    if set(data.actions) - set(CONFIGURABLE_ACTIONS):
        errors["actions"] = _("Choose actions from the list.")
    agency_id = data.agency_id or version.workflow.agency_id
    if data.department_id:
        department = Department.objects.filter(pk=data.department_id).first()
        if department is None or department.agency_id != agency_id:
            errors["department_id"] = _("Choose a department of the acting agency.")
    if errors:
        raise ValidationFailed(_("The step was not saved: please correct the marked fields."), detail=errors)
    return {
        "name": name[:255],
        "role": data.role,
        "kind": data.kind,
        "agency_id": agency_id,
        "department_id": data.department_id or None,
        "budget": budget,
        "budget_unit": data.budget_unit,
        "national_status": int(data.national_status),
        "actions": list(dict.fromkeys(data.actions)),
        "next_keys": [k for k in data.next_keys if k],
    }


@transaction.atomic
def step_add(*, actor: Staff, version_id: int, data: StepInput) -> Step:
    version = _editable(actor=actor, version_id=version_id)
    values = _step_values(version, data)
    position = (version.steps.aggregate(n=Max("position"))["n"] or 0) + 1
    taken = set(version.steps.values_list("key", flat=True))
    key, n = data.key, position
    while not key or key in taken:
        key, n = f"s{n}", n + 1
    return Step.objects.create(version=version, position=position, key=key, **values)


@transaction.atomic
def step_update(*, actor: Staff, step_id: int, data: StepInput) -> Step:
    step = Step.objects.filter(pk=step_id).first()
    if step is None:
        raise NotFound(_("No such step."))
    version = _editable(actor=actor, version_id=step.version_id)
    for name, value in _step_values(version, data).items():
        setattr(step, name, value)
    step.save()
    return step


@transaction.atomic
def step_move(*, actor: Staff, step_id: int, offset: int) -> None:
    """Move a step up (-1) or down (+1) by swapping positions with its neighbour."""
    step = Step.objects.filter(pk=step_id).first()
    if step is None:
        raise NotFound(_("No such step."))
    version = _editable(actor=actor, version_id=step.version_id)
    steps = list(version.steps.order_by("position"))
    index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
    other = index + offset
    if not 0 <= other < len(steps):
        return
    a, b = steps[index], steps[other]
    a.position, b.position = b.position, a.position
    Step.objects.bulk_update([a, b], ["position"])  # the position constraint is checked at commit


@transaction.atomic
def step_remove(*, actor: Staff, step_id: int) -> None:
    step = Step.objects.filter(pk=step_id).first()
    if step is None:
        raise NotFound(_("No such step."))
    version = _editable(actor=actor, version_id=step.version_id)
    key = step.key
    step.delete()
    for other in version.steps.all():
        if key in other.next_keys:
            other.next_keys = [k for k in other.next_keys if k != key]
            other.save(update_fields=["next_keys"])
    for position, s in enumerate(version.steps.order_by("position"), start=1):
        if s.position != position:
            Step.objects.filter(pk=s.pk).update(position=position)


@transaction.atomic
def version_publish(*, actor: Staff, version_id: int, now: dt.datetime | None = None) -> graph.Check:
    """Publish a draft after checking it; the version it replaces is retired (dossiers already on it stay there).
    Raises ValidationFailed with the errors when the check fails; returns the check (with its warnings)."""
    version = _editable(actor=actor, version_id=version_id)
    result = version_check(version=version)
    if not result.ok:
        raise ValidationFailed(_("The workflow cannot be published yet."), detail={"errors": result.errors})
    now = now or timezone.now()
    Workflow.objects.select_for_update().filter(pk=version.workflow_id).first()
    version.workflow.versions.filter(state=Version.State.PUBLISHED).update(state=Version.State.RETIRED, retired_at=now)
    version.state = Version.State.PUBLISHED
    version.published_at = now
    version.published_by = actor.user
    version.save(update_fields=["state", "published_at", "published_by", "updated_at"])
    # A published workflow is what the reorganisation checklist asks for.
    ChecklistItem.objects.filter(
        agency_id=version.workflow.agency_id, procedure_id=version.workflow.procedure_id, done_at__isnull=True
    ).update(done_at=now, done_by=actor.user, version=version, updated_at=now)
    return result


@dataclass
class ApplyReport:
    published: list[str] = field(default_factory=list)
    drafts: dict[str, list[str]] = field(default_factory=dict)  # agency → why it stayed a draft


@transaction.atomic
def workflow_apply(*, actor: Staff, source_id: int, agencies: list[Agency], publish: bool = True) -> ApplyReport:
    """Apply one workflow (a template) to many agencies at once, or clone it into one: each agency gets a draft
    whose steps are bound to its own departments of the same kind, published when it passes the check."""
    source = Version.objects.select_related("workflow__procedure", "workflow__agency").filter(pk=source_id).first()
    if source is None:
        raise NotFound(_("No such workflow version."))
    if actor.role != Role.PROVINCE_ADMIN and any(a.pk != actor.agency_id for a in agencies):
        raise PermissionDenied(_("Only province administrators apply a workflow to other agencies."))
    for agency in agencies:
        check_designer(actor=actor, agency=agency)
    report = ApplyReport()
    procedure = source.workflow.procedure
    for agency in agencies:
        if agency.pk == source.workflow.agency_id:
            continue
        workflow, _created = Workflow.objects.get_or_create(procedure=procedure, agency=agency)
        workflow.versions.filter(state=Version.State.DRAFT).delete()
        draft = _new_draft(workflow, based_on=source)
        problems = _copy_steps(source, draft, agency=agency)
        if not publish:
            report.drafts[agency.name] = problems
            continue
        if problems:
            report.drafts[agency.name] = problems
            continue
        try:
            version_publish(actor=actor, version_id=draft.pk)
        except ValidationFailed as exc:
            report.drafts[agency.name] = list(exc.detail.get("errors", [])) if isinstance(exc.detail, dict) else []
        else:
            report.published.append(agency.name)
    return report


# Reorganisations (docs/reorganisation.md) ---------------------------------------------------------------------


def checklist_build(*, change: Change, moves: list[Move]) -> list[ChecklistItem]:
    """The procedures whose workflow each affected agency must (re)configure, by the three cases of the province's
    letters: (a) every procedure of an agency that begins with the reorganisation; (b) the procedures moved into an
    agency that keeps its name; (b, c) the procedures whose workflow uses a department that ended or moved."""
    reorganisation = change.reorganisation
    day = reorganisation.effective_date
    wanted: dict[tuple[int, int], tuple[str, int | None]] = {}
    source_of = {(m.to, m.procedure_id): m.source for m in moves if m.to is not None}
    for agency_id in change.begun:
        for procedure_id in (
            Competence.objects.filter(agency_id=agency_id)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=day))
            .values_list("procedure_id", flat=True)
        ):
            wanted[(agency_id, procedure_id)] = (
                ChecklistItem.Reason.NEW_AGENCY,
                source_of.get((agency_id, procedure_id)),
            )
    for move in moves:
        if move.to is None or move.already or (move.to, move.procedure_id) in wanted:
            continue
        wanted[(move.to, move.procedure_id)] = (ChecklistItem.Reason.MOVED_IN, move.source)
    if change.departments:
        # Published workflows of agencies still competent whose steps use a department that is gone.
        affected = (
            Step.objects.filter(version__state=Version.State.PUBLISHED, department_id__in=list(change.departments))
            .values_list("version__workflow__agency_id", "version__workflow__procedure_id")
            .distinct()
        )
        for agency_id, procedure_id in affected:
            if agency_id in change.ended:
                continue  # an ended agency's workflows: its successor has its own, or the procedure moved in
            if (agency_id, procedure_id) in wanted:
                continue
            competent = (
                Competence.objects.filter(agency_id=agency_id, procedure_id=procedure_id)
                .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=day))
                .exists()
            )
            if competent:
                wanted[(agency_id, procedure_id)] = (ChecklistItem.Reason.DEPARTMENT_CHANGED, None)
    # An item still open for the same procedure in the same agency (another reorganisation of the same day names
    # the agency too) is not asked twice: publishing the workflow answers both.
    still_open = set(
        ChecklistItem.objects.filter(done_at__isnull=True, agency_id__in={a for a, _p in wanted}).values_list(
            "agency_id", "procedure_id"
        )
    )
    items = [
        ChecklistItem(
            reorganisation=reorganisation,
            agency_id=agency_id,
            procedure_id=procedure_id,
            reason=reason,
            source_agency_id=source,
        )
        for (agency_id, procedure_id), (reason, source) in sorted(wanted.items())
        if (agency_id, procedure_id) not in still_open
    ]
    return ChecklistItem.objects.bulk_create(items, ignore_conflicts=True)


def version_carry(*, version: Version, agency_id: int, change: Change, now: dt.datetime) -> Version:
    """A copy of ``version`` in the workflow of the same procedure in ``agency_id``, its steps bound to the successor
    agencies and departments, for the dossiers that were running on it: they finish on the steps they started with.
    It is never published (retired at birth), so new dossiers wait for the agency's own configuration."""
    workflow, _created = Workflow.objects.get_or_create(procedure_id=version.workflow.procedure_id, agency_id=agency_id)
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    carried = Version.objects.create(
        workflow=workflow,
        number=(workflow.versions.aggregate(n=Max("number"))["n"] or 0) + 1,
        based_on=version,
        state=Version.State.RETIRED,
        retired_at=now,
    )
    steps = []
    owner = version.workflow.agency_id
    agency_of = dict(Department.objects.filter(pk__in=change.departments.values()).values_list("pk", "agency_id"))
    for s in version.steps.order_by("position"):
        values = {f: getattr(s, f) for f in STEP_FIELDS}
        # The owner's own steps (counter, leader) follow the dossier to its new agency, which is not the main
        # successor when a split gives the procedure to another part; other agencies' steps go to their successors.
        values["agency_id"] = agency_id if s.agency_id == owner else change.agency_after(s.agency_id)
        if s.department_id in change.departments:
            values["department_id"] = change.departments[s.department_id]
            values["agency_id"] = agency_of[values["department_id"]]
        steps.append(Step(version=carried, position=s.position, **values))
    Step.objects.bulk_create(steps)
    return carried


@dataclass
class CopyReport:
    drafts: list[Version] = field(default_factory=list)
    published: list[Version] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # procedure name → why it stayed a draft


def _source_version(item: ChecklistItem) -> Version | None:
    """The former agency's workflow of the procedure: its published version, else the last one it had."""
    return (
        Version.objects.filter(workflow__procedure_id=item.procedure_id, workflow__agency_id=item.source_agency_id)
        .exclude(state=Version.State.DRAFT)
        .order_by(models.Case(models.When(state=Version.State.PUBLISHED, then=0), default=1), "-number")
        .first()
    )


@transaction.atomic
def checklist_copy(
    *, actor: Staff, agency: Agency, item_ids: list[int] | None = None, publish: bool = False
) -> CopyReport:
    """Bulk tool: for the open checklist items of ``agency`` (or those chosen), copy the former agency's workflow
    into a draft of this agency, its departments remapped (the reorganisation's department successions first, then a
    department of the same kind); with ``publish``, publish each draft that passes the check."""
    check_designer(actor=actor, agency=agency)
    items = ChecklistItem.objects.filter(agency=agency, done_at__isnull=True).select_related("procedure")
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    report = CopyReport()
    for item in items:
        source = _source_version(item) if item.source_agency_id else None
        if source is None:
            report.problems[item.procedure.name] = [_("The former agency had no workflow for it: configure it here.")]
            continue
        workflow, _created = Workflow.objects.get_or_create(procedure_id=item.procedure_id, agency=agency)
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        workflow.versions.filter(state=Version.State.DRAFT).delete()
        draft = _new_draft(workflow, based_on=source)
        remap = dict(
            DepartmentSuccession.objects.filter(
                reorganisation_id=item.reorganisation_id, successor__agency=agency
            ).values_list("predecessor_id", "successor_id")
        )
        problems = _copy_steps(source, draft, agency=agency, departments=remap)
        report.drafts.append(draft)
        if problems:
            report.problems[item.procedure.name] = problems
            continue
        if publish:
            try:
                version_publish(actor=actor, version_id=draft.pk)
            except ValidationFailed as exc:
                errors = exc.detail.get("errors", []) if isinstance(exc.detail, dict) else []
                report.problems[item.procedure.name] = [str(e) for e in errors]
            else:
                report.published.append(draft)
    return report
