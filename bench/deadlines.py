"""In-process measurement for `make bench`: the deadline scan (dossiers/deadlines.py) on the development database.

The first pass runs for real and commits: it records the alerts of every step and dossier already near or past its
deadline (on generated data, most open ones) and notifies their officers, once; a one-off, when the feature is
deployed. The steady passes that follow are what beat runs every few minutes, with almost nothing new to alert:
their median is the figure to hold under a second. They are measured right after the first pass, and again once the
tables are vacuumed as autovacuum would after such mass writes (the steady state).

The baseline, measured in the same run, is the floor of any such pass: counting the running tasks and dossiers
once each, nothing more. To measure a first pass again, empty what the scan wrote (dev database only):
DELETE FROM dossiers_notification; DELETE FROM dossiers_deadlinealert;
UPDATE dossiers_dossier SET needs_apology_at = NULL WHERE needs_apology_at IS NOT NULL.

    from bench.deadlines import measure; measure()   # or main() for JSON on stdout, like bench/inprocess.py
"""

import json
import statistics
import time
from dataclasses import asdict

from django.db import connection

STEADY_PASSES = 5


def _sizes() -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM dossiers_dossier), "
            "(SELECT count(*) FROM dossiers_task WHERE finished_at IS NULL), "
            "(SELECT count(*) FROM dossiers_deadlinealert), "
            "(SELECT count(*) FROM dossiers_notification)"
        )
        dossiers, open_tasks, alerts, notifications = cur.fetchone()
    return {"dossiers": dossiers, "open_tasks": open_tasks, "alerts": alerts, "notifications": notifications}


def _baseline_ms() -> float:
    """Reading what a pass must look at, and nothing else: the running tasks and dossiers, counted."""
    runs = []
    with connection.cursor() as cur:
        for _ in range(STEADY_PASSES):
            started = time.perf_counter()
            cur.execute("SELECT count(*) FROM dossiers_task WHERE finished_at IS NULL AND paused_at IS NULL")
            cur.fetchone()
            cur.execute("SELECT count(*) FROM dossiers_dossier WHERE status IN (2, 4) AND paused_at IS NULL")
            cur.fetchone()
            runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def _vacuum() -> None:
    """What autovacuum does within minutes of the first pass's mass writes (visibility maps, statistics): without
    it the steady passes' index-only scans read the heap pages the first pass touched."""
    with connection.cursor() as cur:
        for table in ("dossiers_dossier", "dossiers_task", "dossiers_deadlinealert", "dossiers_notification"):
            cur.execute(f"VACUUM (ANALYZE) {table}")


def _steady() -> tuple[float, list]:  # type: ignore[type-arg]
    from dossiers.deadlines import deadline_scan

    runs = [deadline_scan() for _ in range(STEADY_PASSES)]
    return statistics.median(r.elapsed_ms for r in runs), runs


def measure() -> dict:  # type: ignore[type-arg]
    """(a) one first pass, for real; (b) the median of 5 steady passes right after it, then again once vacuumed."""
    from dossiers.deadlines import deadline_scan

    before = _sizes()["alerts"]  # if not 0, the scan ran here before: "first" is then one more steady pass
    first = deadline_scan()
    cold_ms, cold = _steady()
    _vacuum()
    steady_ms, steady = _steady()
    baseline_ms = _baseline_ms()
    sizes = _sizes()
    first_alerts = first.step_due_soon + first.step_overdue + first.dossier_due_soon + first.dossier_overdue
    lines = [
        f"| Deadline scan, {'first pass' if not before else 'first pass of this run (earlier runs alerted already)'} "
        f"({first_alerts:,} alerts, {first.notifications:,} notifications, "
        f"{first.apology_flagged:,} dossiers flagged for form 4) | {first.elapsed_ms:,.0f} ms | — | — |",
        f"| Deadline scan, steady pass (median of {STEADY_PASSES}; {sizes['open_tasks']:,} open tasks, "
        f"{sizes['alerts']:,} alerts recorded; {cold_ms:.0f} ms before the tables are vacuumed) "
        f"| {steady_ms:.0f} ms (target: under 1,000 ms) | counting the running tasks and dossiers: "
        f"{baseline_ms:.0f} ms | {steady_ms / baseline_ms:.1f}× |",
    ]
    return {
        "first_ms": first.elapsed_ms,
        "alerts_before_first": before,
        "first": asdict(first),
        "steady_ms": steady_ms,
        "steady_runs_ms": [r.elapsed_ms for r in steady],
        "baseline_ms": baseline_ms,
        "steady_before_vacuum_ms": cold_ms,
        "steady_before_vacuum_runs_ms": [r.elapsed_ms for r in cold],
        "steady_new_alerts": sum(
            r.step_due_soon + r.step_overdue + r.dossier_due_soon + r.dossier_overdue for r in cold + steady
        ),
        **sizes,
        "lines": lines,
    }


def main() -> None:
    print(json.dumps(measure()))
