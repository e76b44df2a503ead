"""The shape of a workflow version: which step follows which, and whether the version may be published.

Pure functions over a list of steps (no queries), shared by the designer, the publishing service and the engine.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from core.calendar import WorkingHours
from organizations.models import Role

from .models import CONFIGURABLE_ACTIONS, Action, Step


def successors(steps: Sequence[Step], step: Step) -> list[Step]:
    """The steps that may follow ``step``: those it names, or the one after it by position (none for the last)."""
    by_key = {s.key: s for s in steps}
    if step.next_keys:
        return [by_key[k] for k in step.next_keys if k in by_key]
    later = [s for s in steps if s.position > step.position]
    return [min(later, key=lambda s: s.position)] if later else []


def first(steps: Sequence[Step]) -> Step | None:
    return min(steps, key=lambda s: s.position) if steps else None


def budget_hours(step: Step, hours: WorkingHours) -> Decimal:
    """A step's budget in working hours, a working day being the acting agency's day length."""
    if step.budget_unit == Step.Unit.HOURS:
        return Decimal(step.budget)
    return Decimal(step.budget) * Decimal(hours.day_length / timedelta(hours=1))


def procedure_hours(
    time_unit: str, processing_time: Decimal, target_time: Decimal | None, hours: WorkingHours
) -> tuple[Decimal, Decimal | None]:
    """A procedure's statutory and target times in working hours, a day being the agency's day length."""
    per_day = Decimal(hours.day_length / timedelta(hours=1)) if time_unit == "days" else Decimal(1)
    return Decimal(processing_time) * per_day, (Decimal(target_time) * per_day if target_time else None)


def longest_path_hours(steps: Sequence[Step], day_length: dict[int, WorkingHours]) -> Decimal:
    """The largest total budget over any way through the workflow (steps are forward-only, so a DAG)."""
    best: dict[str, Decimal] = {}
    for step in sorted(steps, key=lambda s: s.position, reverse=True):
        after = [best[s.key] for s in successors(steps, step) if s.key in best]
        hours = day_length.get(step.agency_id) or WorkingHours()
        best[step.key] = budget_hours(step, hours) + (max(after) if after else Decimal(0))
    start = first(steps)
    return best[start.key] if start else Decimal(0)


@dataclass
class Check:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check(
    steps: Sequence[Step],
    *,
    agency_id: int,
    statutory_hours: Decimal,
    target_hours: Decimal | None,
    day_length: dict[int, WorkingHours],
) -> Check:
    """Whether a version may be published: every step reachable, one end, departments of the acting agency,
    actions that make sense, and budgets within the procedure's statutory time (a warning above the target)."""
    result = Check()
    if not steps:
        result.errors.append(_("The workflow has no steps."))
        return result
    ordered = sorted(steps, key=lambda s: s.position)
    keys = [s.key for s in ordered]
    for s in ordered:
        label = f"{s.position}. {s.name}"
        for k in s.next_keys:
            if k not in keys:
                result.errors.append(
                    _("Step “%(step)s” goes to an unknown step “%(key)s”.") % {"step": label, "key": k}
                )
            elif keys.index(k) <= keys.index(s.key):
                result.errors.append(
                    _("Step “%(step)s” can only go on to a later step; use “send back” to return.") % {"step": label}
                )
        if s.department_id is not None:
            department = s.department
            today = timezone.localdate()
            if department.agency_id != s.agency_id:
                result.errors.append(
                    _("Step “%(step)s”: the department “%(department)s” is not part of the acting agency.")
                    % {"step": label, "department": department.name}
                )
            elif department.valid_from > today or (department.valid_until and department.valid_until <= today):
                result.errors.append(
                    _("Step “%(step)s”: the department “%(department)s” no longer exists.")
                    % {"step": label, "department": department.name}
                )
        elif s.role not in (Role.ONE_STOP_OFFICER, Role.AGENCY_LEADER):
            result.errors.append(_("Step “%(step)s” needs a department.") % {"step": label})
        if s.agency_id != agency_id and s.department_id is None:
            result.errors.append(
                _("Step “%(step)s” of another agency needs that agency's department.") % {"step": label}
            )
        if s.kind == Step.Kind.SIGN and s.role != Role.AGENCY_LEADER:
            result.errors.append(_("Step “%(step)s”: only the agency's leaders sign.") % {"step": label})
        if s.kind == Step.Kind.COUNTER and s.role != Role.ONE_STOP_OFFICER:
            result.errors.append(
                _("Step “%(step)s”: the counter's step belongs to one-stop officers.") % {"step": label}
            )
        if unknown := set(s.actions) - set(CONFIGURABLE_ACTIONS):
            result.errors.append(
                _("Step “%(step)s” allows unknown actions: %(actions)s.")
                % {"step": label, "actions": ", ".join(sorted(unknown))}
            )
        if s.budget <= 0:
            result.errors.append(_("Step “%(step)s” needs a time budget above zero.") % {"step": label})
        moves = {Action.FORWARD, Action.APPROVE} & set(s.actions)
        if s is not ordered[-1] and not moves:
            result.errors.append(_("Step “%(step)s” has no way forward (forward or approve).") % {"step": label})
    if len(set(keys)) != len(keys):
        result.errors.append(_("Two steps have the same key."))
    if result.errors:
        return result

    reached = {ordered[0].key}
    todo = [ordered[0]]
    while todo:
        for nxt in successors(ordered, todo.pop()):
            if nxt.key not in reached:
                reached.add(nxt.key)
                todo.append(nxt)
    for s in ordered:
        if s.key not in reached:
            result.errors.append(_("Step “%(step)s” can never be reached.") % {"step": f"{s.position}. {s.name}"})
    ends = [s for s in ordered if not successors(ordered, s)]
    if len(ends) != 1:
        result.errors.append(_("The workflow must have exactly one end."))
    last = ordered[-1]
    if Action.RETURN_RESULT not in last.actions or last.kind != Step.Kind.COUNTER:
        result.errors.append(_("The last step must be the counter's, where the result is returned."))
    if not any(Action.RECORD_RESULT in s.actions for s in ordered):
        result.errors.append(_("No step records the result."))

    total = longest_path_hours(ordered, day_length)
    if total > statutory_hours:
        result.errors.append(
            _("The steps take up to %(total)s working hours, more than the statutory %(limit)s.")
            % {"total": _hours(total), "limit": _hours(statutory_hours)}
        )
    elif target_hours is not None and total > target_hours:
        result.warnings.append(
            _("The steps take up to %(total)s working hours, more than the target %(limit)s.")
            % {"total": _hours(total), "limit": _hours(target_hours)}
        )
    return result


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")
