"""Reconciliation: dossiers and procedures whose state here differs from what the national portal holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from core.models import OutboxMessage
from dossiers.models import Dossier
from procedures.models import Procedure

from . import national
from .national import Portal

CHUNK = 200


@dataclass(frozen=True)
class Difference:
    code: str
    name: str
    local: str
    portal: str | None  # None: the portal does not have it
    in_flight: int  # messages still on their way (pending or failed): the difference may be only that


@dataclass
class Reconciliation:
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    unreachable: str = ""  # the portal could not be asked: nothing was compared


def reconcile_dossiers(
    *, start: dt.date, end: dt.date, agency_id: int | None = None, limit: int = 5000, portal: Portal | None = None
) -> Reconciliation:
    """Dossiers received between two dates (ours, not a ministry's) whose status differs on the portal."""
    portal = portal or national.portal()
    tz = timezone.get_current_timezone()
    dossiers = Dossier.objects.filter(
        source_system="",
        code__isnull=False,
        received_at__gte=timezone.make_aware(dt.datetime.combine(start, dt.time()), tz),
        received_at__lt=timezone.make_aware(dt.datetime.combine(end + dt.timedelta(1), dt.time()), tz),
    )
    if agency_id is not None:
        dossiers = dossiers.filter(agency_id=agency_id)
    rows = list(dossiers.order_by("received_at", "id").values_list("pk", "code", "status", "applicant_name")[:limit])
    report = Reconciliation()
    differing: list[tuple[int, str, str, int, int | None]] = []
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        try:
            held = portal.dossier_statuses([code for _, code, _, _ in chunk])
        except national.PortalUnavailable as exc:
            return Reconciliation(checked=report.checked, unreachable=str(exc))
        report.checked += len(chunk)
        differing += [(pk, code, name, status, held[code]) for pk, code, status, name in chunk if held[code] != status]
    in_flight = _in_flight([f"d{pk}" for pk, *_ in differing])
    report.differences = [
        Difference(code, name, str(status), None if there is None else str(there), in_flight.get(f"d{pk}", 0))
        for pk, code, name, status, there in differing
    ]
    return report


def reconcile_procedures(*, portal: Portal | None = None) -> Reconciliation:
    """Procedures whose catalogue state (published "1" / closed "0") differs on the portal."""
    portal = portal or national.portal()
    rows = list(Procedure.objects.order_by("code").values_list("pk", "code", "name", "status"))
    report = Reconciliation()
    differing = []
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        try:
            held = portal.procedure_states([code for _, code, _, _ in chunk])
        except national.PortalUnavailable as exc:
            return Reconciliation(checked=report.checked, unreachable=str(exc))
        report.checked += len(chunk)
        for pk, code, name, status in chunk:
            local = "1" if status == Procedure.Status.PUBLISHED else "0"
            if held[code] != local:
                differing.append((pk, code, name, local, held[code]))
    in_flight = _in_flight([f"p{pk}" for pk, *_ in differing])
    report.differences = [
        Difference(code, name, local, there, in_flight.get(f"p{pk}", 0)) for pk, code, name, local, there in differing
    ]
    return report


def _in_flight(keys: list[str]) -> dict[str, int]:
    counts = (
        OutboxMessage.objects.filter(key__in=keys)
        .values("key")
        .annotate(n=Count("id", filter=~Q(state=OutboxMessage.State.DELIVERED)))
    )
    return {row["key"]: row["n"] for row in counts}
