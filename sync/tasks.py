"""Celery tasks of the sync: thin, idempotent, safe to run on many workers at once."""

from celery import shared_task

from .outbox import outbox_drain as drain


@shared_task(name="sync.tasks.outbox_drain", ignore_result=True, acks_late=True)
def outbox_drain() -> dict[str, int]:
    """Deliver every due outbox message (batches lock what they take: parallel drains share the work)."""
    report = drain()
    return {"delivered": report.delivered, "retrying": report.retrying, "failed": report.failed}
