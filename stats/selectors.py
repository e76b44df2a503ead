"""Statistics of reception and resolution per agency (thống kê tiếp nhận, giải quyết hồ sơ), with the
cross-boundary rule (phi địa giới hành chính): a dossier counts as received by the agency hosting the counter that
received it, and as resolved (or in process) by its competent agency. docs/statistics.md explains each figure.

Every figure is read from the agency rows the dossiers point to, never through today's names or successors:
reception from the counter and competent agency as at reception (kept in ``original_counter`` / ``original_agency``
when a reorganisation moved an open dossier), resolution and work in process from the agency handling the dossier.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import PermissionDenied
from core.national import Status
from dossiers.models import Dossier
from organizations.models import Agency, Role, Staff

# Not received: submitted online and not yet accepted, or refused at intake (form 3).
NOT_RECEIVED = (Status.SUBMITTED, Status.REFUSED)
# A result was issued (status 9, and 10 once the applicant has it).
RESOLVED = (Status.RESOLVED, Status.RETURNED)
# Still being handled (the clock runs or waits for the applicant).
OPEN = (Status.ACCEPTED, Status.IN_PROCESS, Status.WAITING_SUPPLEMENT, Status.WAITING_PAYMENT)
# Who may read the statistics: the province's administrators every agency's, the others their own agency's.
STATS_ROLES = frozenset(
    {Role.PROVINCE_ADMIN, Role.AGENCY_ADMIN, Role.AGENCY_LEADER, Role.DEPARTMENT_HEAD, Role.ONE_STOP_OFFICER}
)


@dataclass(frozen=True)
class AgencyRow:
    """One agency's figures for a period. ``agency_id`` is None for a total."""

    agency_id: int | None
    identifier: str
    name: str
    received: int = 0  # accepted at the agency's counters, for whichever competent agency
    received_for_others: int = 0  # of which for another competent agency (cross-boundary out)
    received_by_others: int = 0  # accepted at another agency's counters for this agency (cross-boundary in)
    resolved: int = 0  # results issued by the agency as the competent agency
    resolved_on_time: int = 0
    resolved_late: int = 0
    in_process: int = 0  # received and not finished at the end of the period
    in_process_overdue: int = 0  # of which past their appointment then

    @property
    def received_for_itself(self) -> int:
        return self.received - self.received_for_others

    @property
    def to_resolve(self) -> int:
        """Received during the period for this agency to resolve, at its own counters or elsewhere."""
        return self.received_for_itself + self.received_by_others


@dataclass(frozen=True)
class Flow:
    """Dossiers one agency's counters received for another competent agency."""

    receiving_agency_id: int
    receiving_agency: str
    competent_agency_id: int
    competent_agency: str
    count: int


@dataclass(frozen=True)
class Scope:
    """The agencies whose rows a staff member may read: ``None`` for every agency."""

    agency_ids: list[int] | None
    agency_id: int | None  # the flows shown are those touching this agency (None: all flows)


def stats_scope(*, officer: Staff) -> Scope:
    """What ``officer`` may read: a province administrator every agency, the other roles of ``STATS_ROLES`` their
    own agency's row and the flows in and out of it; PermissionDenied for anyone else (specialists)."""
    if officer.role == Role.PROVINCE_ADMIN:
        return Scope(agency_ids=None, agency_id=None)
    if officer.role not in STATS_ROLES:
        raise PermissionDenied(_("Your role does not give access to the statistics."), code="stats_forbidden")
    return Scope(agency_ids=[officer.agency_id], agency_id=officer.agency_id)


def period_bounds(*, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period from the start of ``start`` to the end of ``end`` (inclusive) in Vietnam time, as a half-open
    interval of instants: the legal day, whatever time zone is active for the request."""
    zone = ZoneInfo(settings.TIME_ZONE)
    low = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return low, high


def _received(low: dt.datetime, high: dt.datetime) -> QuerySet[Dossier]:
    """The dossiers received in the period, with the agency hosting the counter that received them (``receiving``)
    and the agency they were received for (``competent``), both as at reception: a reorganisation that later moved
    an open dossier to a successor agency or counter (dossiers/reorganisation.py) keeps the former ones in
    ``original_agency`` / ``original_counter``. A dossier without a counter (handled on a ministry's system) counts
    as received by its competent agency."""
    return (
        Dossier.objects.exclude(status__in=NOT_RECEIVED)
        .filter(received_at__gte=low, received_at__lt=high)
        .annotate(
            competent=Coalesce("original_agency_id", "agency_id"),
            receiving=Coalesce("original_counter__agency_id", "counter__agency_id", "original_agency_id", "agency_id"),
        )
    )


def intake_and_resolution(*, start: dt.date, end: dt.date, agency_ids: list[int] | None = None) -> list[AgencyRow]:
    """Per agency, what its counters received from ``start`` to ``end`` (inclusive), for itself and for others,
    what other agencies' counters received for it, what it resolved (on time or late) and what it still had in
    process at the end. Every agency of ``agency_ids`` has a row (zeros when idle); without it, every agency with a
    figure. Three queries, whatever the number of agencies."""
    low, high = period_bounds(start=start, end=end)
    # The period's end for the overdue test: an appointment later than now is not missed yet.
    cutoff = min(high, timezone.now())
    figures: dict[int, dict[str, int]] = {pk: {} for pk in agency_ids or ()}

    def add(pk: int, key: str, n: int) -> None:
        if agency_ids is None or pk in figures:
            counts = figures.setdefault(pk, {})
            counts[key] = counts.get(key, 0) + n

    # 1. Reception, by (receiving agency, competent agency) pair: a few rows, one per agency and per flow.
    received = _received(low, high)
    if agency_ids is not None:
        received = received.filter(Q(receiving__in=agency_ids) | Q(competent__in=agency_ids))
    for pair in received.values("receiving", "competent").annotate(n=Count("id")).order_by():
        add(pair["receiving"], "received", pair["n"])
        if pair["receiving"] != pair["competent"]:
            add(pair["receiving"], "received_for_others", pair["n"])
            add(pair["competent"], "received_by_others", pair["n"])

    # 2. Resolution, by the competent agency that handles the dossier (after a reorganisation, the successor).
    finished = Coalesce("completed_at", "returned_at")
    # The appointment printed on the receipt: an apology (form 4) moves the appointment but does not make a late
    # result an on-time one. Pauses for the applicant (supplement, payment) do move it, and count.
    due = Coalesce("original_appointment_at", "appointment_at")
    resolved = Q(status__in=RESOLVED, finished__gte=low, finished__lt=high)
    on_time = Q(due__isnull=True) | Q(finished__lte=F("due"))
    # Running at the end of the period: received before it ended and not finished by then (a closed dossier without
    # a recorded end, as some ministry systems report them, is not counted as running).
    running = Q(received_at__lt=high) & (Q(finished__gte=high) | Q(finished__isnull=True, status__in=OPEN))
    # Overdue at the end: past its appointment then, unless its clock was stopped for the applicant at that moment.
    overdue = running & Q(appointment_at__lt=cutoff) & ~Q(paused_at__lt=cutoff)
    competent = (
        Dossier.objects.exclude(status__in=NOT_RECEIVED).annotate(finished=finished, due=due).filter(resolved | running)
    )
    if agency_ids is not None:
        competent = competent.filter(agency_id__in=agency_ids)
    for row in competent.values("agency_id").annotate(
        resolved=Count("id", filter=resolved),
        resolved_on_time=Count("id", filter=resolved & on_time),
        resolved_late=Count("id", filter=resolved & ~on_time),
        in_process=Count("id", filter=running),
        in_process_overdue=Count("id", filter=overdue),
    ):
        for key, n in row.items():
            if key != "agency_id":
                add(row["agency_id"], key, n)

    # 3. The agencies' rows (those the dossiers point to, whatever their validity today).
    if not figures:
        return []
    counted = [f.name for f in fields(AgencyRow)][3:]
    return [
        AgencyRow(pk, identifier, name, **{key: figures[pk].get(key, 0) for key in counted})
        for pk, identifier, name in Agency.objects.filter(pk__in=figures).values_list("pk", "identifier", "name")
    ]


def rows_total(rows: Iterable[AgencyRow]) -> AgencyRow:
    """The sum of ``rows``, column by column (the table's last line)."""
    rows = list(rows)
    counted = [f.name for f in fields(AgencyRow)][3:]
    return AgencyRow(None, "", _("Total"), **{key: sum(getattr(r, key) for r in rows) for key in counted})


def cross_boundary_flows(*, start: dt.date, end: dt.date, agency_id: int | None = None) -> list[Flow]:
    """(receiving agency → competent agency, count) for the dossiers received from ``start`` to ``end`` at a
    counter of an agency other than the competent one (both as at reception), most frequent first; only those in or
    out of ``agency_id`` when given. One query."""
    low, high = period_bounds(start=start, end=end)
    flows = _received(low, high).exclude(receiving=F("competent"))
    if agency_id is not None:
        flows = flows.filter(Q(receiving=agency_id) | Q(competent=agency_id))
    rows = (
        flows.annotate(
            receiving_name=Coalesce("original_counter__agency__name", "counter__agency__name"),
            competent_name=Coalesce("original_agency__name", "agency__name"),
        )
        .values("receiving", "receiving_name", "competent", "competent_name")
        .annotate(n=Count("id"))
        .order_by("-n", "receiving_name", "competent_name")
    )
    return [Flow(r["receiving"], r["receiving_name"], r["competent"], r["competent_name"], r["n"]) for r in rows]
