"""Online submission (the wizard), the citizen's dossiers and their personal data store. Thin: every write is a
service of dossiers/online.py or citizens/store.py, every read an ``access_*`` selector."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citizens import store
from core.errors import DomainError, NotFound, ValidationFailed
from core.national import Status
from core.ratelimit import client_address
from dossiers import online
from dossiers.models import Delivery, Draft, DraftDocument
from dossiers.selectors import access_dossier_for_citizen, events_for_applicant, open_supplement_request
from feedback.selectors import can_rate
from payments.services import payment_start
from procedures import eforms
from receipts.services import form1_pdf, form3_pdf

from .accounts import citizen_required

STAGE_VIEWS = {
    Draft.Stage.FORM: "portal:draft-form",
    Draft.Stage.DOCUMENTS: "portal:draft-documents",
    Draft.Stage.DELIVERY: "portal:draft-delivery",
    Draft.Stage.PAYMENT: "portal:draft-payment",
    Draft.Stage.REVIEW: "portal:draft-review",
}


def _or_404(fn, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return fn(**kwargs)
    except NotFound as error:
        raise Http404(error.message) from None


def _wizard(request, draft, stage: str, context: dict, status: int = 200):  # type: ignore[no-untyped-def]
    stages = [(s.value, s.label, reverse(STAGE_VIEWS[s], args=[draft.pk])) for s in Draft.Stage]
    reached = online.STAGES.index(draft.stage)
    context = {
        "draft": draft,
        "procedure": draft.procedure,
        "stage": stage,
        "stages": [(value, label, url, i <= reached) for i, (value, label, url) in enumerate(stages)],
        **context,
    }
    return render(request, f"portal/online/{stage}.html", context, status=status)


# --- Starting -----------------------------------------------------------------------------------------------------


@citizen_required
def apply(request, citizen, code: str):  # type: ignore[no-untyped-def]
    """Choose the competent agency (the citizen's own commune first), then the draft."""
    try:
        procedure = online.online_procedure(code=code)
    except NotFound as error:
        raise Http404(error.message) from None
    except ValidationFailed as error:
        return render(request, "portal/online/not_online.html", {"message": error.message, "code": code}, status=409)
    competences = list(online.competences_for(procedure=procedure))
    error = ""
    if request.method == "POST":
        raw = request.POST.get("agency") or ""
        agency_id = int(raw) if raw.isdigit() else None
        try:
            draft = online.draft_start(user=request.user, procedure_code=code, agency_id=agency_id)
            return redirect(STAGE_VIEWS[draft.stage], draft.pk)
        except ValidationFailed as failure:
            error = failure.detail.get("agency", failure.message)
    own = next(
        (c.agency_id for c in competences if citizen.commune_id and c.agency.unit_id == citizen.commune_id), None
    )
    return render(
        request,
        "portal/online/apply.html",
        {"procedure": procedure, "competences": competences, "own": own, "error": error},
        status=400 if error else 200,
    )


@citizen_required
def draft(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    found = _or_404(online.access_draft, user=request.user, pk=pk)
    return redirect(STAGE_VIEWS[found.stage], found.pk)


@citizen_required
@require_POST
def draft_delete(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    try:
        online.draft_delete(user=request.user, pk=pk)
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        request.session["portal_error"] = error.message
    return redirect("portal:my-dossiers")


# --- The wizard's steps -------------------------------------------------------------------------------------------


@citizen_required
def draft_form(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    found = _or_404(online.access_draft, user=request.user, pk=pk)
    schema = found.procedure.form_schema
    values, errors = found.form_data, {}
    if request.method == "POST":
        final = "save" not in request.POST
        try:
            found = online.draft_form_save(user=request.user, pk=pk, data=request.POST, final=final)
            if final:
                return redirect("portal:draft-documents", pk)
            values = found.form_data
        except ValidationFailed as error:
            values = eforms.clean(schema, request.POST, partial=True)[0]
            errors = error.detail
    fields = eforms.bound_fields(schema, values, errors)
    return _wizard(
        request,
        found,
        "form",
        {"fields": fields, "errors": errors, "saved": request.method == "POST" and not errors},
        status=400 if errors else 200,
    )


@citizen_required
def draft_documents(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    found = _or_404(online.access_draft, user=request.user, pk=pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        what = request.POST.get("do", "")
        try:
            if what == "add":
                raw_component, raw_stored = request.POST.get("component", ""), request.POST.get("stored", "")
                online.draft_document_add(
                    user=request.user,
                    pk=pk,
                    component_id=int(raw_component) if raw_component.isdigit() else 0,
                    upload=request.FILES.get("file"),
                    stored_id=int(raw_stored) if raw_stored.isdigit() else None,
                )
                return redirect("portal:draft-documents", pk)
            if what == "remove":
                raw = request.POST.get("document", "")
                online.draft_document_remove(user=request.user, pk=pk, document_id=int(raw) if raw.isdigit() else 0)
                return redirect("portal:draft-documents", pk)
            online.draft_documents_done(user=request.user, pk=pk)
            return redirect("portal:draft-delivery", pk)
        except NotFound as error:
            errors = {"documents": error.message}
        except ValidationFailed as error:
            errors = error.detail or {"documents": error.message}
        found = online.access_draft(user=request.user, pk=pk)
    attached = DraftDocument.objects.filter(draft=found).select_related("stored")
    by_component: dict[int, list] = {}  # type: ignore[type-arg]
    for document in attached:
        by_component.setdefault(document.component_id, []).append(document)
    components = [
        {"component": c, "key": f"component_{c.pk}", "documents": by_component.get(c.pk, [])}
        for c in found.procedure.components.all()
    ]
    return _wizard(
        request,
        found,
        "documents",
        {
            "components": components,
            "errors": errors,
            "stored": store.stored_documents(owner=request.user),
            "max_mb": settings.UPLOAD_MAX_MB,
        },
        status=400 if errors else 200,
    )


@citizen_required
def draft_delivery(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    found = _or_404(online.access_draft, user=request.user, pk=pk)
    errors: dict[str, str] = {}
    choice = found.delivery or Delivery.ONLINE
    address = found.delivery_address or citizen.address
    if request.method == "POST":
        choice, address = request.POST.get("delivery", ""), request.POST.get("delivery_address", "")
        try:
            online.draft_delivery_set(user=request.user, pk=pk, delivery=choice, address=address)
            return redirect("portal:draft-payment", pk)
        except ValidationFailed as error:
            errors = error.detail
    return _wizard(
        request,
        found,
        "delivery",
        {
            "choices": online.delivery_choices(procedure=found.procedure),
            "choice": choice,
            "address": address,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@citizen_required
def draft_payment(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    found = _or_404(online.access_draft, user=request.user, pk=pk)
    fees = online.draft_fees(draft=found)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if request.POST.get("do") == "pay":
                _payment, url = payment_start(
                    reference=found.payment_reference,
                    amount=fees.total,
                    description=_("Fees for %(procedure)s") % {"procedure": found.procedure.name[:150]},
                    return_to=reverse("portal:draft-payment", args=[pk]),
                    user=request.user,
                    client_ip=client_address(request),
                )
                return redirect(url)
            online.draft_payment_done(user=request.user, pk=pk, pay_later=request.POST.get("do") == "later")
            return redirect("portal:draft-review", pk)
        except DomainError as error:
            errors = getattr(error, "detail", None) or {"payment": error.message}
    return _wizard(request, found, "payment", {"fees": fees, "errors": errors}, status=400 if errors else 200)


@citizen_required
def draft_review(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    found = _or_404(online.access_draft, user=request.user, pk=pk)
    problems: dict[str, str] = {}
    if request.method == "POST":
        try:
            dossier = online.draft_submit(user=request.user, pk=pk)
            request.session["portal_notice"] = _(
                "Your dossier was submitted with the code %(code)s. The counter will check it and tell you."
            ) % {"code": dossier.code}
            return redirect("portal:my-dossier", dossier.code)
        except ValidationFailed as error:
            problems = error.detail
    else:
        problems = online.draft_problems(draft=found, citizen=citizen)
    return _wizard(
        request,
        found,
        "review",
        {
            "citizen": citizen,
            "rows": eforms.display_rows(found.procedure.form_schema, found.form_data),
            "documents": DraftDocument.objects.filter(draft=found).select_related("component", "stored"),
            "fees": online.draft_fees(draft=found),
            "problems": problems,
            "stage_urls": {s.value: reverse(STAGE_VIEWS[s], args=[found.pk]) for s in Draft.Stage},
        },
        status=400 if request.method == "POST" and problems else 200,
    )


# --- My dossiers --------------------------------------------------------------------------------------------------


@citizen_required
def my_dossiers(request, citizen):  # type: ignore[no-untyped-def]
    page = Paginator(online.dossiers_of_citizen(user=request.user), 20).get_page(request.GET.get("trang"))
    return render(
        request,
        "portal/online/my_dossiers.html",
        {
            "page": page,
            "drafts": online.drafts_of(user=request.user),
            "error": request.session.pop("portal_error", ""),
        },
    )


@citizen_required
def my_dossier(request, citizen, code: str, errors: dict | None = None, status: int = 200):  # type: ignore[no-untyped-def,type-arg]
    dossier = _or_404(access_dossier_for_citizen, user=request.user, code=code)
    context = {
        "dossier": dossier,
        "events": events_for_applicant(dossier=dossier),
        "open_request": open_supplement_request(dossier=dossier),
        "documents": dossier.documents.exclude(file=""),
        "results": online.results_of(dossier=dossier),
        "rows": eforms.display_rows(dossier.procedure.form_schema, dossier.form_data),
        "withdrawable": dossier.status in online.WITHDRAWABLE and dossier.withdrawal_requested_at is None,
        "rateable": can_rate(user=request.user, dossier=dossier),
        "stored": store.stored_documents(owner=request.user),
        "errors": errors or {},
        "notice": request.session.pop("portal_notice", ""),
        "has_receipt": dossier.received_at is not None and dossier.status != Status.REFUSED,
    }
    return render(request, "portal/online/my_dossier.html", context, status=status)


@citizen_required
@require_POST
def my_dossier_supplement(request, citizen, code: str):  # type: ignore[no-untyped-def]
    stored_ids = [int(v) for v in request.POST.getlist("stored") if v.isdigit()]
    try:
        online.dossier_supplement_answer(
            user=request.user,
            code=code,
            note=request.POST.get("note", ""),
            uploads=request.FILES.getlist("files"),
            stored_ids=stored_ids,
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        return my_dossier(
            request, code=code, errors=getattr(error, "detail", None) or {"files": error.message}, status=400
        )
    request.session["portal_notice"] = _("Your documents were sent. Processing continues.")
    return redirect("portal:my-dossier", code)


@citizen_required
@require_POST
def my_dossier_withdraw(request, citizen, code: str):  # type: ignore[no-untyped-def]
    try:
        dossier = online.dossier_withdraw(user=request.user, code=code, reason=request.POST.get("reason", ""))
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        return my_dossier(
            request, code=code, errors=getattr(error, "detail", None) or {"reason": error.message}, status=400
        )
    request.session["portal_notice"] = (
        _("Your dossier was withdrawn.")
        if dossier.status == Status.WITHDRAWN
        else _("Your request to withdraw was sent to the agency.")
    )
    return redirect("portal:my-dossier", code)


@citizen_required
def my_dossier_result(request, citizen, code: str, pk: int):  # type: ignore[no-untyped-def]
    item = _or_404(online.access_result, user=request.user, code=code, pk=pk)
    return FileResponse(
        item.file.open("rb"), content_type=item.content_type, filename=item.file_name, as_attachment=True
    )


@citizen_required
def my_dossier_document(request, citizen, code: str, pk: int):  # type: ignore[no-untyped-def]
    item = _or_404(online.access_document_of_own, user=request.user, code=code, pk=pk)
    return FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.file_name)


@citizen_required
def my_dossier_receipt(request, citizen, code: str):  # type: ignore[no-untyped-def]
    """The electronic receipt (form 1) once the counter accepted the dossier; the refusal (form 3) if it refused."""
    dossier = _or_404(access_dossier_for_citizen, user=request.user, code=code)
    if dossier.status == Status.REFUSED:
        pdf, name = form3_pdf(dossier=dossier), f"tu-choi-{dossier.code}.pdf"
    elif dossier.received_at is not None:
        pdf, name = form1_pdf(dossier=dossier), f"giay-tiep-nhan-{dossier.code}.pdf"
    else:
        raise Http404(_("The counter has not accepted the dossier yet."))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


# --- The personal data store --------------------------------------------------------------------------------------


@citizen_required
def data_store(request, citizen):  # type: ignore[no-untyped-def]
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if request.POST.get("do") == "remove":
                raw = request.POST.get("document", "")
                store.stored_document_remove(owner=request.user, pk=int(raw) if raw.isdigit() else 0)
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    message = _("Choose a file to upload.")
                    raise ValidationFailed(message, detail={"file": message})
                store.stored_document_add(owner=request.user, upload=upload, name=request.POST.get("name", ""))
            return redirect("portal:store")
        except DomainError as error:
            errors = getattr(error, "detail", None) or {"file": error.message}
    return render(
        request,
        "portal/online/store.html",
        {"documents": store.stored_documents(owner=request.user), "errors": errors, "max_mb": settings.UPLOAD_MAX_MB},
        status=400 if errors else 200,
    )


@citizen_required
def data_store_file(request, citizen, pk: int):  # type: ignore[no-untyped-def]
    item = _or_404(store.access_stored_document, owner=request.user, pk=pk)
    return FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.file_name)


urlpatterns = [
    path("nop-truc-tuyen/<str:code>/", apply, name="apply"),
    path("ho-so-nhap/<int:pk>/", draft, name="draft"),
    path("ho-so-nhap/<int:pk>/xoa/", draft_delete, name="draft-delete"),
    path("ho-so-nhap/<int:pk>/to-khai/", draft_form, name="draft-form"),
    path("ho-so-nhap/<int:pk>/giay-to/", draft_documents, name="draft-documents"),
    path("ho-so-nhap/<int:pk>/nhan-ket-qua/", draft_delivery, name="draft-delivery"),
    path("ho-so-nhap/<int:pk>/le-phi/", draft_payment, name="draft-payment"),
    path("ho-so-nhap/<int:pk>/xem-lai/", draft_review, name="draft-review"),
    path("ho-so-cua-toi/", my_dossiers, name="my-dossiers"),
    path("ho-so-cua-toi/<str:code>/", my_dossier, name="my-dossier"),
    path("ho-so-cua-toi/<str:code>/bo-sung/", my_dossier_supplement, name="my-dossier-supplement"),
    path("ho-so-cua-toi/<str:code>/rut/", my_dossier_withdraw, name="my-dossier-withdraw"),
    path("ho-so-cua-toi/<str:code>/ket-qua/<int:pk>/", my_dossier_result, name="my-dossier-result"),
    path("ho-so-cua-toi/<str:code>/giay-to/<int:pk>/", my_dossier_document, name="my-dossier-document"),
    path("ho-so-cua-toi/<str:code>/giay-tiep-nhan.pdf", my_dossier_receipt, name="my-dossier-receipt"),
    path("kho-du-lieu/", data_store, name="store"),
    path("kho-du-lieu/<int:pk>/", data_store_file, name="store-file"),
]
