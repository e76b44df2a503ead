"""The workflow engine: moves a dossier through the steps of its workflow version.

Every action is one transaction: it locks the dossier's row, checks that the dossier is still where the officer
saw it (the current task they acted on) and that the officer may take the action now, changes the dossier and its
tasks, and writes one event. Two officers acting at once: the second waits for the lock, then finds the dossier
moved on and gets a Conflict (HTTP 409), never a double move.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, PermissionDenied, ValidationFailed
from core.files import sha256_of, upload_check
from core.selectors import calendar_for
from organizations.models import Role, Staff
from workflows import graph
from workflows.models import Action, Step
from workflows.selectors import steps_of

from .models import Attachment, Dossier, Notice, Status, Task
from .selectors import access_dossier_for_officer
from .services import event_record, open_task, results_to_store

PAUSED = {Status.WAITING_SUPPLEMENT, Status.WAITING_PAYMENT}
ACTIVE = {Status.ACCEPTED, Status.IN_PROCESS, Status.RESOLVED}
MOVES = {Action.FORWARD, Action.HAND_OVER, Action.APPROVE, Action.SEND_BACK}
# The order in which actions are offered (pages and API).
ORDER = [Action.CLAIM, Action.RECEIVE_BACK, Action.FORWARD, Action.HAND_OVER, Action.APPROVE, Action.RECORD_RESULT,
         Action.RETURN_RESULT, Action.SEND_BACK, Action.ASSIGN, Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT,
         Action.RESUME, Action.APOLOGISE, Action.STOP, Action.REFUSE]  # fmt: skip


@dataclass
class ActionInput:
    note: str = ""
    to_step: str = ""  # a step's key, when the move has a choice (branch, send back)
    assignee_id: int | None = None
    items: list[str] = field(default_factory=list)  # what the applicant must add (form 2)
    reason: str = ""
    contact: str = ""
    extra_days: int | None = None  # the apology's extension in working days (form 4)
    files: list[UploadedFile] = field(default_factory=list)


# Who may act ------------------------------------------------------------------------------------------------


def can_act_on(*, staff: Staff, task: Task, dossier: Dossier) -> bool:
    """Whether ``staff`` is one of the officers a step is for: the receiving counter's officers for the counter's
    steps, otherwise the step's role in its agency and department (a department head also does its specialists'
    work)."""
    step = task.step
    if step.kind == Step.Kind.COUNTER:
        if staff.role != Role.ONE_STOP_OFFICER:
            return False
        if dossier.counter_id is not None:
            return staff.counter_id == dossier.counter_id
        return staff.agency_id == task.agency_id
    if staff.agency_id != task.agency_id:
        return False
    if task.department_id is not None and staff.department_id != task.department_id:
        return False
    if staff.role == step.role:
        return True
    return staff.role == Role.DEPARTMENT_HEAD and step.role == Role.SPECIALIST


def can_assign(*, staff: Staff, task: Task) -> bool:
    if staff.agency_id != task.agency_id:
        return False
    if staff.role == Role.AGENCY_LEADER:
        return True
    return (
        staff.role == Role.DEPARTMENT_HEAD
        and task.department_id is not None
        and staff.department_id == task.department_id
    )


def _moves(steps: list[Step], task: Task, owner_agency_id: int) -> dict[str, list[Step]]:
    """The forward moves from a task's step, by the action that makes them (forward, hand over, approve)."""
    step = task.step
    moves: dict[str, list[Step]] = {}
    for target in graph.successors(steps, step):
        if step.kind == Step.Kind.SIGN:
            action = Action.APPROVE
        elif target.agency_id != step.agency_id and step.agency_id == owner_agency_id:
            action = Action.HAND_OVER
        else:
            action = Action.FORWARD
        moves.setdefault(action, []).append(target)
    return moves


def _earlier_steps(dossier: Dossier, task: Task) -> list[Step]:
    """The steps the dossier has already passed, before the current one: where it can be sent back to."""
    seen = (
        Task.objects.filter(dossier=dossier, finished_at__isnull=False, step__position__lt=task.step.position)
        .select_related("step")
        .order_by("step__position")
    )
    return list({t.step.key: t.step for t in seen}.values())


def actions_available(*, officer: Staff, dossier: Dossier, now: dt.datetime | None = None) -> list[str]:
    """What ``officer`` may do to ``dossier`` now, in the order pages offer them."""
    now = now or timezone.now()
    task = dossier.current_task
    if task is None or dossier.status not in ACTIVE | PAUSED:
        return []
    allowed: set[str] = set()
    acts = can_act_on(staff=officer, task=task, dossier=dossier)
    mine = task.assignee_id == officer.pk
    if can_assign(staff=officer, task=task):
        allowed.add(Action.ASSIGN)
    if dossier.status in PAUSED:
        counter_officer = officer.role == Role.ONE_STOP_OFFICER and officer.counter_id == dossier.counter_id
        if mine or counter_officer:
            allowed.add(Action.RESUME)
        return [a for a in ORDER if a in allowed]
    if task.awaiting_receipt:
        if acts:
            allowed.add(Action.RECEIVE_BACK)
        return [a for a in ORDER if a in allowed]
    if task.assignee_id is None:
        if acts:
            allowed.add(Action.CLAIM)
        return [a for a in ORDER if a in allowed]
    if not mine:
        return [a for a in ORDER if a in allowed]
    step = task.step
    configured = set(step.actions)
    steps = steps_of(version_id=step.version_id)
    moves = _moves(steps, task, dossier.agency_id)
    if Action.FORWARD in configured:
        allowed |= {a for a in (Action.FORWARD, Action.HAND_OVER) if a in moves}
    if Action.APPROVE in configured and Action.APPROVE in moves:
        allowed.add(Action.APPROVE)
    if Action.SEND_BACK in configured and _earlier_steps(dossier, task):
        allowed.add(Action.SEND_BACK)
    resolved = dossier.status == Status.RESOLVED
    if Action.RECORD_RESULT in configured and not resolved:
        allowed.add(Action.RECORD_RESULT)
    if Action.RETURN_RESULT in configured and resolved and not graph.successors(steps, step):
        allowed.add(Action.RETURN_RESULT)
    if not resolved:
        for action in (Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT, Action.REFUSE, Action.STOP):
            if action in configured:
                allowed.add(action)
        late_enough = dossier.appointment_at is not None and now < dossier.appointment_at
        if Action.APOLOGISE in configured and dossier.original_appointment_at is None and late_enough:
            allowed.add(Action.APOLOGISE)
    return [a for a in ORDER if a in allowed]


def move_targets(*, dossier: Dossier, action: str) -> list[Step]:
    """The steps an action can lead to (the choice offered with forward, hand over, approve and send back)."""
    task = dossier.current_task
    if task is None:
        return []
    if action == Action.SEND_BACK:
        return _earlier_steps(dossier, task)
    steps = steps_of(version_id=task.step.version_id)
    return _moves(steps, task, dossier.agency_id).get(action, [])


def assignees(*, dossier: Dossier) -> list[Staff]:
    """The officers the current task can be assigned to."""
    task = dossier.current_task
    if task is None:
        return []
    candidates = Staff.objects.filter(agency_id=task.agency_id).select_related("user", "department", "counter")
    if task.step.kind == Step.Kind.COUNTER and dossier.counter_id is not None:
        # A counter step is the receiving counter's, which for a cross-boundary dossier is another agency's.
        candidates = Staff.objects.filter(counter_id=dossier.counter_id).select_related("user", "department", "counter")
    elif task.department_id is not None:
        candidates = candidates.filter(department_id=task.department_id)
    return [s for s in candidates if can_act_on(staff=s, task=task, dossier=dossier)]


def deadline_state(*, dossier: Dossier, now: dt.datetime | None = None) -> str:
    """The colour of a dossier's deadline: done, paused, overdue, due within one working day, or on time."""
    now = now or timezone.now()
    if dossier.status in PAUSED:
        return "paused"
    if dossier.appointment_at is None:
        return "none"
    if not dossier.is_open or dossier.status == Status.RESOLVED:
        end = dossier.completed_at or dossier.returned_at
        return "late" if end and end > dossier.appointment_at else "done"
    if now > dossier.appointment_at:
        return "overdue"
    if calendar_for(working_hours=dossier.agency.working_hours).add(now, 1, "days") >= dossier.appointment_at:
        return "due_soon"
    return "on_time"


# Acting -----------------------------------------------------------------------------------------------------


def finish_task(task: Task, *, officer: Staff, outcome: str, now: dt.datetime) -> None:
    task.finished_at = now
    task.finished_by = officer
    task.outcome = outcome
    task.late = now > task.due_at
    task.save(update_fields=["finished_at", "finished_by", "outcome", "late"])


def _store(dossier: Dossier, task: Task, officer: Staff, upload: UploadedFile, kind: str, now: dt.datetime) -> None:
    content_type = upload_check(upload, field="files")
    attachment = Attachment(
        dossier=dossier,
        task=task,
        kind=kind,
        file_name=(upload.name or "")[:255],
        content_type=content_type,
        size=upload.size,
        checksum=sha256_of(upload),
        uploaded_at=now,
        uploaded_by=officer,
    )
    attachment.file.save(attachment.checksum, upload, save=False)
    attachment.save()


def clock_resume(*, dossier: Dossier, task: Task, now: dt.datetime) -> None:
    """The applicant answered (supplement, payment): the dossier's and the step's clocks run again and both
    deadlines move by the working time they were paused. The caller saves the dossier and records the event."""
    paused_at = dossier.paused_at or now
    if dossier.appointment_at is not None:
        calendar = calendar_for(working_hours=dossier.agency.working_hours)
        dossier.appointment_at = calendar.resume(
            appointment=dossier.appointment_at, paused_at=paused_at, resumed_at=now
        )
    task.due_at = calendar_for(working_hours=task.step.agency.working_hours).resume(
        appointment=task.due_at, paused_at=task.paused_at or paused_at, resumed_at=now
    )
    task.paused_at = None
    task.save(update_fields=["due_at", "paused_at"])
    Notice.objects.filter(dossier=dossier, answered_at__isnull=True, kind__in=["supplement", "payment"]).update(
        answered_at=now
    )
    dossier.status = _status_for(dossier, task.step)
    dossier.paused_at = None


def _pick(targets: list[Step], key: str) -> Step:
    if not targets:
        raise ValidationFailed(_("There is no step to go to."), detail={"to_step": _("No step available.")})
    if not key and len(targets) == 1:
        return targets[0]
    match = next((s for s in targets if s.key == key), None)
    if match is None:
        raise ValidationFailed(
            _("Choose the step to go to."),
            detail={"to_step": _("Choose one of: %(steps)s.") % {"steps": ", ".join(s.name for s in targets)}},
        )
    return match


def _required(value: str, field_name: str, message: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(message, detail={field_name: message})
    return value


def _status_for(dossier: Dossier, step: Step) -> int:
    if dossier.status == Status.RESOLVED:
        return Status.RESOLVED  # a recorded result stays resolved on its way back to the counter
    return step.national_status if step.national_status in (Status.ACCEPTED, Status.IN_PROCESS) else Status.IN_PROCESS


@transaction.atomic
def dossier_act(
    *,
    officer: Staff,
    code: str,
    action: str,
    task_id: int | None,
    data: ActionInput | None = None,
    now: dt.datetime | None = None,
) -> Dossier:
    """Take ``action`` on the dossier ``code`` as ``officer``, who saw it at task ``task_id``."""
    data = data or ActionInput()
    now = now or timezone.now()
    visible = access_dossier_for_officer(officer=officer, code=code)  # NotFound outside the officer's scope
    # The row lock: whoever comes second waits here, then sees the first one's change.
    dossier = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("agency", "procedure", "counter")
        .get(pk=visible.pk)
    )
    if action not in Action.values:
        raise ValidationFailed(_("Unknown action “%(action)s”.") % {"action": action[:40]}, code="unknown_action")
    if task_id is None or dossier.current_task_id != task_id:
        raise Conflict(
            _("The dossier has moved on since you opened it (another officer acted on it). Reload and check again."),
            code="dossier_moved",
        )
    task = Task.objects.select_related("step__agency", "step__department", "assignee__user").get(pk=task_id)
    dossier.current_task = task
    if action == Action.CLAIM and task.assignee_id is not None and task.assignee_id != officer.pk:
        raise Conflict(
            _("%(name)s has already taken this task.")
            % {"name": task.assignee.user.get_full_name() or task.assignee.user.username},
            code="already_taken",
        )
    if action not in actions_available(officer=officer, dossier=dossier, now=now):
        raise PermissionDenied(_("You cannot do this to the dossier now."), code="action_not_allowed")

    status_from, step_from = dossier.status, dossier.current_step
    note = data.note.strip()
    changed = ["status", "current_step", "current_task", "public_departments", "updated_at"]
    step = task.step

    if action in (Action.CLAIM, Action.RECEIVE_BACK):
        task.assignee = officer
        task.awaiting_receipt = False
        task.save(update_fields=["assignee", "awaiting_receipt"])
    elif action == Action.ASSIGN:
        chosen = next((s for s in assignees(dossier=dossier) if s.pk == data.assignee_id), None)
        if chosen is None:
            raise ValidationFailed(
                _("Choose an officer of the step's department."), detail={"assignee": _("Choose an officer.")}
            )
        task.assignee = chosen
        task.save(update_fields=["assignee"])
        note = note or (chosen.user.get_full_name() or chosen.user.username)
    elif action in (Action.FORWARD, Action.HAND_OVER, Action.APPROVE, Action.SEND_BACK):
        target = _pick(move_targets(dossier=dossier, action=action), data.to_step)
        for upload in data.files:
            _store(dossier, task, officer, upload, Attachment.Kind.WORKING, now)
        finish_task(task, officer=officer, outcome=action, now=now)
        target = Step.objects.select_related("agency", "department").get(pk=target.pk)
        assignee = None
        if action == Action.SEND_BACK:
            # Back to whoever handled that step before.
            previous = (
                Task.objects.filter(dossier=dossier, step=target, finished_by__isnull=False)
                .order_by("-finished_at")
                .first()
            )
            assignee = previous.finished_by if previous else None
        new = open_task(dossier, target, now=now, assignee=assignee)
        if target.agency_id != step.agency_id and target.agency_id == dossier.agency_id:
            new.awaiting_receipt = True  # back from another agency: the lead agency receives it back
            new.save(update_fields=["awaiting_receipt"])
        dossier.status = _status_for(dossier, target)
    elif action in (Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT):
        items = [i.strip() for i in data.items if i.strip()]
        if not items:
            message = (
                _("List what the applicant must add.")
                if action == Action.REQUEST_SUPPLEMENT
                else _("List what the applicant must pay.")
            )
            raise ValidationFailed(message, detail={"items": message})
        reason = _required(data.reason, "reason", _("Give the reason."))
        Notice.objects.create(
            dossier=dossier,
            task=task,
            kind=Notice.Kind.SUPPLEMENT if action == Action.REQUEST_SUPPLEMENT else Notice.Kind.PAYMENT,
            items=items,
            reason=reason,
            contact=data.contact.strip() or (officer.user.get_full_name() or officer.user.username),
            issued_at=now,
            issued_by=officer,
        )
        dossier.status = Status.WAITING_SUPPLEMENT if action == Action.REQUEST_SUPPLEMENT else Status.WAITING_PAYMENT
        if action == Action.REQUEST_SUPPLEMENT:
            dossier.supplement_count += 1
            changed.append("supplement_count")
        # The clock stops for the dossier and for the step while the applicant has the turn.
        dossier.paused_at = now
        task.paused_at = now
        task.save(update_fields=["paused_at"])
        changed.append("paused_at")
        note = note or "; ".join(items)
    elif action == Action.RESUME:
        for upload in data.files:
            _store(dossier, task, officer, upload, Attachment.Kind.WORKING, now)
        clock_resume(dossier=dossier, task=task, now=now)
        changed += ["paused_at", "appointment_at"]
    elif action in (Action.REFUSE, Action.STOP):
        reason = _required(data.reason, "reason", _("Give the reason."))
        Notice.objects.create(
            dossier=dossier,
            task=task,
            kind=Notice.Kind.REFUSAL if action == Action.REFUSE else Notice.Kind.STOP,
            reason=reason,
            issued_at=now,
            issued_by=officer,
        )
        finish_task(task, officer=officer, outcome=action, now=now)
        dossier.status = Status.STOPPED if action == Action.REFUSE else Status.WITHDRAWN
        dossier.current_task = None
        dossier.current_step = ""
        dossier.completed_at = now
        dossier.refusal_reasons = reason if action == Action.REFUSE else dossier.refusal_reasons
        changed += ["completed_at", "refusal_reasons"]
        note = note or reason
    elif action == Action.APOLOGISE:
        reason = _required(data.reason, "reason", _("Give the reason for the delay."))
        if not data.extra_days or data.extra_days < 1 or data.extra_days > 60:
            message = _("Enter the extension in working days (1 to 60).")
            raise ValidationFailed(message, detail={"extra_days": message})
        old = dossier.appointment_at
        assert old is not None  # apologise is only offered before a known appointment
        new_appointment = calendar_for(working_hours=dossier.agency.working_hours).add(old, data.extra_days, "days")
        Notice.objects.create(
            dossier=dossier,
            task=task,
            kind=Notice.Kind.APOLOGY,
            reason=reason,
            old_appointment_at=old,
            new_appointment_at=new_appointment,
            issued_at=now,
            issued_by=officer,
        )
        dossier.original_appointment_at = old
        dossier.appointment_at = new_appointment
        changed += ["original_appointment_at", "appointment_at"]
        note = note or reason
    elif action == Action.RECORD_RESULT:
        if not data.files:
            message = _("Attach the result (PDF, JPEG or PNG).")
            raise ValidationFailed(message, detail={"files": message})
        for upload in data.files:
            _store(dossier, task, officer, upload, Attachment.Kind.RESULT, now)
        results_to_store(dossier=dossier)
        dossier.status = Status.RESOLVED
        dossier.completed_at = now
        changed.append("completed_at")
    elif action == Action.RETURN_RESULT:
        finish_task(task, officer=officer, outcome=action, now=now)
        dossier.status = Status.RETURNED
        dossier.returned_at = now
        dossier.current_task = None
        dossier.current_step = ""
        changed.append("returned_at")

    dossier.save(update_fields=changed)
    event_record(
        dossier=dossier, action=action, actor=officer, status_from=status_from, step_from=step_from, note=note, at=now
    )
    return dossier
