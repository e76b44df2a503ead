"""Reads of the sync monitor: what the outbox holds per agency and day, one message, the failed ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.models import OutboxMessage
from organizations.models import Agency

from . import outbox


@dataclass(frozen=True)
class DayCounts:
    day: dt.date
    agency_id: int | None
    agency_name: str
    pending: int
    retrying: int
    delivered: int
    failed: int


_SUMMARY = """
SELECT (o.created_at AT TIME ZONE %(tz)s)::date AS day, o.agency_id,
       count(*) FILTER (WHERE o.state = 'pending' AND o.attempts = 0) AS pending,
       count(*) FILTER (WHERE o.state = 'pending' AND o.attempts > 0) AS retrying,
       count(*) FILTER (WHERE o.state = 'delivered') AS delivered,
       count(*) FILTER (WHERE o.state = 'dead') AS failed
FROM core_outboxmessage o
WHERE o.topic = %(topic)s AND o.created_at >= %(start)s AND o.created_at < %(end)s
  AND (%(agency)s::int IS NULL OR o.agency_id = %(agency)s::int)
GROUP BY 1, 2
ORDER BY 1 DESC, 2
"""


def outbox_summary(*, topic: str, start: dt.date, end: dt.date, agency_id: int | None = None) -> list[DayCounts]:
    """Counts per agency and day (Vietnam time) of the messages written between two dates (inclusive)."""
    tz = timezone.get_current_timezone()
    bounds = [timezone.make_aware(dt.datetime.combine(d, dt.time()), tz) for d in (start, end + dt.timedelta(1))]
    with connection.cursor() as cursor:
        cursor.execute(
            _SUMMARY, {"tz": str(tz), "topic": topic, "start": bounds[0], "end": bounds[1], "agency": agency_id}
        )
        rows = cursor.fetchall()
    names = dict(Agency.objects.filter(pk__in={r[1] for r in rows if r[1]}).values_list("pk", "name"))
    return [DayCounts(day, agency, names.get(agency, "—"), *counts) for day, agency, *counts in rows]


def outbox_totals(*, topic: str) -> dict[str, int]:
    """Everything the outbox holds for a topic, by state (pending split into first try and retrying)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE state = 'pending' AND attempts = 0), "
            "count(*) FILTER (WHERE state = 'pending' AND attempts > 0), "
            "count(*) FILTER (WHERE state = 'dead') FROM core_outboxmessage "
            "WHERE topic = %s AND state <> 'delivered'",
            [topic],
        )
        pending, retrying, failed = cursor.fetchone()
    return {"pending": pending, "retrying": retrying, "failed": failed}


def failed_messages(*, topic: str, agency_id: int | None = None) -> QuerySet[OutboxMessage]:
    messages = OutboxMessage.objects.filter(topic=topic, state=OutboxMessage.State.DEAD)
    if agency_id is not None:
        messages = messages.filter(agency_id=agency_id)
    return messages.order_by("id")


def outbox_message(*, pk: int) -> tuple[OutboxMessage, dict[str, Any] | None]:
    """One message and what it carries: as it was sent when it failed, otherwise as it would be sent now."""
    message = OutboxMessage.objects.filter(pk=pk).first()
    if message is None:
        raise NotFound(_("No such outbound message."), code="message_not_found")
    if message.request is not None:
        return message, message.request
    return message, message_body(message)


def message_body(message: OutboxMessage) -> dict[str, Any] | None:
    """The item the drain would send for this message now (None: what it points to no longer exists)."""
    return next(o.request for group in outbox.build([message]).values() for o in group)


def dossier_code_of(message: OutboxMessage) -> str:
    body = message.request or {}
    return str(body.get("MaHoSo") or body.get("MaTTHC") or "")
