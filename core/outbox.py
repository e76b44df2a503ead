"""The transactional outbox: what outside systems must learn is written with the change, delivered after commit.

Domain services call ``outbox_write`` inside their transaction; the sync app's workers deliver the messages. The
kick after commit is only a hint (workers also poll on a beat): a broker that is down loses no message.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import OutboxMessage

log = logging.getLogger(__name__)
DRAIN_TASK = "sync.tasks.outbox_drain"
_KICK_KEY = "outbox:kick"


def outbox_kick() -> None:
    """Ask a worker to drain soon (after a commit)."""
    if not settings.OUTBOX_KICK_ENABLED:
        return
    # One kick per short window, however many changes commit: a drain takes every due message anyway.
    if not cache.add(_KICK_KEY, 1, timeout=settings.OUTBOX_KICK_SECONDS):
        return
    try:
        from celery import current_app

        current_app.send_task(DRAIN_TASK)
    except Exception:
        log.warning("outbox: could not ask a worker to drain now; the periodic drain will", exc_info=True)


def outbox_write(*, topic: str, key: str, operation: str, ref: int, agency_id: int | None = None) -> OutboxMessage:
    """Record one message inside the caller's transaction (it is lost with it if that rolls back)."""
    message = OutboxMessage.objects.create(topic=topic, key=key, operation=operation, ref=ref, agency_id=agency_id)
    transaction.on_commit(outbox_kick)
    return message


def outbox_write_many(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Several messages at once (imports), in the caller's transaction and in the list's order."""
    created = OutboxMessage.objects.bulk_create(messages)
    if created:
        transaction.on_commit(outbox_kick)
    return created
