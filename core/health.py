"""GET /healthz: PostgreSQL, Redis and the Celery worker, each checked for real."""

import time
from typing import Any

import redis
from celery import current_app as celery_app
from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _check(fn) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported with its reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1), **(detail or {})}


def _database() -> dict[str, Any]:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return {}


def _redis() -> dict[str, Any]:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _celery() -> dict[str, Any]:
    # limit=1: answer as soon as one worker replies instead of waiting out the whole timeout.
    replies = celery_app.control.ping(timeout=settings.HEALTH_CELERY_TIMEOUT, limit=1)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return {"workers": sorted(name for reply in replies for name in reply)}


def healthz(request):  # type: ignore[no-untyped-def]
    checks = {"database": _check(_database), "redis": _check(_redis)}
    # Asking workers goes through the broker: pointless (and slow) when Redis is down.
    checks["celery"] = _check(_celery) if checks["redis"]["ok"] else {"ok": False, "error": "broker unavailable"}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
