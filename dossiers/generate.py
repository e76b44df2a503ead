"""Realistic dossiers in bulk (demo data and benchmarks), written with PostgreSQL COPY.

Codes, register numbers and the per-agency daily sequences stay consistent with what the intake service
would have produced: the sequences continue from the stored counters and are written back at the end.
"""

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from core.selectors import calendar_for
from organizations.models import AdministrativeUnit, Agency, Department, Staff
from procedures.models import Competence
from workflows.models import Step, Version

from .models import Channel, DailySequence, Delivery, RegisterSequence, Status
from .services import dossier_code_format

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi", "Đặng", "Đỗ", "Ngô",
            "Hồ", "Dương", "Lâm", "Châu", "Thạch", "Danh", "Lý"]  # fmt: skip
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Hoàng", "Thanh", "Quốc", "Thu", "Hữu", "Kim", "Bảo", "Gia"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Em", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Nhung", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thành", "Trang",
         "Trí", "Tuấn", "Vy", "Xuân", "Yến"]  # fmt: skip
STREETS = ["Trần Hưng Đạo", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Tôn Đức Thắng", "Lý Thường Kiệt", "Hùng Vương",
           "Nguyễn Trãi", "Phan Đình Phùng", "Ngô Quyền"]  # fmt: skip
# (status, weight): most dossiers are finished, a tail is in flight.
STATUSES = [(Status.RETURNED, 55), (Status.RESOLVED, 10), (Status.IN_PROCESS, 15), (Status.ACCEPTED, 6),
            (Status.WAITING_SUPPLEMENT, 4), (Status.WAITING_PAYMENT, 1), (Status.REFUSED, 3), (Status.WITHDRAWN, 2),
            (Status.STOPPED, 1), (Status.SUBMITTED, 3)]  # fmt: skip
DOSSIER_COLUMNS = (
    "id", "created_at", "updated_at", "code", "procedure_id", "agency_id", "counter_id", "channel", "status",
    "current_step", "applicant_type", "applicant_name", "applicant_id_number", "applicant_birth_date",
    "organisation_name", "organisation_code", "applicant_address", "applicant_commune_id", "applicant_phone",
    "applicant_email", "representative_name", "representative_id_number", "representative_phone",
    "representative_authorisation", "language", "summary", "sets", "delivery", "delivery_address",
    "processing_time", "time_unit", "submitted_at", "received_at", "appointment_at", "completed_at", "returned_at",
    "refusal_reasons", "register_field_id", "register_volume", "register_number", "public_receiving_agency",
    "public_departments", "workflow_version_id", "current_task_id", "paused_at", "original_appointment_at",
    "supplement_count",
)  # fmt: skip
TASK_COLUMNS = ("id", "dossier_id", "step_id", "agency_id", "department_id", "assignee_id", "entered_at", "due_at",
                "paused_at", "awaiting_receipt", "finished_at", "finished_by_id", "outcome", "late")  # fmt: skip
IN_FLIGHT = {Status.ACCEPTED, Status.IN_PROCESS, Status.WAITING_SUPPLEMENT, Status.WAITING_PAYMENT, Status.RESOLVED}
EVENT_COLUMNS = ("dossier_id", "at", "actor_id", "actor_name", "unit_name", "action", "status_from", "status_to",
                 "step_from", "step_to", "note")  # fmt: skip
BATCH = 20_000


@dataclass(frozen=True)
class _Source:
    procedure_id: int
    procedure_name: str
    field_id: int
    processing_time: Decimal
    time_unit: str
    after_15h: bool
    agency_id: int
    agency_identifier: str
    agency_name: str
    counter_id: int | None
    receiving_name: str
    departments: tuple[str, ...]
    version_id: int | None
    steps: tuple[tuple[int, int, int | None, str, Decimal, str, str], ...]  # id, agency, department, kind, budget…


def _workflows() -> dict[tuple[int, int], tuple[int, list]]:  # type: ignore[type-arg]
    """The published workflow of every (procedure, agency): its version and its steps in order."""
    rows = (
        Step.objects.filter(version__state=Version.State.PUBLISHED)
        .order_by("version_id", "position")
        .values_list(
            "version_id", "version__workflow__procedure_id", "version__workflow__agency_id", "pk", "agency_id",
            "department_id", "kind", "budget", "budget_unit", "role",
        )
    )  # fmt: skip
    found: dict[tuple[int, int], tuple[int, list]] = {}  # type: ignore[type-arg]
    for version_id, procedure_id, agency_id, pk, step_agency, department, kind, budget, unit, role in rows:
        found.setdefault((procedure_id, agency_id), (version_id, []))[1].append(
            (pk, step_agency, department, kind, budget, unit, role)
        )
    return found


def _sources() -> list[_Source]:
    rows = (
        Competence.objects.filter(procedure__status="published")
        .select_related("procedure", "agency")
        .prefetch_related("counters__agency")
    )
    departments: dict[tuple[int, str], list[str]] = {}
    for agency_id, kind, name in Department.objects.order_by("name").values_list("agency_id", "kind", "name"):
        departments.setdefault((agency_id, kind), []).append(name)
    workflows = _workflows()
    sources = []
    for c in rows:
        version_id, steps = workflows.get((c.procedure_id, c.agency_id), (None, []))
        counter = next(iter(c.counters.all()), None)
        sources.append(
            _Source(
                c.procedure_id,
                c.procedure.name,
                c.procedure.field_id,
                c.procedure.processing_time,
                c.procedure.time_unit,
                c.procedure.after_15h_rule,
                c.agency_id,
                c.agency.identifier,
                c.agency.name,
                counter.pk if counter else None,
                counter.agency.name if counter else c.agency.name,
                tuple(departments.get((c.agency_id, c.department_kind), ())),
                version_id,
                tuple(steps),
            )
        )
    return sources


def _id_number(rng: random.Random, born: dt.date) -> str:
    century = (born.year - 1900) // 100 * 2 + rng.randint(0, 1)
    return (
        f"{rng.choice(['089', '091', '079', '087', '094']):s}{century}{born.year % 100:02d}{rng.randint(0, 999999):06d}"
    )


def _working_moment(rng: random.Random, day: dt.date) -> dt.datetime:
    # Ten-minute slots: realistic enough, and appointments can then be cached per slot.
    minute = rng.randrange(0, 8 * 60, 10)
    start = dt.datetime.combine(day, dt.time(7, 0), VN) + dt.timedelta(minutes=minute)
    return start if start.time() < dt.time(11, 30) else start + dt.timedelta(minutes=90)


def _skip_row_triggers() -> None:
    """Skip per-row foreign-key checks for this transaction when the role may (superuser): the generator
    builds every reference from rows it has just read, and the checks would cost more than the COPY itself."""
    with connection.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cur.fetchone()[0]:
            cur.execute("SET LOCAL session_replication_role = replica")


def _reserve_ids(n: int, table: str = "dossiers_dossier") -> int:
    """A block of n ids from the table's own sequence (so later inserts never collide)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        seq = cur.fetchone()[0]
        cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cur.execute("SELECT nextval(%s)", [seq])
        first = cur.fetchone()[0]
        cur.execute("SELECT setval(%s, %s)", [seq, first + n - 1])
    return first


def dossiers_generate(
    *, count: int, days: int = 365, end: dt.date | None = None, seed: int = 2025,
    progress: Callable[[int], None] | None = None,
) -> int:  # fmt: skip
    """Create ``count`` dossiers received over the ``days`` working days before ``end``; returns the count."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    sources = _sources()
    if not sources:
        raise RuntimeError("load the catalogue first (manage.py seed_demo)")
    communes = list(AdministrativeUnit.objects.exclude(kind="province").values_list("pk", flat=True))
    calendars: dict[int, object] = {}
    appointments: dict[tuple, dt.datetime] = {}  # type: ignore[type-arg]
    hours = dict(Agency.objects.values_list("pk", "working_hours"))
    cal = calendar_for()
    end = end or timezone.localdate()
    day, work_days = end, []
    while len(work_days) < days:
        if cal.is_working_day(day):
            work_days.append(day)
        day -= dt.timedelta(days=1)
    statuses, weights = zip(*STATUSES, strict=True)
    daily = {(r.agency_id, r.day): r.last for r in DailySequence.objects.filter(day__gte=work_days[-1])}
    register = {(r.agency_id, r.field_id, r.volume): r.last for r in RegisterSequence.objects.all()}
    now = timezone.now()
    made = 0
    with transaction.atomic():
        _skip_row_triggers()
        next_id = _reserve_ids(count)
        next_task = _reserve_ids(count, "dossiers_task")  # at most one open task per dossier
        staff = _staff_by_unit()
        due_cache: dict[tuple, dt.datetime] = {}  # type: ignore[type-arg]
        while made < count:
            n = min(BATCH, count - made)
            dossiers, events, tasks = [], [], []
            for _ in range(n):
                src = sources[rng.randrange(len(sources))]
                status = rng.choices(statuses, weights)[0]
                received = _working_moment(rng, rng.choice(work_days))
                slot = (src.agency_id, src.processing_time, src.time_unit, src.after_15h, received)
                appointment = appointments.get(slot)
                if appointment is None:
                    calendar = calendars.get(src.agency_id)
                    if calendar is None:
                        calendar = calendars[src.agency_id] = calendar_for(working_hours=hours[src.agency_id])
                    appointment = appointments[slot] = calendar.add(  # type: ignore[attr-defined]
                        received, src.processing_time, src.time_unit, after_15h_rule=src.after_15h
                    )
                born = dt.date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))
                name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
                online = status == Status.SUBMITTED or rng.random() < 0.3
                code = volume = number = None
                if status != Status.REFUSED:
                    key = (src.agency_id, timezone.localdate(received))
                    daily[key] = daily.get(key, 0) + 1
                    code = dossier_code_format(agency_identifier=src.agency_identifier, day=key[1], number=daily[key])
                if status not in (Status.REFUSED, Status.SUBMITTED):
                    volume = str(received.year)
                    rkey = (src.agency_id, src.field_id, volume)
                    register[rkey] = register.get(rkey, 0) + 1
                    number = register[rkey]
                late = rng.random() < 0.08
                completed = returned = None
                if status in (Status.RESOLVED, Status.RETURNED):
                    completed = (
                        (appointment + dt.timedelta(hours=rng.randint(1, 30)))
                        if late
                        else (received + (appointment - received) * rng.uniform(0.3, 0.98))
                    )
                    if status == Status.RETURNED:
                        returned = completed + dt.timedelta(hours=rng.randint(1, 48))
                dossier_id = next_id + made
                task = None
                if status in IN_FLIGHT and src.version_id is not None and src.steps:
                    task = _open_task_row(
                        rng,
                        next_task + made,
                        dossier_id,
                        src,
                        status,
                        received,
                        appointment,
                        staff,
                        due_cache,
                        calendars,
                        hours,
                    )
                    tasks.append(task)
                dossiers.append((
                    dossier_id, now, now, code, src.procedure_id, src.agency_id, src.counter_id,
                    Channel.ONLINE if online else Channel.DIRECT, status, "", 1, name, _id_number(rng, born), born,
                    "", "", f"{rng.randint(1, 300)} {rng.choice(STREETS)}", rng.choice(communes),
                    f"09{rng.randint(10000000, 99999999)}", "", "", "", "", "", "vi", src.procedure_name, 1,
                    Delivery.ONLINE if online and rng.random() < 0.5 else Delivery.COUNTER, "",
                    src.processing_time, src.time_unit, received if online else None,
                    None if status == Status.SUBMITTED else received,
                    None if status in (Status.SUBMITTED, Status.REFUSED) else appointment,
                    completed, returned, "Thiếu thành phần hồ sơ" if status == Status.REFUSED else "",
                    src.field_id if number else None, volume or "", number, src.receiving_name, list(src.departments),
                    src.version_id if task else None, task[0] if task else None, task[8] if task else None, None,
                    1 if status == Status.WAITING_SUPPLEMENT else 0,
                ))  # fmt: skip
                first = Status.SUBMITTED if online else Status.ACCEPTED
                events.append((dossier_id, received, None, "", src.agency_name, "receive", None,
                               Status.REFUSED if status == Status.REFUSED else first, "", "", ""))  # fmt: skip
                if status not in (first, Status.REFUSED):
                    events.append((dossier_id, completed or received + dt.timedelta(hours=2), None, "",
                                   src.agency_name, "generated", first, status, "", "", ""))  # fmt: skip
                made += 1
            with connection.cursor() as cur:
                with cur.copy(f"COPY dossiers_dossier ({', '.join(DOSSIER_COLUMNS)}) FROM STDIN") as copy:
                    for row in dossiers:
                        copy.write_row(row)
                with cur.copy(f"COPY dossiers_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                    for row in events:
                        copy.write_row(row)
                with cur.copy(f"COPY dossiers_task ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
                    for row in tasks:
                        copy.write_row(row)
            if progress:
                progress(made)
        _store_counters(daily, register)
    return made


def _staff_by_unit() -> dict[tuple[int, int | None, str], list[int]]:
    found: dict[tuple[int, int | None, str], list[int]] = {}
    for pk, agency_id, department_id, role in Staff.objects.values_list("pk", "agency_id", "department_id", "role"):
        found.setdefault((agency_id, department_id, role), []).append(pk)
    return found


def _open_task_row(  # type: ignore[no-untyped-def]
    rng, task_id, dossier_id, src, status, received, appointment, staff, due_cache, calendars, hours
) -> tuple:  # type: ignore[type-arg]
    """The open task of an in-flight dossier: the counter's first step when just accepted, the last step when
    resolved, otherwise one of the steps in between (paused while waiting for the applicant)."""
    steps = src.steps
    if status == Status.ACCEPTED:
        step = steps[0]
    elif status == Status.RESOLVED:
        step = steps[-1]
    else:
        middle = [s for s in steps[1:-1] if s[3] != "sign"] if status != Status.IN_PROCESS else list(steps[1:-1])
        step = rng.choice(middle or list(steps))
    pk, agency_id, department_id, _kind, budget, unit, role = step
    span = max(appointment - received, dt.timedelta(minutes=10))
    entered = received + span * rng.uniform(0.05, 0.6)
    entered = entered.replace(minute=entered.minute // 10 * 10, second=0, microsecond=0)
    key = (agency_id, pk, entered)
    due = due_cache.get(key)
    if due is None:
        calendar = calendars.get(agency_id)
        if calendar is None:
            calendar = calendars[agency_id] = calendar_for(working_hours=hours[agency_id])
        due = due_cache[key] = calendar.add(entered, budget, unit)  # type: ignore[attr-defined]
    candidates = staff.get((agency_id, department_id, role), [])
    assignee = rng.choice(candidates) if candidates and rng.random() < 0.7 else None
    paused = entered + dt.timedelta(hours=1) if status in (Status.WAITING_SUPPLEMENT, Status.WAITING_PAYMENT) else None
    return (task_id, dossier_id, pk, agency_id, department_id, assignee, entered, due, paused, False, None, None, "",
            None)  # fmt: skip


def _store_counters(daily: dict, register: dict) -> None:  # type: ignore[type-arg]
    """Write the advanced counters back in two statements (COPY into a temporary table, then one upsert)."""
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE gen_daily (agency_id bigint, day date, last int) ON COMMIT DROP")
        with cur.copy("COPY gen_daily FROM STDIN") as copy:
            for (agency_id, day), last in daily.items():
                copy.write_row((agency_id, day, last))
        cur.execute(
            "INSERT INTO dossiers_dailysequence (agency_id, day, last) SELECT agency_id, day, last FROM gen_daily "
            "ON CONFLICT (agency_id, day) DO UPDATE SET last = GREATEST(dossiers_dailysequence.last, EXCLUDED.last)"
        )
        cur.execute(
            "CREATE TEMP TABLE gen_register (agency_id bigint, field_id bigint, volume text, last int) ON COMMIT DROP"
        )
        with cur.copy("COPY gen_register FROM STDIN") as copy:
            for (agency_id, field_id, volume), last in register.items():
                copy.write_row((agency_id, field_id, volume, last))
        cur.execute(
            "INSERT INTO dossiers_registersequence (agency_id, field_id, volume, last) "
            "SELECT agency_id, field_id, volume, last FROM gen_register "
            "ON CONFLICT (agency_id, field_id, volume) DO UPDATE "
            "SET last = GREATEST(dossiers_registersequence.last, EXCLUDED.last)"
        )
