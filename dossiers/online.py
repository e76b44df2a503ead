"""Online submission (nộp hồ sơ trực tuyến) and what the citizen does afterwards.

A citizen prepares a draft in steps (form, documents, result delivery, fees, review); every step is saved, so the
draft can be resumed. Submitting makes a dossier with status 1 (Mới đăng ký) and its code: the public lookup shows
it at once (code, receiving agency, name, date), and the receiving counter finds it in its queue. The counter then
accepts it (status 2: the appointment runs from that moment, the receipt is issued) or refuses it with reasons.
Afterwards the citizen answers supplement requests (the clock runs again), asks to withdraw, downloads the result;
their uploads and results go into their personal data store (citizens/store.py) for later dossiers.

The citizen is never asked again for what the state already has: the applicant's identity comes from their account
(verified by the identity provider when they signed in with it), the form is prefilled from the profile and from
their earlier dossiers, and documents can be chosen from the data store.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from citizens.models import Citizen, StoredDocument
from citizens.store import access_stored_document, stored_document_add
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.national import Status
from core.selectors import calendar_for
from organizations.models import Role, Staff
from payments.selectors import paid_payment
from procedures import eforms
from procedures.models import Competence, Procedure
from workflows.models import Step

from .engine import clock_resume, finish_task
from .models import (
    Attachment,
    Channel,
    Delivery,
    Document,
    Dossier,
    DossierFee,
    Draft,
    DraftDocument,
    Task,
)
from .selectors import access_dossier_for_citizen, access_dossier_for_officer, handling_departments
from .services import _daily_number, _register_number, dossier_code_format, event_record, workflow_start

STAGES = [s.value for s in Draft.Stage]
ANSWERABLE = {Status.WAITING_SUPPLEMENT}
WITHDRAWABLE = {Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROCESS, Status.WAITING_SUPPLEMENT, Status.WAITING_PAYMENT}


def _citizen(user: Any) -> Citizen:
    citizen = getattr(user, "citizen", None) if user is not None and user.is_authenticated else None
    if citizen is None:
        raise PermissionDenied(_("Sign in with a citizen account to submit dossiers online."))
    return citizen


def profile_of(citizen: Citizen) -> dict[str, str]:
    """The profile as eForms prefill it (procedures/eforms.py ``prefill``)."""
    commune = citizen.commune
    return {
        "full_name": citizen.full_name,
        "id_number": citizen.id_number,
        "birth_date": citizen.birth_date.isoformat() if citizen.birth_date else "",
        "phone": citizen.phone,
        "email": citizen.email,
        "address": citizen.address,
        "commune_code": str(commune.code) if commune else "",
        "commune_name": commune.name if commune else "",
        "province_code": str(commune.parent.code) if commune and commune.parent_id else "",
    }


# --- Which procedures, which agencies ----------------------------------------------------------------------------


def online_procedure(*, code: str) -> Procedure:
    procedure = Procedure.objects.published().filter(code=code).select_related("field").first()
    if procedure is None:
        raise NotFound(_("No procedure has the code “%(code)s”.") % {"code": code[:40]})
    if procedure.online_level == Procedure.OnlineLevel.NONE:
        raise ValidationFailed(
            _("This procedure is not offered online: apply at the one-stop counter."), code="not_online"
        )
    return procedure


def competences_for(*, procedure: Procedure) -> QuerySet[Competence]:
    return (
        Competence.objects.valid_on(timezone.localdate())
        .filter(procedure=procedure, agency__valid_until__isnull=True)
        .select_related("agency")
        .order_by("agency__level", "agency__name")
    )


def delivery_choices(*, procedure: Procedure) -> list[tuple[str, str]]:
    """How the result may be received: online only when the whole procedure is online; by post when the procedure
    allows the public postal service; at the counter always."""
    choices = []
    if procedure.online_level == Procedure.OnlineLevel.FULL:
        choices.append((Delivery.ONLINE.value, str(Delivery.ONLINE.label)))
    choices.append((Delivery.COUNTER.value, str(Delivery.COUNTER.label)))
    if procedure.postal_allowed:
        choices.append((Delivery.POST.value, str(Delivery.POST.label)))
    return choices


@dataclass(frozen=True)
class Fees:
    lines: list[tuple[str, int]]
    total: int
    paid: bool
    may_pay_later: bool


def draft_fees(*, draft: Draft) -> Fees:
    lines = [(f.name, f.amount) for f in draft.procedure.fees.all()]
    total = sum(amount for _name, amount in lines)
    paid = total > 0 and paid_payment(reference=draft.payment_reference) is not None
    # A fully online procedure is paid online; a partly online one may be paid when the result is collected.
    return Fees(lines, total, paid, draft.procedure.online_level == Procedure.OnlineLevel.PARTIAL)


# --- Drafts ------------------------------------------------------------------------------------------------------


def drafts_of(*, user: Any) -> QuerySet[Draft]:
    return Draft.objects.filter(citizen=user, dossier__isnull=True).select_related("procedure", "agency")


def access_draft(*, user: Any, pk: int, lock: bool = False) -> Draft:
    """The signed-in citizen's own unsubmitted draft; NotFound otherwise."""
    rows = Draft.objects.filter(pk=pk, citizen_id=getattr(user, "pk", None), dossier__isnull=True)
    if lock:
        rows = rows.select_for_update(of=("self",))
    draft = rows.select_related("procedure__field", "agency").first()
    if draft is None:
        raise NotFound(_("No such application in preparation."), code="draft_not_found")
    return draft


def _advance(draft: Draft, stage: str) -> None:
    if STAGES.index(stage) > STAGES.index(draft.stage):
        draft.stage = stage


@transaction.atomic
def draft_start(*, user: Any, procedure_code: str, agency_id: int | None) -> Draft:
    """A new draft for the procedure at the chosen competent agency, its form prefilled; the citizen's unsubmitted
    draft for the same procedure and agency when there is one (drafts are resumed, not duplicated)."""
    citizen = _citizen(user)
    procedure = online_procedure(code=procedure_code)
    competences = list(competences_for(procedure=procedure))
    competence = next((c for c in competences if c.agency_id == agency_id), None)
    if competence is None and agency_id is None and len(competences) == 1:
        competence = competences[0]
    if competence is None:
        message = _("Choose the agency that will resolve your dossier.")
        raise ValidationFailed(message, detail={"agency": message}, code="agency_required")
    existing = drafts_of(user=user).filter(procedure=procedure, agency=competence.agency).first()
    if existing is not None:
        return existing
    previous = list(
        Dossier.objects.filter(citizen=user, procedure=procedure)
        .exclude(form_data={})
        .order_by("-submitted_at", "-id")
        .values_list("form_data", flat=True)[:5]
    )
    values = eforms.prefill(procedure.form_schema, profile=profile_of(citizen), previous=previous)
    return Draft.objects.create(citizen=user, procedure=procedure, agency=competence.agency, form_data=values)


@transaction.atomic
def draft_form_save(*, user: Any, pk: int, data: Any, final: bool) -> Draft:
    """Save the form's answers: ``final`` checks everything and moves on to the documents; otherwise the draft is
    kept as it is (only values that cannot be read are refused)."""
    draft = access_draft(user=user, pk=pk, lock=True)
    values, errors = eforms.clean(draft.procedure.form_schema, data, partial=not final)
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), detail=errors, code="form_invalid")
    draft.form_data = values
    if final:
        _advance(draft, Draft.Stage.DOCUMENTS)
    draft.save(update_fields=["form_data", "stage", "updated_at"])
    return draft


@transaction.atomic
def draft_document_add(
    *, user: Any, pk: int, component_id: int, upload: UploadedFile | None = None, stored_id: int | None = None
) -> DraftDocument:
    """Attach one file to one component: uploaded now (checked, kept in the citizen's data store) or chosen from
    the data store. A bad file raises ValidationFailed and nothing is stored."""
    draft = access_draft(user=user, pk=pk, lock=True)
    component = draft.procedure.components.filter(pk=component_id).first()
    if component is None:
        raise ValidationFailed(_("This document does not belong to the procedure."), code="unknown_component")
    field = f"component_{component.pk}"
    if upload is not None:
        try:
            stored = stored_document_add(owner=user, upload=upload, name=component.name)
        except ValidationFailed as error:
            raise ValidationFailed(error.message, detail={field: error.message}, code=error.code) from None
        reused = False
    elif stored_id is not None:
        stored = access_stored_document(owner=user, pk=stored_id)
        reused = True
    else:
        message = _("Choose a file to upload or a document from your data store.")
        raise ValidationFailed(message, detail={field: message}, code="file_required")
    document, _created = DraftDocument.objects.get_or_create(
        draft=draft, component=component, stored=stored, defaults={"reused": reused}
    )
    draft.save(update_fields=["updated_at"])
    return document


@transaction.atomic
def draft_document_remove(*, user: Any, pk: int, document_id: int) -> None:
    draft = access_draft(user=user, pk=pk, lock=True)
    deleted, _rows = DraftDocument.objects.filter(draft=draft, pk=document_id).delete()
    if not deleted:
        raise NotFound(_("No such document in this application."))


def documents_missing(*, draft: Draft) -> dict[str, str]:
    have = set(DraftDocument.objects.filter(draft=draft).values_list("component_id", flat=True))
    return {
        f"component_{c.pk}": _("“%(name)s” is required.") % {"name": c.name}
        for c in draft.procedure.components.all()
        if c.required and c.pk not in have
    }


@transaction.atomic
def draft_documents_done(*, user: Any, pk: int) -> Draft:
    draft = access_draft(user=user, pk=pk, lock=True)
    missing = documents_missing(draft=draft)
    if missing:
        raise ValidationFailed(_("Some required documents are missing."), detail=missing, code="documents_missing")
    _advance(draft, Draft.Stage.DELIVERY)
    draft.save(update_fields=["stage", "updated_at"])
    return draft


@transaction.atomic
def draft_delivery_set(*, user: Any, pk: int, delivery: str, address: str) -> Draft:
    draft = access_draft(user=user, pk=pk, lock=True)
    allowed = dict(delivery_choices(procedure=draft.procedure))
    if delivery not in allowed:
        message = _("Choose one of the ways offered for this procedure.")
        raise ValidationFailed(message, detail={"delivery": message}, code="delivery_invalid")
    address = address.strip()
    if delivery == Delivery.POST and len(address) < 10:
        message = _("Enter the full address the result is sent to (house number, street, commune, province).")
        raise ValidationFailed(message, detail={"delivery_address": message}, code="address_required")
    draft.delivery = delivery
    draft.delivery_address = address if delivery == Delivery.POST else ""
    _advance(draft, Draft.Stage.PAYMENT)
    draft.save(update_fields=["delivery", "delivery_address", "stage", "updated_at"])
    return draft


@transaction.atomic
def draft_payment_done(*, user: Any, pk: int, pay_later: bool) -> Draft:
    """Move on from the fees: paid online, nothing to pay, or (partly online procedures) paid at the counter."""
    draft = access_draft(user=user, pk=pk, lock=True)
    fees = draft_fees(draft=draft)
    if fees.total and not fees.paid and not (pay_later and fees.may_pay_later):
        message = _("Pay the fees online to continue.")
        raise ValidationFailed(message, detail={"payment": message}, code="payment_required")
    draft.pay_at_counter = bool(fees.total and not fees.paid)
    _advance(draft, Draft.Stage.REVIEW)
    draft.save(update_fields=["pay_at_counter", "stage", "updated_at"])
    return draft


@transaction.atomic
def draft_delete(*, user: Any, pk: int) -> None:
    draft = access_draft(user=user, pk=pk, lock=True)
    if paid_payment(reference=draft.payment_reference) is not None:
        raise ValidationFailed(_("Fees were paid for this application: submit it instead of deleting it."))
    draft.delete()


def draft_problems(*, draft: Draft, citizen: Citizen) -> dict[str, str]:
    """Everything still missing before the draft can be submitted, as {stage or field: message}."""
    problems: dict[str, str] = {}
    if STAGES.index(draft.stage) < STAGES.index(Draft.Stage.DOCUMENTS):
        problems["form"] = _("Complete the form.")
    problems |= documents_missing(draft=draft)
    if draft.delivery not in dict(delivery_choices(procedure=draft.procedure)):
        problems["delivery"] = _("Choose how to receive the result.")
    fees = draft_fees(draft=draft)
    if fees.total and not fees.paid and not (draft.pay_at_counter and fees.may_pay_later):
        problems["payment"] = _("Pay the fees online.")
    if not citizen.full_name.strip() or not citizen.id_number:
        problems["profile"] = _("Your account has no name or personal identification number: complete your profile.")
    if not competences_for(procedure=draft.procedure).filter(agency=draft.agency).exists():
        problems["agency"] = _("The chosen agency no longer resolves this procedure: start a new application.")
    return problems


@transaction.atomic
def draft_submit(*, user: Any, pk: int, now: dt.datetime | None = None) -> Dossier:
    """Submit the draft: a dossier with status 1 and its code, the documents and fees, the workflow's first (counter)
    step waiting for the receiving counter, one event. Nothing is written when anything is missing."""
    citizen = _citizen(user)
    draft = access_draft(user=user, pk=pk, lock=True)
    problems = draft_problems(draft=draft, citizen=citizen)
    if problems:
        raise ValidationFailed(_("The application is not complete yet."), detail=problems, code="draft_incomplete")
    now = now or timezone.now()
    procedure, agency = draft.procedure, draft.agency
    competence = competences_for(procedure=procedure).get(agency=agency)
    counter = competence.counters.filter(is_active=True).select_related("agency").order_by("id").first()
    day = timezone.localdate(now)
    fees = draft_fees(draft=draft)
    dossier = Dossier.objects.create(
        code=dossier_code_format(agency_identifier=agency.identifier, day=day, number=_daily_number(agency, day)),
        procedure=procedure,
        agency=agency,
        counter=counter,
        citizen=user,
        channel=Channel.ONLINE,
        status=Status.SUBMITTED,
        applicant_name=citizen.full_name,
        applicant_id_number=citizen.id_number,
        applicant_birth_date=citizen.birth_date,
        applicant_address=citizen.address,
        applicant_commune=citizen.commune,
        applicant_phone=citizen.phone,
        applicant_email=citizen.email,
        language=translation.get_language() or "vi",
        summary=procedure.name,
        form_data=draft.form_data,
        delivery=draft.delivery,
        delivery_address=draft.delivery_address,
        paid_online=fees.paid,
        processing_time=procedure.processing_time,
        time_unit=procedure.time_unit,
        submitted_at=now,
        public_receiving_agency=counter.agency.name if counter else agency.name,
        public_departments=handling_departments(procedure_id=procedure.pk, agency_id=agency.pk),
    )
    Document.objects.bulk_create(
        [
            Document(
                dossier=dossier,
                component=d.component,
                name=d.component.name,
                file=d.stored.file.name,
                file_name=d.stored.file_name,
                content_type=d.stored.content_type,
                size=d.stored.size,
                checksum=d.stored.checksum,
                reused=d.reused,
            )
            for d in DraftDocument.objects.filter(draft=draft).select_related("component", "stored")
        ]
    )
    DossierFee.objects.bulk_create(
        [DossierFee(dossier=dossier, name=name, amount=amount, paid=fees.paid) for name, amount in fees.lines]
    )
    if workflow_start(dossier=dossier, officer=None, now=now) is not None:
        dossier.save(update_fields=["workflow_version", "current_task", "current_step", "public_departments"])
    draft.dossier = dossier
    draft.submitted_at = now
    draft.save(update_fields=["dossier", "submitted_at", "updated_at"])
    event_record(
        dossier=dossier,
        action="submit_online",
        actor=None,
        status_from=None,
        at=now,
        actor_name=citizen.full_name,
        unit_name=_("Citizen portal"),
    )
    return dossier


# --- At the counter: accept or refuse an online dossier ------------------------------------------------------------


def can_receive_online(*, officer: Staff, dossier: Dossier) -> bool:
    """One-stop officers of the receiving counter (of the competent agency when no counter was named)."""
    if dossier.status != Status.SUBMITTED or officer.role != Role.ONE_STOP_OFFICER or officer.counter_id is None:
        return False
    if dossier.counter_id is not None:
        return officer.counter_id == dossier.counter_id
    return officer.agency_id == dossier.agency_id


def _lock_submitted(officer: Staff, code: str, task_id: int | None) -> Dossier:
    visible = access_dossier_for_officer(officer=officer, code=code)
    dossier = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("agency", "procedure", "counter")
        .get(pk=visible.pk)
    )
    if dossier.status != Status.SUBMITTED or dossier.current_task_id != task_id:
        raise Conflict(
            _("The dossier has moved on since you opened it (another officer acted on it). Reload and check again."),
            code="dossier_moved",
        )
    if not can_receive_online(officer=officer, dossier=dossier):
        raise PermissionDenied(_("Only the receiving counter's one-stop officers accept online dossiers."))
    return dossier


@transaction.atomic
def dossier_accept_online(*, officer: Staff, code: str, task_id: int | None, now: dt.datetime | None = None) -> Dossier:
    """Accept an online dossier: from now its appointment runs, it gets its register entry and its receipt (form 1),
    and the counter step goes to the officer who accepted it."""
    dossier = _lock_submitted(officer, code, task_id)
    now = now or timezone.now()
    procedure = dossier.procedure
    calendar = calendar_for(working_hours=dossier.agency.working_hours)
    volume = str(timezone.localdate(now).year)
    dossier.status = Status.ACCEPTED
    dossier.received_at = now
    dossier.received_by = officer.user
    dossier.counter = dossier.counter or officer.counter
    dossier.appointment_at = calendar.add(
        now, Decimal(dossier.processing_time), dossier.time_unit, after_15h_rule=procedure.after_15h_rule
    )
    dossier.register_field_id = procedure.field_id
    dossier.register_volume = volume
    dossier.register_number = _register_number(dossier.agency, procedure.field_id, volume)
    changed = ["status", "received_at", "received_by", "counter", "appointment_at", "register_field"]
    changed += ["register_volume", "register_number", "updated_at"]
    task = dossier.current_task
    if task is not None and task.step.kind == Step.Kind.COUNTER and task.assignee_id is None:
        task.assignee = officer
        task.save(update_fields=["assignee"])
    dossier.save(update_fields=changed)
    event_record(dossier=dossier, action="accept_online", actor=officer, status_from=Status.SUBMITTED, at=now)
    return dossier


@transaction.atomic
def dossier_refuse_online(
    *, officer: Staff, code: str, task_id: int | None, reasons: str, now: dt.datetime | None = None
) -> Dossier:
    """Refuse an online dossier at intake (form 3) with the specific reasons; the code is never reused."""
    if not reasons.strip():
        message = _("Give the specific reasons for refusing.")
        raise ValidationFailed(message, detail={"reasons": message})
    dossier = _lock_submitted(officer, code, task_id)
    now = now or timezone.now()
    if dossier.current_task is not None:
        finish_task(dossier.current_task, officer=officer, outcome="refuse_intake", now=now)
    dossier.status = Status.REFUSED
    dossier.refusal_reasons = reasons.strip()
    dossier.completed_at = now
    dossier.received_by = officer.user
    dossier.current_task = None
    dossier.current_step = ""
    dossier.save(
        update_fields=[
            "status", "refusal_reasons", "completed_at", "received_by", "current_task", "current_step", "updated_at"
        ]
    )  # fmt: skip
    event_record(
        dossier=dossier,
        action="refuse_intake",
        actor=officer,
        status_from=Status.SUBMITTED,
        note=reasons.strip(),
        at=now,
    )
    return dossier


# --- The citizen's own dossiers ------------------------------------------------------------------------------------


def dossiers_of_citizen(*, user: Any) -> QuerySet[Dossier]:
    return (
        Dossier.objects.filter(citizen_id=getattr(user, "pk", None))
        .select_related("procedure", "agency")
        .only(
            "code", "status", "submitted_at", "received_at", "appointment_at", "returned_at", "procedure__name",
            "procedure__code", "agency__name", "withdrawal_requested_at", "paused_at",
        )
        .order_by("-submitted_at", "-received_at", "-id")
    )  # fmt: skip


def _lock_own(user: Any, code: str) -> Dossier:
    visible = access_dossier_for_citizen(user=user, code=code)
    return (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("agency", "procedure", "current_task__step__agency")
        .get(pk=visible.pk)
    )


@transaction.atomic
def dossier_supplement_answer(
    *,
    user: Any,
    code: str,
    note: str,
    uploads: list[UploadedFile],
    stored_ids: list[int],
    now: dt.datetime | None = None,
) -> Dossier:
    """The citizen answers a supplement request (form 2) with files and a note: the files join the dossier (and
    the data store), and the clock runs again with the appointment moved by the time it waited."""
    citizen = _citizen(user)
    dossier = _lock_own(user, code)
    if dossier.status not in ANSWERABLE or dossier.current_task is None:
        raise Conflict(_("The dossier is not waiting for documents from you."), code="not_waiting")
    note = note.strip()
    if not uploads and not stored_ids:
        message = _("Add at least one document.")
        raise ValidationFailed(message, detail={"files": message}, code="files_required")
    stored: list[StoredDocument] = []
    for upload in uploads:
        try:
            stored.append(stored_document_add(owner=user, upload=upload, name=upload.name or ""))
        except ValidationFailed as error:
            raise ValidationFailed(error.message, detail={"files": error.message}, code=error.code) from None
    reused = {pk: access_stored_document(owner=user, pk=pk) for pk in stored_ids}
    now = now or timezone.now()
    Document.objects.bulk_create(
        [
            Document(
                dossier=dossier,
                name=_("Supplement: %(name)s") % {"name": s.name},
                file=s.file.name,
                file_name=s.file_name,
                content_type=s.content_type,
                size=s.size,
                checksum=s.checksum,
                reused=s.pk in reused,
            )
            for s in [*stored, *reused.values()]
        ]
    )
    status_from = dossier.status
    clock_resume(dossier=dossier, task=dossier.current_task, now=now)
    dossier.save(update_fields=["status", "paused_at", "appointment_at", "updated_at"])
    event_record(
        dossier=dossier,
        action="supplement_answer",
        actor=None,
        status_from=status_from,
        note=note,
        at=now,
        actor_name=citizen.full_name,
        unit_name=_("Applicant"),
    )
    return dossier


@transaction.atomic
def dossier_withdraw(*, user: Any, code: str, reason: str, now: dt.datetime | None = None) -> Dossier:
    """The citizen withdraws: a dossier not yet accepted is withdrawn at once (status 7); an accepted one carries the
    request until the agency stops it (form 5), since work may already be done on it."""
    citizen = _citizen(user)
    dossier = _lock_own(user, code)
    reason = reason.strip()
    if not reason:
        message = _("Say why you withdraw the dossier.")
        raise ValidationFailed(message, detail={"reason": message})
    if dossier.status not in WITHDRAWABLE:
        raise Conflict(_("This dossier can no longer be withdrawn."), code="not_withdrawable")
    if dossier.withdrawal_requested_at is not None:
        raise Conflict(_("You have already asked to withdraw this dossier."), code="already_requested")
    now = now or timezone.now()
    status_from = dossier.status
    dossier.withdrawal_requested_at = now
    changed = ["withdrawal_requested_at", "updated_at"]
    if dossier.status == Status.SUBMITTED:
        if dossier.current_task_id is not None:
            Task.objects.filter(pk=dossier.current_task_id).update(finished_at=now, outcome="withdraw")
        dossier.status = Status.WITHDRAWN
        dossier.completed_at = now
        dossier.current_task = None
        dossier.current_step = ""
        changed += ["status", "completed_at", "current_task", "current_step"]
    dossier.save(update_fields=changed)
    event_record(
        dossier=dossier,
        action="withdraw" if dossier.status == Status.WITHDRAWN else "withdraw_request",
        actor=None,
        status_from=status_from,
        note=reason,
        at=now,
        actor_name=citizen.full_name,
        unit_name=_("Applicant"),
    )
    return dossier


def results_of(*, dossier: Dossier) -> QuerySet[Attachment]:
    """The result files the citizen may download: once the result is recorded (status 9 or 10)."""
    if dossier.status not in (Status.RESOLVED, Status.RETURNED):
        return Attachment.objects.none()
    return Attachment.objects.filter(dossier=dossier, kind=Attachment.Kind.RESULT).order_by("uploaded_at")


def access_result(*, user: Any, code: str, pk: int) -> Attachment:
    dossier = access_dossier_for_citizen(user=user, code=code)
    result = results_of(dossier=dossier).filter(pk=pk).first()
    if result is None:
        raise NotFound(_("No such result."))
    return result


def access_document_of_own(*, user: Any, code: str, pk: int) -> Document:
    dossier = access_dossier_for_citizen(user=user, code=code)
    document = Document.objects.filter(dossier=dossier, pk=pk).exclude(file="").first()
    if document is None:
        raise NotFound(_("No such document."))
    return document
