"""Celery tasks of the dossiers app: thin, idempotent, scheduled by beat (config/settings.py)."""

import logging
from dataclasses import asdict

from celery import shared_task

from core.errors import DomainError

from .deadlines import deadline_scan as scan
from .notify import citizen_messages_deliver
from .reorganisation import reorganisation_apply, reorganisations_due

logger = logging.getLogger(__name__)


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
    transaction; one applied already (by an administrator, or another worker) is skipped, and one that cannot be
    applied (open dossiers without a successor) is logged and waits for the administrators, the others go on."""
    applied = []
    for pk in reorganisations_due():
        try:
            reorganisation_apply(reorganisation_id=pk)
        except DomainError as exc:
            logger.warning("reorganisation not applied", extra={"reorganisation": pk, "reason": exc.message})
            continue
        applied.append(pk)
    return applied
