"""Celery tasks of the dossiers app: thin, idempotent, scheduled by beat (config/settings.py)."""

from dataclasses import asdict

from celery import shared_task

from .deadlines import deadline_scan as scan
from .notify import citizen_messages_deliver


@shared_task(name="dossiers.tasks.deadline_scan", ignore_result=True)
def deadline_scan() -> dict[str, float]:
    """One deadline pass (dossiers/deadlines.py). Safe to run again or on two workers at once: alerts are recorded,
    and notified, once; a pass that finds another one running returns at once."""
    return asdict(scan())


@shared_task(name="dossiers.tasks.citizen_messages_send", ignore_result=True, acks_late=True)
def citizen_messages_send(ids: list[int] | None = None) -> dict[str, int]:
    """Send the applicants' pending messages that are due (only ``ids`` when given: the kick after a status change;
    all of them from the beat sweep). Safe to run twice or on several workers at once: each message is locked while
    it is sent, and a sent one is never sent again."""
    return asdict(citizen_messages_deliver(ids=ids))


@shared_task(name="dossiers.tasks.reorganisations_apply", ignore_result=True)
def reorganisations_apply() -> list[int]:
    """Apply the recorded reorganisations whose effective date has come (dossiers/reorganisation.py). Each in its own
    transaction; one applied already (by an administrator, or another worker) is skipped."""
    from core.errors import Conflict

    from .reorganisation import reorganisation_apply, reorganisations_due

    applied = []
    for pk in reorganisations_due():
        try:
            reorganisation_apply(reorganisation_id=pk)
        except Conflict:
            continue
        applied.append(pk)
    return applied
