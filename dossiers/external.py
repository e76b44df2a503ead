"""Dossiers handled on another system (a ministry's): their state and progress as that system reports them.

The province does not process these dossiers; it keeps a copy for monitoring, statistics, reports and the public
lookup. Their history is written through ``event_record`` like any other, which leaves them out of the national
portal's outbox (the source system reports them there itself).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, ValidationFailed
from organizations.models import Agency
from procedures.models import Procedure

from .models import CODE_PATTERN, ApplicantType, Channel, Dossier, Event, Status
from .selectors import public_cache_keys
from .services import event_record

PROGRESS = "external_progress"
# The source system reported a status that none of its progress entries carries.
STATUS = "external_status"


@dataclass(frozen=True)
class Progress:
    """One progress entry (QuaTrinhXuLy) of the source system."""

    at: dt.datetime
    status: int
    note: str = ""
    unit: str = ""
    officer: str = ""  # NguoiXuLy, ChucDanh: who acted on the source system (no account here)


@dataclass(frozen=True)
class ExternalRecord:
    """A dossier as its source system reports it, already parsed and resolved."""

    code: str
    procedure: Procedure
    agency: Agency
    applicant_name: str
    status: int
    received_at: dt.datetime
    applicant_type: int = ApplicantType.CITIZEN
    channel: int = Channel.DIRECT
    appointment_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    returned_at: dt.datetime | None = None
    progress: tuple[Progress, ...] = field(default_factory=tuple)


class Upserted(NamedTuple):
    dossier: Dossier
    created: bool
    events_added: int


def _lock_code(code: str) -> None:
    # Two pushes for one new dossier would both find nothing and both insert: queue them on the code instead
    # (a transaction-scoped advisory lock, released at commit or rollback).
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"dossier:{code}"])


def _columns(record: ExternalRecord) -> dict:  # type: ignore[type-arg]
    organisation = record.applicant_name if record.applicant_type != ApplicantType.CITIZEN else ""
    return {
        "procedure_id": record.procedure.pk,
        "agency_id": record.agency.pk,
        "processing_time": record.procedure.processing_time,
        "time_unit": record.procedure.time_unit,
        "channel": record.channel,
        "applicant_type": record.applicant_type,
        "applicant_name": record.applicant_name,
        "organisation_name": organisation,
        "received_at": record.received_at,
        "appointment_at": record.appointment_at,
        "completed_at": record.completed_at,
        "returned_at": record.returned_at,
    }


@transaction.atomic
def dossier_external_upsert(*, system_code: str, record: ExternalRecord) -> Upserted:
    """Create or update the dossier ``record.code`` handled on ``system_code`` and append its new progress entries
    to its history. A repeated report adds nothing: an entry already recorded (same time, status and content)
    is skipped, and unchanged columns are not written.

    Conflict when the code belongs to a dossier of our own or of another system.
    """
    if not system_code:
        raise ValidationFailed(_("A source system is required."))
    if not CODE_PATTERN.match(record.code):
        raise ValidationFailed(_("“%(code)s” is not a dossier code.") % {"code": record.code[:60]})
    if record.status not in Status.values:
        raise ValidationFailed(_("Unknown dossier status."))
    _lock_code(record.code)
    dossier = Dossier.objects.select_for_update().filter(code=record.code).first()
    columns = _columns(record)
    departments = list(dict.fromkeys(p.unit for p in sorted(record.progress, key=lambda p: p.at) if p.unit))
    created = dossier is None
    if dossier is None:
        dossier = Dossier.objects.create(
            code=record.code,
            source_system=system_code,
            status=record.status,
            summary=record.procedure.name,
            public_receiving_agency=record.agency.name,
            public_departments=departments,
            **columns,
        )
        dossier.procedure, dossier.agency = record.procedure, record.agency
        status: int | None = None
        known: set[tuple[dt.datetime, int | None, str]] = set()
    else:
        if not dossier.source_system:
            raise Conflict(
                _("The dossier “%(code)s” is handled in this system: it cannot be updated from outside.")
                % {"code": record.code},
                code="not_external",
            )
        if dossier.source_system != system_code:
            raise Conflict(
                _("The dossier “%(code)s” is reported by another system.") % {"code": record.code},
                code="other_system",
            )
        status = dossier.status
        known = set(Event.objects.filter(dossier=dossier, action=PROGRESS).values_list("at", "status_to", "note"))

    before = {name: getattr(dossier, name) for name in [*columns, "status", "current_step", "public_departments"]}
    added = 0
    step = dossier.current_step
    for entry in sorted(record.progress, key=lambda p: p.at):
        if (entry.at, entry.status, entry.note) in known:
            continue
        known.add((entry.at, entry.status, entry.note))
        # event_record writes the dossier's status and step as the event's "to": set them to the entry's own.
        dossier.status = entry.status
        dossier.current_step = entry.unit or step
        event_record(
            dossier=dossier,
            action=PROGRESS,
            actor=None,
            status_from=status,
            step_from=step,
            note=entry.note,
            at=entry.at,
            actor_name=entry.officer,
            unit_name=entry.unit,
        )
        status, step, added = entry.status, dossier.current_step, added + 1
    if status != record.status:
        dossier.status = record.status
        event_record(dossier=dossier, action=STATUS, actor=None, status_from=status, step_from=step)
        added += 1

    latest = max(record.progress, key=lambda p: p.at, default=None)
    wanted = {
        **columns,
        "status": record.status,
        "current_step": latest.unit if latest and latest.unit else before["current_step"],
        "public_departments": list(dict.fromkeys([*before["public_departments"], *departments])),
    }
    if before["agency_id"] != record.agency.pk:
        before["public_receiving_agency"], wanted["public_receiving_agency"] = None, record.agency.name
    changed = [name for name, value in wanted.items() if before[name] != value]
    for name, value in wanted.items():
        setattr(dossier, name, value)
    if changed:
        dossier.save(update_fields=[*changed, "updated_at"])
        # The lookup shows the appointment and the departments: forget its cached copies (event_record does so
        # only when it writes an event, and on an update here it may write none).
        keys = public_cache_keys(code=record.code)
        transaction.on_commit(lambda: cache.delete_many(keys))
    return Upserted(dossier=dossier, created=created, events_added=added)
