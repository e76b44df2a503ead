"""Real Celery workers (their own processes, on the real Redis broker and PostgreSQL) deliver the outbox; one is
killed with SIGKILL in the middle of a batch and nothing is lost or applied twice."""

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection

from core.models import OutboxMessage
from organizations.models import Role
from sync import national

from .dossier_helpers import officer
from .test_outbox import handled, synced_progress
from .workflow_helpers import handling_department, publish_standard, staff

ROOT = Path(__file__).resolve().parent.parent
State = OutboxMessage.State


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(queue: str, portal_url: str, **env: str) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-Q", queue, "--pool", "solo", "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _database_url(), "NATIONAL_PORTAL_URL": portal_url,
             "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "OUTBOX_KICK_ENABLED": "false", **env},
    )  # fmt: skip


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(reseeded, portal_sim):  # type: ignore[no-untyped-def]
    publish_standard()
    people = {
        "counter": officer(),
        "specialist": staff("cv.kill", role=Role.SPECIALIST, department=handling_department()),
    }
    dossiers = [handled(people) for _ in range(6)]
    total = OutboxMessage.objects.count()
    assert total == 6 * 6
    queue = f"outbox-test-{uuid.uuid4().hex[:8]}"

    # The portal stores each call's items, then answers 3 s late: the worker is killed while it waits.
    portal_sim.mode(delay=3.0)
    worker = start_worker(queue, portal_sim.url, OUTBOX_BATCH="4")
    try:
        current_app.send_task("sync.tasks.outbox_drain", queue=queue)
        wait_for(lambda: portal_sim.state()["items"] > 0, 60, "the first batch to reach the portal")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    received_before_kill = portal_sim.state()["items"]
    assert received_before_kill > 0
    # The portal has those items, but the batch's transaction died with the worker: they are still to deliver.
    assert OutboxMessage.objects.filter(state=State.DELIVERED).count() < total
    assert not OutboxMessage.objects.filter(attempts__gt=0).exclude(state=State.DELIVERED).exists()

    portal_sim.mode(delay=0)
    worker = start_worker(queue, portal_sim.url)
    try:
        current_app.send_task("sync.tasks.outbox_drain", queue=queue)
        wait_for(lambda: not OutboxMessage.objects.exclude(state=State.DELIVERED).exists(), 90, "the outbox to drain")
    finally:
        worker.terminate()
        worker.wait(20)

    # Every message delivered once (the killed attempt left no trace), and the portal holds each change once.
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    assert portal_sim.state()["repeats"] >= 1  # the batch that was cut off was sent again, and absorbed
    log = portal_sim.log()
    for dossier in dossiers:
        held = portal_sim.dossier(dossier.code)
        assert held["dossier"]["TrangThaiHoSo"] == dossier.status
        assert [(p["TrangThai"], p["ThoiDiemXuLy"]) for p in held["progress"]] == [
            (e.status_to, national.national_date(e.at)) for e in synced_progress(dossier)
        ]
        ops = [op for op, code, _ in log if code == dossier.code]
        assert ops.count("add") == 1 and ops.count("progress") == 3 and ops[0] == "add"
