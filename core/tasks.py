import time

from celery import shared_task
from django.core.cache import cache

HEARTBEAT_KEY = "celery:heartbeat"


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> float:
    """Beat sends this every minute; the health page can show when a worker last ran a task."""
    now = time.time()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
