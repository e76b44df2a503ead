"""Outbox drain rate to the national portal simulator, for `make bench` (in process, against the bench database).

A backlog of real messages (the add of a dossier and a progress entry, for each of N existing dossiers) is written, then
drained by ``sync.outbox.outbox_drain`` in one process and in two (as two Celery worker processes would), to the
simulator in its own process. Baseline, same run: the simulator fed the same number of items by a bare HTTP
client with pre-built bodies (no database, no message building): the ceiling of the portal side on this machine.
The messages are deleted afterwards; the simulator is stopped.
"""

from __future__ import annotations

import multiprocessing
import time

from django.db import connection, connections

from tests.portal_sim import Simulator

_BACKLOG = """
INSERT INTO core_outboxmessage (topic, key, operation, ref, agency_id, created_at, state, attempts,
                                next_attempt_at, last_error)
SELECT 'dossier', 'bench' || d.id, op.operation, CASE op.operation WHEN 'add' THEN d.id ELSE e.id END,
       d.agency_id, now(), 'pending', 0, now(), ''
FROM (SELECT id, agency_id FROM dossiers_dossier WHERE code IS NOT NULL AND source_system = ''
      ORDER BY id DESC LIMIT %(dossiers)s) d
CROSS JOIN LATERAL (SELECT id FROM dossiers_event WHERE dossier_id = d.id ORDER BY at DESC, id DESC LIMIT 1) e
CROSS JOIN (VALUES (1, 'add'), (2, 'progress')) AS op(n, operation)
ORDER BY d.id, op.n
"""


def _backlog(dossiers: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_outboxmessage WHERE key LIKE 'bench%%'")
        cursor.execute(_BACKLOG, {"dossiers": dossiers})
        return cursor.rowcount


def _drain_until_empty(url: str) -> int:
    from django.conf import settings

    from sync import national
    from sync.outbox import outbox_drain

    settings.NATIONAL_PORTAL_URL = url
    national.portal.cache_clear()
    delivered = 0
    while True:
        report = outbox_drain(seconds=600)
        delivered += report.delivered
        if not report.batches:
            return delivered


def _child(url: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    connections.close_all()  # a fresh connection in the forked process
    queue.put(_drain_until_empty(url))


def _drain(url: str, processes: int) -> tuple[int, float]:
    started = time.perf_counter()
    if processes == 1:
        delivered = _drain_until_empty(url)
    else:
        connections.close_all()
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        workers = [multiprocessing.Process(target=_child, args=(url, queue)) for _ in range(processes)]
        for w in workers:
            w.start()
        delivered = sum(queue.get() for _ in workers)
        for w in workers:
            w.join()
    return delivered, time.perf_counter() - started


def _bare(url: str, items: int, batch: int) -> float:
    """Items per second the simulator takes from a client that only posts pre-built batches."""
    import httpx

    bodies = [
        {"data": [{"MaHoSo": f"BARE-{i + j}", "TrangThaiHoSo": 4, "NgayHenTra": "20261231170000"}
                  for j in range(batch)]}
        for i in range(0, items, batch)
    ]  # fmt: skip
    with httpx.Client(base_url=url) as client:
        started = time.perf_counter()
        for body in bodies:
            client.post("/api/DongBoHoSoMC", json=body).raise_for_status()
        return items / (time.perf_counter() - started)


def measure(dossiers: int = 10000) -> dict[str, float]:
    from django.conf import settings

    sim = Simulator()
    try:
        figures: dict[str, float] = {"batch": settings.OUTBOX_BATCH}
        for processes in (1, 2):
            sim.reset()
            written = _backlog(dossiers)
            delivered, seconds = _drain(sim.url, processes)
            assert delivered == written, (delivered, written)
            assert sim.state()["items"] >= written
            figures[f"rate_{processes}"] = delivered / seconds
            figures["messages"] = written
        sim.reset()
        figures["bare"] = _bare(sim.url, dossiers * 2, settings.OUTBOX_BATCH)
        return figures
    finally:
        sim.stop()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_outboxmessage WHERE key LIKE 'bench%%'")
