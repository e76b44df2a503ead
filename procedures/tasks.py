"""Celery tasks of the catalogue: thin, they take ids and may run twice."""

from celery import shared_task
from django.db import OperationalError

from .importing import catalogue_import_run


@shared_task(
    name="procedures.tasks.catalogue_import",
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def catalogue_import(import_id: int) -> str:
    """Run one uploaded catalogue import. A finished import is left alone; an interrupted one runs again, which the
    import's idempotence makes safe."""
    return catalogue_import_run(import_id=import_id).state
