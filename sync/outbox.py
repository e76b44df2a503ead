"""Delivering the outbox (core.models.OutboxMessage) to the national portal.

One batch is one transaction: its messages are locked (``FOR UPDATE SKIP LOCKED``), sent, and marked with the
portal's answers before the commit. A worker killed in the middle leaves its batch locked by a connection that
dies with it: PostgreSQL rolls the batch back and another worker sends it again. The portal's answers make a
resend harmless (a repeated add is answered "đã tồn tại" and becomes an update; an update carries the whole
dossier; a repeated progress entry is the same entry), so nothing is lost and nothing is applied twice.

Order per dossier: a batch takes only the oldest undelivered message of each key (an earlier one still pending,
retrying or failed holds the later ones back), so a dossier's messages reach the portal in the order written.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.models import OutboxMessage
from core.outbox import outbox_kick

from . import national
from .national import Answer, Portal, PortalUnavailable

Op = OutboxMessage.Operation
Topic = OutboxMessage.Topic

_NEXT_BATCH = """
SELECT o.id FROM core_outboxmessage o
WHERE o.state = 'pending' AND o.next_attempt_at <= %(now)s
  AND NOT EXISTS (
    SELECT 1 FROM core_outboxmessage p WHERE p.key = o.key AND p.id < o.id AND p.state <> 'delivered'
  )
ORDER BY o.next_attempt_at, o.id
LIMIT %(limit)s
FOR UPDATE OF o SKIP LOCKED
"""


@dataclass
class DrainReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # moved to the dead-letter state in this drain
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DrainReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.batches += other.batches
        self.errors.extend(other.errors[:5])


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base · 2^(attempts-1), at most the cap, ±20%."""
    delay = min(settings.OUTBOX_BACKOFF_BASE * 2 ** max(attempts - 1, 0), settings.OUTBOX_BACKOFF_MAX)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not security


@dataclass
class _Outcome:
    message: OutboxMessage
    request: dict | None = None
    answer: Answer | None = None
    error: str = ""


def build(messages: list[OutboxMessage]) -> dict[str, list[_Outcome]]:
    """The items to send, grouped by the portal's service, each with its message (the rows they are built from
    are read in one query per kind, whatever the number of messages)."""
    refs: dict[tuple[str, bool], set[int]] = defaultdict(set)
    for m in messages:
        refs[(m.topic, m.operation == Op.PROGRESS)].add(m.ref)
    dossiers = national.dossiers_for_messages(refs[(Topic.DOSSIER, False)])
    events = national.events_for_messages(refs[(Topic.DOSSIER, True)])
    procedures = national.procedures_for_messages(refs[(Topic.PROCEDURE, False)])
    services: dict[str, list[_Outcome]] = {}
    for m in messages:
        outcome = _Outcome(m)
        if m.topic == Topic.PROCEDURE:
            procedure = procedures.get(m.ref)
            service = national.CATALOGUE
            if procedure is not None:
                outcome.request = national.procedure_message(procedure, closed=m.operation == Op.CLOSE)
        elif m.operation == Op.PROGRESS:
            service = national.PROGRESS
            if m.ref in events:
                event, deadline = events[m.ref]
                outcome.request = national.progress_message(event, deadline=deadline)
        else:
            service = national.ADD_DOSSIER if m.operation == Op.ADD else national.UPDATE_DOSSIER
            if m.ref in dossiers:
                outcome.request = national.dossier_message(dossiers[m.ref])
        if outcome.request is None:
            outcome.error = f"{m.topic} {m.ref} no longer exists"
        services.setdefault(service, []).append(outcome)
    return services


def _send(portal: Portal, service: str, outcomes: list[_Outcome]) -> None:
    ready = [o for o in outcomes if o.request is not None]
    if not ready:
        return
    try:
        answers = portal.send(service, [o.request for o in ready])  # type: ignore[misc]
    except PortalUnavailable as exc:
        for o in ready:
            o.error = str(exc)
        return
    again = []
    for o, answer in zip(ready, answers, strict=True):
        o.answer = answer
        if answer.exists and service == national.ADD_DOSSIER:
            again.append(o)  # the portal has it already (an earlier send whose answer was lost): update it
        elif not answer.ok:
            o.error = f"{answer.code}: {answer.message}"
    if again:
        _send(portal, national.UPDATE_DOSSIER, again)


def _record(outcomes: list[_Outcome], report: DrainReport) -> None:
    now = timezone.now()
    # One statement per distinct answer (usually one: "0" for all); the answer is kept for the monitor.
    delivered: dict[tuple[str, str], list[int]] = defaultdict(list)
    for o in outcomes:
        if not o.error:
            delivered[(o.answer.code, o.answer.message)].append(o.message.id)  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        for (code, text), ids in delivered.items():
            cursor.execute(
                "UPDATE core_outboxmessage SET state = 'delivered', delivered_at = %s, attempts = attempts + 1, "
                "last_error = '', request = NULL, answer = jsonb_build_object('error_code', %s::text, "
                "'message', %s::text) WHERE id = ANY(%s)",
                [now, code, text, ids],
            )
            report.delivered += len(ids)
    failed = [o for o in outcomes if o.error]
    for o in failed:
        m = o.message
        m.attempts += 1
        m.last_error = o.error[:2000]
        m.request = o.request
        m.answer = o.answer.as_json() if o.answer else None
        if m.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            m.state = OutboxMessage.State.DEAD
            report.failed += 1
        else:
            m.next_attempt_at = now + timezone.timedelta(seconds=backoff_seconds(m.attempts))
            report.retrying += 1
        if len(report.errors) < 5:
            report.errors.append(f"#{m.id}: {m.last_error}")
    if failed:
        OutboxMessage.objects.bulk_update(
            [o.message for o in failed], ["attempts", "last_error", "request", "answer", "state", "next_attempt_at"]
        )


def outbox_batch(*, portal: Portal | None = None, limit: int | None = None) -> DrainReport:
    """Send one batch of due messages and record the answers, in one transaction. An empty report: nothing due."""
    portal = portal or national.portal()
    report = DrainReport()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_NEXT_BATCH, {"now": timezone.now(), "limit": limit or settings.OUTBOX_BATCH})
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return report
        messages = list(OutboxMessage.objects.filter(id__in=ids).order_by("id"))
        outcomes = []
        for service, group in build(messages).items():
            _send(portal, service, group)
            outcomes.extend(group)
        _record(outcomes, report)
        report.batches = 1
    return report


def outbox_drain(
    *,
    portal: Portal | None = None,
    seconds: float | None = None,
    limit: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> DrainReport:
    """Send batches until nothing is due, the portal stops accepting, or ``seconds`` have passed."""
    until = time.monotonic() + (settings.OUTBOX_DRAIN_SECONDS if seconds is None else seconds)
    total = DrainReport()
    while time.monotonic() < until and not (stop and stop()):
        report = outbox_batch(portal=portal, limit=limit)
        total.add(report)
        if not report.batches or (report.retrying + report.failed and not report.delivered):
            break  # nothing due, or the portal refuses everything: wait for the next drain
    return total


@transaction.atomic
def outbox_retry(*, ids: list[int] | None = None, topic: str | None = None, agency_id: int | None = None) -> int:
    """Send failed (dead-letter) messages again now: the given ones, or all of a topic (of one agency, when given),
    or all of them. Returns how many."""
    messages = OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD)
    if ids is not None:
        messages = messages.filter(id__in=ids)
    if topic is not None:
        messages = messages.filter(topic=topic)
    if agency_id is not None:
        messages = messages.filter(agency_id=agency_id)
    count = messages.update(state=OutboxMessage.State.PENDING, attempts=0, next_attempt_at=timezone.now())
    if count:
        transaction.on_commit(outbox_kick)
    return count
