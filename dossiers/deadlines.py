"""Deadline tracking: the periodic pass that alerts officers to steps and dossiers due within one working day or
overdue, and flags dossiers that need the apology form (form 4).

One pass is a handful of set-based statements, however many rows they touch: new alerts are inserted straight from
the open tasks and running dossiers, and the officers to notify are found from the rows that insert returns, so an
alert is recorded, and notified, once (the unique constraints of ``DeadlineAlert``). A pass reads the open tasks and
the running dossiers through small partial indexes (dossiers/models.py), never the finished ones.
"""

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.calendar import WorkingHours
from core.errors import NotFound
from core.selectors import calendar_for
from organizations.models import Agency, Role, Staff

from .models import Notification, Threshold

log = logging.getLogger(__name__)
LOCK = "dossiers.deadline_scan"

# "Soon" is one working day after now in the calendar of the agency that acts (the task's) or that resolves (the
# dossier's): one row per agency, computed once per distinct working hours. Running dossiers are those whose
# clock runs and whose result is not recorded yet: status 2 and 4 (Status.ACCEPTED, Status.IN_PROCESS) without a
# pause, literally, so that PostgreSQL matches the partial indexes of dossiers/models.py.
_SOON = """
soon AS (SELECT * FROM unnest(%(agencies)s::bigint[], %(soons)s::timestamptz[]) AS s (agency_id, soon))
"""

_ALERTS_SQL = f"""
WITH {_SOON}, step_due AS (
    SELECT t.id AS task_id, t.dossier_id,
           CASE WHEN t.due_at < %(now)s THEN 'step_overdue' ELSE 'step_due_soon' END AS threshold
    FROM dossiers_task t JOIN soon s ON s.agency_id = t.agency_id
    WHERE t.finished_at IS NULL AND t.paused_at IS NULL AND t.due_at < %(latest)s AND t.due_at < s.soon
), step_new AS (
    INSERT INTO dossiers_deadlinealert (task_id, dossier_id, threshold, created_at)
    SELECT c.task_id, c.dossier_id, c.threshold, %(now)s FROM step_due c
    -- NOT EXISTS first: nearly every row is alerted already, and ON CONFLICT alone would try (and undo) an insert
    -- for each of them, many times slower than the anti-join. ON CONFLICT stays for a pass running alongside.
    WHERE NOT EXISTS (
        SELECT FROM dossiers_deadlinealert a WHERE a.task_id = c.task_id AND a.threshold = c.threshold
    )
    ON CONFLICT DO NOTHING
    RETURNING task_id, dossier_id, threshold
), dossier_due AS (
    SELECT d.id AS dossier_id,
           CASE WHEN d.appointment_at < %(now)s THEN 'dossier_overdue' ELSE 'dossier_due_soon' END AS threshold
    FROM dossiers_dossier d JOIN soon s ON s.agency_id = d.agency_id
    WHERE d.status IN (2, 4) AND d.paused_at IS NULL
      AND d.appointment_at < %(latest)s AND d.appointment_at < s.soon
), dossier_new AS (
    INSERT INTO dossiers_deadlinealert (task_id, dossier_id, threshold, created_at)
    SELECT NULL, c.dossier_id, c.threshold, %(now)s FROM dossier_due c
    WHERE NOT EXISTS (
        SELECT FROM dossiers_deadlinealert a
        WHERE a.dossier_id = c.dossier_id AND a.task_id IS NULL AND a.threshold = c.threshold
    )
    ON CONFLICT DO NOTHING
    RETURNING dossier_id, threshold
), subject AS (
    -- What each new alert is about: its task, or the dossier's current task (the dossier's agency without one).
    SELECT n.threshold, n.dossier_id, n.task_id, TRUE AS is_step, NULL::bigint AS agency_id FROM step_new n
    UNION ALL
    SELECT n.threshold, n.dossier_id, d.current_task_id, FALSE, d.agency_id
    FROM dossier_new n JOIN dossiers_dossier d ON d.id = n.dossier_id
), about AS (
    SELECT s.threshold, s.dossier_id, s.task_id, s.is_step, t.assignee_id, t.department_id,
           COALESCE(t.agency_id, s.agency_id) AS agency_id
    FROM subject s LEFT JOIN dossiers_task t ON t.id = s.task_id
), recipient AS (
    -- The officer on the task, and the head(s) of its department (the agency's leaders for a step without one);
    -- UNION, not UNION ALL: a head who holds the task is told once.
    SELECT a.threshold, a.dossier_id, a.task_id, a.is_step, a.assignee_id AS staff_id
    FROM about a WHERE a.assignee_id IS NOT NULL
    UNION
    SELECT a.threshold, a.dossier_id, a.task_id, a.is_step, h.id
    FROM about a JOIN organizations_staff h ON h.department_id = a.department_id AND h.role = %(head)s
    UNION
    SELECT a.threshold, a.dossier_id, a.task_id, a.is_step, h.id
    FROM about a JOIN organizations_staff h ON h.agency_id = a.agency_id AND h.role = %(leader)s
    WHERE a.department_id IS NULL
), notified AS (
    -- The message is data, not prose (the page puts the threshold's name, in the reader's language, before it).
    INSERT INTO dossiers_notification (staff_id, dossier_id, kind, message, created_at)
    SELECT r.staff_id, r.dossier_id, r.threshold,
           CASE WHEN r.is_step THEN concat_ws(' — ', d.code, st.name)
                ELSE concat_ws(' — ', d.code, to_char(d.appointment_at AT TIME ZONE %(tz)s, 'HH24:MI DD/MM/YYYY'))
           END,
           %(now)s
    FROM recipient r
    JOIN organizations_staff sf ON sf.id = r.staff_id
    JOIN auth_user u ON u.id = sf.user_id AND u.is_active
    JOIN dossiers_dossier d ON d.id = r.dossier_id
    LEFT JOIN dossiers_task t ON t.id = r.task_id
    LEFT JOIN workflows_step st ON st.id = t.step_id
    RETURNING 1
)
SELECT threshold, count(*) FROM (SELECT threshold FROM step_new UNION ALL SELECT threshold FROM dossier_new) n
GROUP BY threshold
UNION ALL
SELECT 'notifications', count(*) FROM notified
"""  # noqa: S608 -- only the constant _SOON is formatted in; every value is a parameter

_APOLOGY_SQL = f"""
WITH {_SOON}
UPDATE dossiers_dossier SET needs_apology_at = %(now)s
-- The ids first, as an array: the planner then updates them through the primary key, however wrongly it guesses
-- their number (it cannot know that nearly every running dossier near its appointment is flagged already).
WHERE id = ANY (ARRAY(
    SELECT d.id FROM dossiers_dossier d JOIN soon s ON s.agency_id = d.agency_id
    WHERE d.status IN (2, 4) AND d.paused_at IS NULL
      AND d.needs_apology_at IS NULL AND d.original_appointment_at IS NULL
      AND d.appointment_at < %(latest)s AND d.appointment_at < s.soon
      AND NOT EXISTS (SELECT FROM dossiers_notice n WHERE n.dossier_id = d.id AND n.kind = 'apology')
))
"""  # noqa: S608 -- as above


@dataclass(frozen=True)
class ScanReport:
    """What one pass did: new alerts per threshold, dossiers newly flagged for the apology form, notifications."""

    step_due_soon: int = 0
    step_overdue: int = 0
    dossier_due_soon: int = 0
    dossier_overdue: int = 0
    apology_flagged: int = 0
    notifications: int = 0
    elapsed_ms: float = 0.0
    skipped: bool = False  # another pass held the lock: this one did nothing


def _soon_by_agency(now: dt.datetime) -> tuple[list[int], list[dt.datetime]]:
    """Every agency with the moment one working day after ``now`` in its working hours. The calendar is computed
    once per distinct ``working_hours`` value (a few), not per agency, let alone per row."""
    groups = Agency.objects.order_by().values("working_hours").annotate(ids=ArrayAgg("pk"))
    calendar = calendar_for()
    agencies: list[int] = []
    soons: list[dt.datetime] = []
    for group in groups:
        hours = dataclasses.replace(calendar, hours=WorkingHours.from_json(group["working_hours"]))
        soon = hours.add(now, 1, "days")
        agencies += group["ids"]
        soons += [soon] * len(group["ids"])
    return agencies, soons


def deadline_scan(*, now: dt.datetime | None = None) -> ScanReport:
    """Alert each step and running dossier that came within one working day of its deadline, or passed it, once
    per threshold; notify the officer on it and the department head(s); flag dossiers that need the apology form.

    Idempotent: run it again and it finds the alerts already recorded and notifies nobody twice. Paused clocks
    (waiting for the applicant) are left alone. The whole pass is one transaction.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cur:
        # One pass at a time: beat may fire again while a slow pass runs; the second one has nothing to add.
        cur.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [LOCK])
        if not cur.fetchone()[0]:
            return ScanReport(elapsed_ms=(time.perf_counter() - started) * 1000, skipped=True)
        # Their high estimated cost would have PostgreSQL compile them (JIT), which takes longer than running them.
        cur.execute("SET LOCAL jit = off")
        agencies, soons = _soon_by_agency(now)
        params = {
            "agencies": agencies,
            "soons": soons,
            "now": now,
            "latest": max(soons, default=now),
            "tz": settings.TIME_ZONE,
            "head": Role.DEPARTMENT_HEAD.value,
            "leader": Role.AGENCY_LEADER.value,
        }
        cur.execute(_ALERTS_SQL, params)
        counts = dict(cur.fetchall())
        cur.execute(_APOLOGY_SQL, params)
        flagged = cur.rowcount
    report = ScanReport(
        step_due_soon=counts.get(Threshold.STEP_DUE_SOON, 0),
        step_overdue=counts.get(Threshold.STEP_OVERDUE, 0),
        dossier_due_soon=counts.get(Threshold.DOSSIER_DUE_SOON, 0),
        dossier_overdue=counts.get(Threshold.DOSSIER_OVERDUE, 0),
        apology_flagged=flagged,
        notifications=counts.get("notifications", 0),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )
    log.info("deadline scan: %s", report)
    return report


@transaction.atomic
def notification_mark_read(*, staff: Staff, pk: int, now: dt.datetime | None = None) -> None:
    """Mark one of ``staff``'s notifications read (again: no change). NotFound for anyone else's."""
    mine = Notification.objects.filter(pk=pk, staff=staff)
    if not mine.filter(read_at__isnull=True).update(read_at=now or timezone.now()) and not mine.exists():
        raise NotFound(_("No such notification."), code="notification_not_found")
