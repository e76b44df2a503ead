"""Reads on dossiers. ``access_*`` functions are the only way views get a dossier."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from core.errors import NotFound
from organizations.models import Department, Role, Staff
from procedures.models import Competence

from .models import CODE_PATTERN, INTERNAL_ACTIONS, Dossier, Event, Notice, Notification, Status, Task, Threshold


def _officer_scope(officer: Staff) -> Q:
    """An officer sees their own agency's dossiers and those their agency's counters received."""
    if officer.role == Role.PROVINCE_ADMIN:
        return Q()
    return Q(agency_id=officer.agency_id) | Q(counter__agency_id=officer.agency_id)


def dossiers_for_officer(*, officer: Staff) -> QuerySet[Dossier]:
    return Dossier.objects.filter(_officer_scope(officer))


def access_dossier_for_officer(*, officer: Staff, code: str) -> Dossier:
    """The dossier with this code if the officer may see it: their agency's, their agency's counters', or one
    another agency handed over to theirs (a task of the dossier in their agency). Otherwise NotFound (never
    "forbidden": a code outside one's scope must not even be confirmed to exist)."""
    scope = _officer_scope(officer)
    if officer.role != Role.PROVINCE_ADMIN:
        scope |= Q(Exists(Task.objects.filter(dossier=OuterRef("pk"), agency_id=officer.agency_id)))
    dossier = (
        Dossier.objects.filter(scope)
        .select_related(
            "procedure__field",
            "agency",
            "counter__agency",
            "applicant_commune",
            "received_by",
            "current_task__step__agency",
            "current_task__step__department",
            "current_task__assignee__user",
        )
        .filter(code=code)
        .first()
    )
    if dossier is None:
        raise NotFound(_("No dossier has the code “%(code)s”.") % {"code": code}, code="dossier_not_found")
    return dossier


def access_dossier_for_citizen(*, user: Any, code: str) -> Dossier:
    """The dossier with this code if it is the signed-in citizen's own (submitted from their account); NotFound
    otherwise, for anonymous users, staff and other citizens alike."""
    dossier = None
    if user is not None and user.is_authenticated:
        dossier = (
            Dossier.objects.filter(citizen_id=user.pk, code=code)
            .select_related("procedure__field", "agency", "counter__agency", "applicant_commune", "current_task__step")
            .first()
        )
    if dossier is None:
        raise NotFound(_("No dossier has the code “%(code)s”.") % {"code": code}, code="dossier_not_found")
    return dossier


def access_refusal_for_officer(*, officer: Staff, pk: int) -> Dossier:
    dossier = (
        dossiers_for_officer(officer=officer)
        .select_related("procedure", "agency", "counter__agency", "received_by")
        .filter(pk=pk, status=Status.REFUSED)
        .first()
    )
    if dossier is None:
        raise NotFound(_("No such refusal."))
    return dossier


def handling_departments(*, procedure_id: int, agency_id: int) -> list[str]:
    """The departments of the agency that handle the procedure (the whole process), in one query."""
    kinds = Competence.objects.filter(procedure_id=procedure_id, agency_id=agency_id).values("department_kind")
    return list(
        Department.objects.filter(agency_id=agency_id, kind__in=kinds).order_by("name").values_list("name", flat=True)
    )


def public_page_cache_key(*, code: str, language: str) -> str:
    """Where the rendered public lookup page of a dossier is kept (see portal.fastpath); services forget it on
    every change of the dossier."""
    return f"lookup-page:{language}:{code}"


def public_cache_keys(*, code: str) -> list[str]:
    """Every cached public copy of a dossier, in every language: what a change of the dossier makes stale."""
    return [public_page_cache_key(code=code, language=language) for language, _name in settings.LANGUAGES]


@dataclass(frozen=True)
class PublicView:
    """What anyone may see of a dossier (Quy chế 03/2023/QĐ-UBND An Giang, Điều 12)."""

    code: str
    receiving_agency: str
    applicant_name: str
    received_at: dt.datetime | None
    valid: bool
    handling_departments: tuple[str, ...] = ()
    organisation_name: str = ""
    appointment_at: dt.datetime | None = None


# The public lookup is the hottest path of the system (every QR scan): one indexed query, no ORM compilation.
_PUBLIC_SQL = """
SELECT code, status, applicant_name, organisation_name, received_at, submitted_at, appointment_at,
       public_receiving_agency, public_departments
FROM dossiers_dossier WHERE code = %s AND status <> %s
"""


def dossier_public_view(*, code: str) -> PublicView:
    if not CODE_PATTERN.match(code or ""):
        raise NotFound(_("“%(code)s” is not a dossier code.") % {"code": code[:60]}, code="malformed_code")
    # A prepared statement, through a server-side binding cursor on the driver's own connection: Django's cursors
    # bind parameters client-side and never prepare, so PostgreSQL would plan this query again on every request
    # (planning costs more than running it). Needs the connection's prepare_threshold set (config/settings.py).
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        row = cursor.execute(_PUBLIC_SQL, [code, int(Status.REFUSED)], prepare=True).fetchone()
    if row is None:
        raise NotFound(_("No dossier has the code “%(code)s”.") % {"code": code}, code="dossier_not_found")
    code, status, name, organisation, received, submitted, appointment, receiving, departments = row
    if status == Status.SUBMITTED:  # online, not yet accepted: code, agency, name and date only
        return PublicView(
            code=code, receiving_agency=receiving, applicant_name=name, received_at=submitted or received, valid=False
        )
    return PublicView(
        code=code,
        receiving_agency=receiving,
        applicant_name=name,
        received_at=received,
        valid=True,
        handling_departments=tuple(departments),
        organisation_name=organisation,
        appointment_at=appointment,
    )


def tasks_of(*, dossier: Dossier) -> QuerySet[Task]:
    """The steps the dossier went through, with who acted and whether they kept to the step's budget."""
    return (
        Task.objects.filter(dossier=dossier)
        .select_related("step", "agency", "department", "assignee__user", "finished_by__user")
        .order_by("entered_at", "id")
    )


def events_of(*, dossier: Dossier) -> QuerySet[Event]:
    return dossier.events.order_by("at", "id")


def events_for_applicant(*, dossier: Dossier) -> QuerySet[Event]:
    """The applicant's timeline: every event but the agency's internal ones (taking or assigning a task)."""
    return events_of(dossier=dossier).exclude(action__in=INTERNAL_ACTIONS)


def open_supplement_request(*, dossier: Dossier) -> Notice | None:
    """The supplement request (form 2) the applicant has still to answer, while the dossier waits for it."""
    if dossier.status != Status.WAITING_SUPPLEMENT:
        return None
    return dossier.notices.filter(kind=Notice.Kind.SUPPLEMENT, answered_at__isnull=True).order_by("-issued_at").first()


def register_entries(*, officer: Staff, field_id: int, start: dt.date, end: dt.date) -> QuerySet[Dossier]:
    """Form 7: the register of one field, dossiers received between two dates (inclusive)."""
    return (
        dossiers_for_officer(officer=officer)
        .filter(register_field_id=field_id, received_at__date__gte=start, received_at__date__lte=end)
        .exclude(status=Status.REFUSED)
        .select_related("procedure", "agency")
        .order_by("register_volume", "register_number")
    )


# Work queues ------------------------------------------------------------------------------------------------

QUEUES = ("mine", "department", "due_soon", "overdue", "waiting")
QUEUE_PAGE = 50


@dataclass(frozen=True)
class QueueFilter:
    queue: str = "mine"
    procedure_id: int | None = None
    counter_id: int | None = None


def _open_tasks_in_scope(officer: Staff) -> QuerySet[Task]:
    """Open tasks the officer's queues draw from: their department's, or their agency's when they have none
    (leaders, one-stop officers); one-stop officers also see the counter steps of what their counter received."""
    open_tasks = Task.objects.filter(finished_at__isnull=True)
    if officer.role == Role.PROVINCE_ADMIN:
        return open_tasks
    if officer.role == Role.ONE_STOP_OFFICER and officer.counter_id is not None:
        # A counter step is the receiving counter's (engine.can_act_on), which for a cross-boundary dossier is not
        # one of the competent agency's: leave those to the counter that received them.
        another_counters = Q(step__kind="counter", dossier__counter__isnull=False) & ~Q(
            dossier__counter_id=officer.counter_id
        )
        return open_tasks.filter(
            (Q(agency_id=officer.agency_id, department_id__isnull=True) & ~another_counters)
            | Q(step__kind="counter", dossier__counter_id=officer.counter_id)
        )
    if officer.department_id is not None:
        return open_tasks.filter(department_id=officer.department_id)
    return open_tasks.filter(agency_id=officer.agency_id)


def queue_tasks(*, officer: Staff, filters: QueueFilter, now: dt.datetime, soon: dt.datetime) -> QuerySet[Task]:
    """One work queue's open tasks, most urgent first; ``soon`` is one working day after ``now``."""
    # A task's clock is paused (paused_at set) exactly while its dossier waits for the applicant: the queues
    # read that from the task itself, without joining the dossiers.
    if filters.queue == "mine":
        tasks = Task.objects.filter(finished_at__isnull=True, assignee=officer, paused_at__isnull=True)
    else:
        tasks = _open_tasks_in_scope(officer)
        if filters.queue == "department":
            tasks = tasks.filter(assignee__isnull=True, paused_at__isnull=True)
        elif filters.queue == "due_soon":
            tasks = tasks.filter(due_at__gte=now, due_at__lt=soon, paused_at__isnull=True)
        elif filters.queue == "overdue":
            tasks = tasks.filter(due_at__lt=now, paused_at__isnull=True)
        elif filters.queue == "waiting":
            tasks = tasks.filter(paused_at__isnull=False)
        else:
            raise NotFound(_("No such work queue."))
    if filters.procedure_id:
        tasks = tasks.filter(dossier__procedure_id=filters.procedure_id)
    if filters.counter_id:
        tasks = tasks.filter(dossier__counter_id=filters.counter_id)
    # Only what a queue row shows: a procedure row carries its whole legal text and search vector.
    return (
        tasks.select_related("dossier__procedure", "step", "assignee__user")
        .only(
            "due_at", "paused_at", "assignee_id", "dossier__code", "dossier__status", "dossier__procedure__name",
            "step__name", "assignee__user__first_name", "assignee__user__last_name", "assignee__user__username",
        )
        .order_by("due_at", "id")
    )  # fmt: skip


QUEUE_ROW = ("dossier__code", "dossier__status", "dossier__procedure__name", "step__name", "due_at",
             "assignee__user__first_name", "assignee__user__last_name", "assignee__user__username")  # fmt: skip


def queue_rows(*, officer: Staff, filters: QueueFilter, now: dt.datetime, soon: dt.datetime) -> QuerySet[Any]:
    """``queue_tasks`` as plain tuples of ``QUEUE_ROW``: what a queue page lists, without building model instances
    (a page of 50 rows is read for every officer many times a day)."""
    return queue_tasks(officer=officer, filters=filters, now=now, soon=soon).values_list(*QUEUE_ROW)


def queue_counts(*, officer: Staff, now: dt.datetime, soon: dt.datetime) -> dict[str, int]:
    """How many tasks each queue holds, in one query."""
    active = Q(paused_at__isnull=True)
    scope = _open_tasks_in_scope(officer)
    mine = Task.objects.filter(finished_at__isnull=True, assignee=officer).filter(active).count
    counts = scope.aggregate(
        department=Count("id", filter=Q(assignee__isnull=True) & active),
        due_soon=Count("id", filter=Q(due_at__gte=now, due_at__lt=soon) & active),
        overdue=Count("id", filter=Q(due_at__lt=now) & active),
        waiting=Count("id", filter=Q(paused_at__isnull=False)),
    )
    return {"mine": mine(), **counts}


# --- Notices (forms 2, 4, 5 and the refusal to resolve) ----------------------------------------------------------


def notice_for_dossier(*, dossier: Dossier, pk: int) -> Notice:
    """A notice of this dossier (already checked with ``access_dossier_for_officer``), with what its form prints;
    NotFound for a notice of another dossier."""
    notice = (
        Notice.objects.filter(dossier=dossier, pk=pk)
        .select_related("issued_by__user", "issued_by__agency__parent", "issued_by__agency__unit")
        .first()
    )
    if notice is None:
        raise NotFound(_("This dossier has no such notice."), code="notice_not_found")
    notice.dossier = dossier  # the caller's dossier, with its related rows already selected
    return notice


# --- Notifications (the deadline scan's, dossiers/deadlines.py) --------------------------------------------------


@dataclass(frozen=True)
class UnreadNotification:
    pk: int
    kind: str
    label: str
    message: str
    created_at: dt.datetime
    code: str


@dataclass(frozen=True)
class Inbox:
    total: int  # every unread notification, not only those listed
    unread: list[UnreadNotification]


def unread_notifications(*, staff: Staff, limit: int = 10) -> Inbox:
    """The newest ``limit`` unread notifications of ``staff`` and how many are unread in all, in one query."""
    unread = Notification.objects.filter(staff=staff, read_at__isnull=True)
    total = unread.order_by().values("staff").annotate(n=Count("id")).values("n")
    # The code as a subquery, not a join: PostgreSQL then reads it for the rows listed only, after the limit.
    code = Dossier.objects.filter(pk=OuterRef("dossier_id")).order_by().values("code")
    rows = list(
        unread.annotate(total=Subquery(total), code=Subquery(code))
        .order_by("-created_at", "-id")
        .values_list("pk", "kind", "message", "created_at", "code", "total")[:limit]
    )
    labels = dict(Threshold.choices)
    return Inbox(
        total=rows[0][5] if rows else 0,
        unread=[
            UnreadNotification(pk, kind, str(labels.get(kind, kind)), message, created_at, code or "")
            for pk, kind, message, created_at, code, _total in rows
        ],
    )
