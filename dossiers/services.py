"""Writes on dossiers: intake (accept or refuse at the counter) and the event log."""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.store import stored_document_copy
from core.errors import PermissionDenied, ValidationFailed
from core.files import sniff_content_type
from core.identity import personal_id_errors
from core.models import OutboxMessage
from core.outbox import outbox_write
from core.ratelimit import hit, hit_and_get
from core.selectors import calendar_for
from organizations.models import AdministrativeUnit, Agency, Role, Staff
from organizations.selectors import agency_current
from procedures.models import Competence, Procedure
from workflows import graph
from workflows.models import Step
from workflows.selectors import published_version, steps_of

from .models import (
    INTERNAL_ACTIONS,
    ApplicantType,
    Attachment,
    Channel,
    Delivery,
    Document,
    Dossier,
    DossierFee,
    Event,
    Status,
    Task,
    document_path,
)
from .notify import citizen_messages_record
from .selectors import handling_departments, public_cache_keys

INTAKE_ROLES = {Role.ONE_STOP_OFFICER, Role.AGENCY_ADMIN, Role.PROVINCE_ADMIN}


@dataclass
class Applicant:
    name: str
    type: int = ApplicantType.CITIZEN
    id_number: str = ""
    birth_date: dt.date | None = None
    organisation_name: str = ""
    organisation_code: str = ""
    address: str = ""
    commune_code: int | None = None
    phone: str = ""
    email: str = ""
    representative_name: str = ""
    representative_id_number: str = ""
    representative_phone: str = ""
    representative_authorisation: str = ""
    language: str = "vi"


@dataclass
class ReceivedComponent:
    component_id: int
    received: bool = True
    originals: int = 1
    copies: int = 0
    scan: UploadedFile | None = None


@dataclass
class FeeLine:
    name: str
    amount: int
    paid: bool = False


@dataclass
class Intake:
    procedure_code: str
    applicant: Applicant
    agency_identifier: str | None = None
    channel: int = Channel.DIRECT
    summary: str = ""
    sets: int = 1
    components: list[ReceivedComponent] = field(default_factory=list)
    fees: list[FeeLine] | None = None
    delivery: str = Delivery.COUNTER
    delivery_address: str = ""


def lookup_budget_spend(*, client: str) -> int | None:
    """Count one public lookup by this client (page or API alike, so that dossier codes cannot be enumerated by
    switching between them); None while within LOOKUP_RATE_PER_MINUTE, else the seconds to wait."""
    return hit(scope="lookup", client=client, limit=settings.LOOKUP_RATE_PER_MINUTE)


def lookup_budget_spend_and_read(*, client: str, cache_key: str) -> tuple[int | None, Any]:
    """``lookup_budget_spend`` and the cached answer under ``cache_key`` (see ``selectors.public_cache_keys``) in
    one round trip to Redis: (None or the seconds to wait, the cached answer or None)."""
    return hit_and_get(scope="lookup", client=client, limit=settings.LOOKUP_RATE_PER_MINUTE, key=cache_key)


def dossier_code_format(*, agency_identifier: str, day: dt.date, number: int) -> str:
    """``<agency>-YYMMDD-XXXX`` (2018) or ``<agency>-YYMMDD-AAXXXX`` (2025); XXXX grows past 4 digits."""
    prefix = f"{agency_identifier}-{day:%y%m%d}-"
    if settings.DOSSIER_CODE_FORMAT == "2025":
        return f"{prefix}{settings.DOSSIER_CODE_SYSTEM}{number:04d}"
    return f"{prefix}{number:04d}"


def _next_number(sql: str, params: list) -> int:  # type: ignore[type-arg]
    # INSERT ... ON CONFLICT DO UPDATE takes the row lock and holds it until the transaction ends: concurrent
    # intakes for one agency-day queue here, and a rolled-back intake gives its number back. Hence no
    # duplicate and no gap, unlike a PostgreSQL SEQUENCE (which never rolls back).
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def _daily_number(agency: Agency, day: dt.date) -> int:
    return _next_number(
        "INSERT INTO dossiers_dailysequence (agency_id, day, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (agency_id, day) DO UPDATE SET last = dossiers_dailysequence.last + 1 RETURNING last",
        [agency.pk, day],
    )


def _register_number(agency: Agency, field_id: int, volume: str) -> int:
    return _next_number(
        "INSERT INTO dossiers_registersequence (agency_id, field_id, volume, last) VALUES (%s, %s, %s, 1) "
        "ON CONFLICT (agency_id, field_id, volume) DO UPDATE SET last = dossiers_registersequence.last + 1 "
        "RETURNING last",
        [agency.pk, field_id, volume],
    )


def open_task(dossier: Dossier, step: Step, *, now: dt.datetime, assignee: Staff | None = None) -> Task:
    due = calendar_for(working_hours=step.agency.working_hours).add(now, Decimal(step.budget), step.budget_unit)
    task = Task.objects.create(
        dossier=dossier,
        step=step,
        agency_id=step.agency_id,
        department_id=step.department_id,
        assignee=assignee,
        entered_at=now,
        due_at=due,
    )
    dossier.current_task = task
    dossier.current_step = step.name
    if step.department_id is not None and step.department.name not in dossier.public_departments:
        dossier.public_departments = [*dossier.public_departments, step.department.name]
    return task


def workflow_start(*, dossier: Dossier, officer: Staff | None, now: dt.datetime) -> Task | None:
    """Put an accepted dossier on its agency's published workflow (called inside the intake's transaction). The
    first step, when it is the counter's, goes to the officer who received it. Without a published workflow the
    dossier waits in the agency's "needs configuration" list."""
    version = published_version(procedure_id=dossier.procedure_id, agency_id=dossier.agency_id)
    if version is None:
        return None
    steps = steps_of(version_id=version.pk)
    start = graph.first(steps)
    if start is None:
        return None
    dossier.workflow_version_id = version.pk
    # The public lookup names every department the workflow involves (the whole process).
    planned = [s.department.name for s in steps if s.department_id is not None]
    dossier.public_departments = list(dict.fromkeys(planned)) or dossier.public_departments
    # Online dossiers (no officer yet) wait unassigned in the receiving counter's queue.
    assignee = (
        officer if officer is not None and start.kind == Step.Kind.COUNTER and start.role == officer.role else None
    )
    return open_task(dossier, start, now=now, assignee=assignee)


def event_record(
    *,
    dossier: Dossier,
    action: str,
    actor: Staff | None,
    status_from: int | None,
    step_from: str = "",
    note: str = "",
    at: dt.datetime | None = None,
    actor_name: str = "",
    unit_name: str = "",
) -> Event:
    """The one way a dossier's history is written: called inside the transaction of the change it records.
    ``actor_name`` / ``unit_name`` name who acted when that person has no account here (another system's officer)."""
    if dossier.code:
        # The public page and API show the appointment and who handles the dossier: drop its cached copies once the
        # change is committed (not before: a rolled-back change must not empty the cache for nothing).
        keys = public_cache_keys(code=dossier.code)
        transaction.on_commit(lambda: cache.delete_many(keys))
    unit = unit_name
    if actor is not None:
        unit = actor.department.name if actor.department_id else actor.agency.name
    event = Event.objects.create(
        dossier=dossier,
        at=at or timezone.now(),
        actor=actor.user if actor else None,
        actor_name=(actor.user.get_full_name() or actor.user.username) if actor else actor_name,
        unit_name=unit,
        action=action,
        status_from=status_from,
        status_to=dossier.status,
        step_from=step_from,
        step_to=dossier.current_step,
        note=note,
    )
    national_sync_record(dossier=dossier, event=event)
    citizen_messages_record(dossier=dossier, event=event)
    return event


def national_sync_record(*, dossier: Dossier, event: Event) -> None:
    """What the national portal must learn of this event, into the outbox in the same transaction: the dossier
    itself when it is new or its status changed, and a progress entry for every step of its handling."""
    if dossier.source_system or event.action in INTERNAL_ACTIONS:
        return
    key, agency = f"d{dossier.pk}", dossier.agency_id
    if event.status_from is None:
        outbox_write(topic=OutboxMessage.Topic.DOSSIER, key=key, operation="add", ref=dossier.pk, agency_id=agency)
    elif event.status_from != event.status_to:
        outbox_write(topic=OutboxMessage.Topic.DOSSIER, key=key, operation="update", ref=dossier.pk, agency_id=agency)
    outbox_write(topic=OutboxMessage.Topic.DOSSIER, key=key, operation="progress", ref=event.pk, agency_id=agency)


def _check_officer(officer: Staff) -> None:
    if officer.role not in INTAKE_ROLES:
        raise PermissionDenied(_("Only one-stop officers receive dossiers."))
    if officer.counter_id is None or not officer.counter.is_active:
        raise PermissionDenied(_("Your account is not assigned to an open reception counter."))


def _validate(intake: Intake, *, refusing: bool) -> tuple[Procedure, Competence, dict[str, str]]:
    """Everything that can be wrong with an intake, as {field: message}; nothing is written."""
    errors: dict[str, str] = {}
    procedure = Procedure.objects.published().select_related("field").filter(code=intake.procedure_code).first()
    if procedure is None:
        raise ValidationFailed(
            _("No procedure has the code “%(code)s”.") % {"code": intake.procedure_code},
            detail={"procedure": _("Unknown or closed procedure.")},
        )
    competences = Competence.objects.valid_on(timezone.localdate()).select_related("agency").filter(procedure=procedure)
    competence = None
    if intake.agency_identifier:
        competence = competences.filter(agency__identifier=intake.agency_identifier).first()
        if competence is None and (current := agency_current(identifier=intake.agency_identifier)) is not None:
            # A former identifier (renamed or merged agency) still finds the agency that carries its work on.
            competence = competences.filter(agency=current).first()
        if competence is None:
            errors["agency"] = _("This agency is not competent for the procedure.")
    else:
        errors["agency"] = _("Choose the competent agency.")

    a = intake.applicant
    if not a.name.strip():
        errors["applicant_name"] = _("Enter the applicant's full name.")
    if a.type == ApplicantType.CITIZEN:
        if not a.id_number:
            errors["applicant_id_number"] = _("Enter the personal identification number.")
        elif problems := personal_id_errors(a.id_number, birth_date=a.birth_date):
            errors["applicant_id_number"] = problems[0]
    elif not a.organisation_name.strip():
        errors["organisation_name"] = _("Enter the organisation's name.")
    if a.birth_date and a.birth_date > timezone.localdate():
        errors["applicant_birth_date"] = _("The date of birth is in the future.")
    if a.representative_id_number and (problems := personal_id_errors(a.representative_id_number)):
        errors["representative_id_number"] = problems[0]
    if a.commune_code is not None and not AdministrativeUnit.objects.filter(code=a.commune_code).exists():
        errors["applicant_commune"] = _("Choose a commune of the list.")
    if refusing:
        return procedure, competence, errors  # type: ignore[return-value]

    if not 1 <= intake.sets <= 50:
        errors["sets"] = _("The number of sets must be between 1 and 50.")
    if intake.delivery == Delivery.POST:
        if not procedure.postal_allowed:
            errors["delivery"] = _("This procedure's result cannot be returned by post.")
        elif not intake.delivery_address.strip():
            errors["delivery_address"] = _("Enter the address the result is sent to.")
    elif intake.delivery not in Delivery.values:
        errors["delivery"] = _("Choose how the result is returned.")

    received = {c.component_id: c for c in intake.components if c.received}
    limit = settings.UPLOAD_MAX_MB * 1024 * 1024
    for component in procedure.components.all():
        got = received.pop(component.pk, None)
        key = f"component_{component.pk}"
        if got is None:
            if component.required:
                errors[key] = _("A required document is missing: receive it or refuse the dossier.")
            continue
        if got.scan is not None:
            if got.scan.size > limit:
                errors[key] = _("The scan is larger than %(mb)s MB.") % {"mb": settings.UPLOAD_MAX_MB}
            elif sniff_content_type(got.scan) is None:
                errors[key] = _("The scan must be a PDF, JPEG or PNG file.")
    if received:
        errors["components"] = _("Some documents do not belong to this procedure.")
    for fee in intake.fees or []:
        if fee.amount < 0:
            errors["fees"] = _("A fee cannot be negative.")
    return procedure, competence, errors  # type: ignore[return-value]


def _applicant_fields(a: Applicant) -> dict:  # type: ignore[type-arg]
    commune = AdministrativeUnit.objects.filter(code=a.commune_code).first() if a.commune_code else None
    return {
        "applicant_type": a.type,
        "applicant_name": a.name.strip(),
        "applicant_id_number": a.id_number,
        "applicant_birth_date": a.birth_date,
        "organisation_name": a.organisation_name.strip(),
        "organisation_code": a.organisation_code,
        "applicant_address": a.address.strip(),
        "applicant_commune": commune,
        "applicant_phone": a.phone,
        "applicant_email": a.email,
        "representative_name": a.representative_name.strip(),
        "representative_id_number": a.representative_id_number,
        "representative_phone": a.representative_phone,
        "representative_authorisation": a.representative_authorisation,
        "language": a.language if a.language in dict(settings.LANGUAGES) else "vi",
    }


@transaction.atomic
def dossier_receive(*, officer: Staff, intake: Intake, now: dt.datetime | None = None) -> Dossier:
    """Accept a dossier at the counter: code, appointment, register entry, documents, fees, one event.

    All or nothing: any error raises ValidationFailed with {field: message} before anything is written.
    """
    _check_officer(officer)
    procedure, competence, errors = _validate(intake, refusing=False)
    if errors:
        raise ValidationFailed(_("The dossier was not received: please correct the marked fields."), detail=errors)

    now = now or timezone.now()
    agency = competence.agency
    day = timezone.localdate(now)
    calendar = calendar_for(working_hours=agency.working_hours)
    appointment = calendar.add(
        now, Decimal(procedure.processing_time), procedure.time_unit, after_15h_rule=procedure.after_15h_rule
    )
    volume = str(day.year)
    dossier = Dossier.objects.create(
        public_receiving_agency=officer.counter.agency.name,
        public_departments=handling_departments(procedure_id=procedure.pk, agency_id=agency.pk),
        code=dossier_code_format(agency_identifier=agency.identifier, day=day, number=_daily_number(agency, day)),
        procedure=procedure,
        agency=agency,
        counter=officer.counter,
        received_by=officer.user,
        channel=intake.channel,
        status=Status.ACCEPTED,
        summary=intake.summary.strip() or procedure.name,
        sets=intake.sets,
        delivery=intake.delivery,
        delivery_address=intake.delivery_address.strip(),
        processing_time=procedure.processing_time,
        time_unit=procedure.time_unit,
        received_at=now,
        appointment_at=appointment,
        register_field=procedure.field,
        register_volume=volume,
        register_number=_register_number(agency, procedure.field_id, volume),
        **_applicant_fields(intake.applicant),
    )
    by_id = {c.component_id: c for c in intake.components if c.received}
    for component in procedure.components.all():
        got = by_id.get(component.pk)
        if got is None:
            continue
        document = Document(
            dossier=dossier, component=component, name=component.name, originals=got.originals, copies=got.copies
        )
        if got.scan is not None:
            digest = hashlib.sha256()
            for chunk in got.scan.chunks():
                digest.update(chunk)
            got.scan.seek(0)
            document.checksum = digest.hexdigest()
            document.file_name = got.scan.name[:255]
            document.content_type = sniff_content_type(got.scan) or ""
            document.size = got.scan.size
            # Content-addressed: the same scan received twice is stored once, under its checksum.
            path = document_path(document, document.checksum)
            if default_storage.exists(path):
                document.file.name = path
            else:
                document.file.save(document.checksum, got.scan, save=False)
        document.save()
    fees = intake.fees if intake.fees is not None else [FeeLine(f.name, f.amount) for f in procedure.fees.all()]
    DossierFee.objects.bulk_create(
        [DossierFee(dossier=dossier, name=f.name, amount=f.amount, paid=f.paid) for f in fees]
    )
    if workflow_start(dossier=dossier, officer=officer, now=now) is not None:
        dossier.save(update_fields=["workflow_version", "current_task", "current_step", "public_departments"])
    event_record(dossier=dossier, action="receive", actor=officer, status_from=None, at=now)
    return dossier


@transaction.atomic
def dossier_refuse_at_intake(
    *, officer: Staff, intake: Intake, reasons: str, now: dt.datetime | None = None
) -> Dossier:
    """Refuse at the counter (form 3): the refusal is recorded, no code is given, nothing else is kept."""
    _check_officer(officer)
    procedure, competence, errors = _validate(intake, refusing=True)
    if not reasons.strip():
        errors["reasons"] = _("Give the specific reasons for refusing.")
    if errors:
        raise ValidationFailed(_("The refusal was not recorded: please correct the marked fields."), detail=errors)
    now = now or timezone.now()
    dossier = Dossier.objects.create(
        public_receiving_agency=officer.counter.agency.name,
        procedure=procedure,
        agency=competence.agency,
        counter=officer.counter,
        received_by=officer.user,
        channel=intake.channel,
        status=Status.REFUSED,
        summary=intake.summary.strip() or procedure.name,
        processing_time=procedure.processing_time,
        time_unit=procedure.time_unit,
        received_at=now,
        refusal_reasons=reasons.strip(),
        **_applicant_fields(intake.applicant),
    )
    event_record(dossier=dossier, action="refuse_intake", actor=officer, status_from=None, note=reasons.strip(), at=now)
    return dossier


def results_to_store(*, dossier: Dossier) -> None:
    """Put a resolved dossier's results into its citizen's personal data store, in the transaction recording them:
    the citizen finds them there for later dossiers."""
    if dossier.citizen_id is None:
        return
    name = _("Result of %(procedure)s") % {"procedure": dossier.procedure.name[:300]}
    for result in Attachment.objects.filter(dossier=dossier, kind=Attachment.Kind.RESULT):
        stored_document_copy(
            owner=dossier.citizen,
            file_name=result.file_name,
            stored_name=result.file.name,
            name=name,
            checksum=result.checksum,
            dossier_code=dossier.code or "",
        )
