"""Celery tasks of the dossiers app: thin, idempotent, scheduled by beat (config/settings.py)."""

from dataclasses import asdict

from celery import shared_task

from .deadlines import deadline_scan as scan


@shared_task(name="dossiers.tasks.deadline_scan", ignore_result=True)
def deadline_scan() -> dict[str, float]:
    """One deadline pass (dossiers/deadlines.py). Safe to run again or on two workers at once: alerts are recorded,
    and notified, once; a pass that finds another one running returns at once."""
    return asdict(scan())
