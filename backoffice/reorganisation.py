"""Reorganisation pages (docs/reorganisation-pages.md): province administrators record a reorganisation (merge,
rename, split, dissolve, move a department), preview it, apply it on its date or delete it while planned; agency and
province administrators work through the workflow checklist it leaves. The rules live in
organizations.reorganisation, dossiers.reorganisation and workflows.services; these views parse, call, and render.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict, ValidationFailed
from dossiers.reorganisation import reorganisation_apply
from dossiers.reorganisation_preview import (
    agencies_for_reorganisation,
    departments_for_reorganisation,
    reorganisation_get,
    reorganisation_preview,
    reorganisations_list,
    units_for_reorganisation,
)
from organizations.models import Agency, Reorganisation, Role
from organizations.reorganisation import reorganisation_delete
from workflows.selectors import checklist_for
from workflows.services import DESIGNER_ROLES, checklist_copy

from .reorganisation_forms import FORMS, ApplyConfirmForm, ChecklistFilterForm, DeleteConfirmForm, KindForm, RecordForm
from .views import int_or_none, paginate, roles_required

PAGE_SIZE = 50
TEMPLATES = "backoffice/reorganisation/"


province_admin_required = roles_required(
    {Role.PROVINCE_ADMIN}, gettext_lazy("Only province administrators record and apply reorganisations.")
)
checklist_keeper_required = roles_required(
    set(DESIGNER_ROLES), gettext_lazy("Only agency and province administrators configure workflows.")
)


# The list and the recording forms -----------------------------------------------------------------------------


def _record_form(form_class: type[RecordForm], data=None, *, initial=None) -> RecordForm:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    source = data if data is not None else initial or {}
    departments = None
    if form_class.departments_of:
        departments = departments_for_reorganisation(agency_id=int_or_none(source.get(form_class.departments_of)))
    form = form_class(
        data,
        initial=initial,
        agencies=agencies_for_reorganisation(today=today),
        units=units_for_reorganisation(today=today) if "unit" in form_class.base_fields else None,
        departments=departments,
        today=today,
    )
    if form_class.departments_of:
        # With htmx, choosing the agency swaps in its departments (this page, filtered by hx-select).
        form.fields[form_class.departments_of].widget.attrs.update(
            {
                "hx-get": f"{reverse('backoffice:reorganisations')}?kind={form_class.kind}",
                "hx-target": "#department-choices",
                "hx-select": "#department-choices",
                "hx-swap": "outerHTML",
            }
        )
    return form


@require_http_methods(["GET", "POST"])
@province_admin_required
def reorganisations(request, officer):  # type: ignore[no-untyped-def]
    """The reorganisations, planned and applied, and the form to record one (its kind chosen first)."""
    params = request.POST if request.method == "POST" else request.GET
    kind = params.get("kind") if params.get("kind") in FORMS else Reorganisation.Kind.MERGE_NEW
    form_class = FORMS[kind]
    status = 200
    if request.method == "POST" and "refresh" in request.POST:
        # Without JavaScript: the agency was chosen, show its departments; nothing is checked or recorded.
        form = _record_form(form_class, initial=form_class.initial_from(request.POST))
    elif request.method == "POST":
        form = _record_form(form_class, request.POST)
        if form.is_valid():
            try:
                reorganisation = form.record(by_user=request.user)
            except (ValidationFailed, Conflict) as exc:
                form.add_domain_error(exc)
            else:
                messages.success(
                    request,
                    _("The reorganisation was recorded. It takes effect on %(date)s: check its preview.")
                    % {"date": reorganisation.effective_date.strftime("%d/%m/%Y")},
                )
                return redirect("backoffice:reorganisation", pk=reorganisation.pk)
        status = 400
    else:
        initial = {form_class.departments_of: request.GET.get(form_class.departments_of)}
        form = _record_form(form_class, initial=initial if form_class.departments_of else None)
    page, query = paginate(request, reorganisations_list(), size=PAGE_SIZE)
    context = {
        "officer": officer,
        "page": page,
        "query": query,
        "kind": kind,
        "kind_form": KindForm(initial={"kind": kind}),
        "form": form,
        "today": timezone.localdate(),
    }
    return render(request, TEMPLATES + "list.html", context, status=status)


# One reorganisation: preview, apply, delete ---------------------------------------------------------------------


def _detail(request, officer, reorganisation: Reorganisation, *, status: int = 200, **extra):  # type: ignore[no-untyped-def]
    planned = reorganisation.state == Reorganisation.State.PLANNED
    today = timezone.localdate()
    context = {
        "officer": officer,
        "reorganisation": reorganisation,
        "successions": list(reorganisation.successions.all()),
        "planned": planned,
        "due": planned and reorganisation.effective_date <= today,
        "preview": reorganisation_preview(reorganisation=reorganisation) if planned else None,
        "report": reorganisation.report or None,
        "apply_form": ApplyConfirmForm(prefix="apply"),
        "delete_form": DeleteConfirmForm(prefix="delete"),
    }
    context.update(extra)
    return render(request, TEMPLATES + "detail.html", context, status=status)


@require_GET
@province_admin_required
def reorganisation_detail(request, officer, pk: int):  # type: ignore[no-untyped-def]
    return _detail(request, officer, reorganisation_get(reorganisation_id=pk))


@require_POST
@province_admin_required
def reorganisation_apply_now(request, officer, pk: int):  # type: ignore[no-untyped-def]
    reorganisation = reorganisation_get(reorganisation_id=pk)
    form = ApplyConfirmForm(request.POST, prefix="apply")
    if not form.is_valid():
        return _detail(request, officer, reorganisation, apply_form=form, status=400)
    try:
        report = reorganisation_apply(reorganisation_id=reorganisation.pk)
    except (Conflict, ValidationFailed) as exc:
        return _detail(request, officer, reorganisation, error=exc.message, status=exc.status)
    messages.success(
        request,
        _("The reorganisation was applied: %(dossiers)d open dossiers moved, %(items)d workflows to configure.")
        % {"dossiers": sum(report.dossiers_moved.values()), "items": sum(report.checklist.values())},
    )
    return redirect("backoffice:reorganisation", pk=reorganisation.pk)


@require_POST
@province_admin_required
def reorganisation_remove(request, officer, pk: int):  # type: ignore[no-untyped-def]
    reorganisation = reorganisation_get(reorganisation_id=pk)
    form = DeleteConfirmForm(request.POST, prefix="delete")
    if not form.is_valid():
        return _detail(request, officer, reorganisation, delete_form=form, status=400)
    try:
        reorganisation_delete(reorganisation_id=reorganisation.pk)
    except Conflict as exc:
        return _detail(request, officer, reorganisation, error=exc.message, status=exc.status)
    messages.success(request, _("The planned reorganisation was deleted."))
    return redirect("backoffice:reorganisations")


# The workflow checklist ---------------------------------------------------------------------------------------


def _checklist_page(request, officer, *, agency_id: int | None = None, report=None):  # type: ignore[no-untyped-def]
    filter_form = None
    agency: Agency | None = officer.agency if officer.role != Role.PROVINCE_ADMIN else None
    if officer.role == Role.PROVINCE_ADMIN:
        today = timezone.localdate()
        data = request.GET if request.method == "GET" else {"agency": agency_id or ""}
        filter_form = ChecklistFilterForm(data, agencies=agencies_for_reorganisation(today=today), today=today)
        agency_id = filter_form.cleaned_data["agency"] if filter_form.is_valid() else None
        agency = filter_form.agency_by_pk.get(agency_id) if agency_id else None  # type: ignore[arg-type]
    items = checklist_for(actor=officer, agency_id=agency_id).select_related("done_by")
    page, query = paginate(request, items, size=PAGE_SIZE)
    context = {
        "officer": officer,
        "filter_form": filter_form,
        "agency": agency,
        "page": page,
        "query": query,
        "report": report,
    }
    return render(request, TEMPLATES + "checklist.html", context)


@require_GET
@checklist_keeper_required
def checklist(request, officer):  # type: ignore[no-untyped-def]
    return _checklist_page(request, officer)


@require_POST
@checklist_keeper_required
def checklist_copy_now(request, officer):  # type: ignore[no-untyped-def]
    """Copy the former agency's workflow: for one item (``item``), or for every open item of an agency (the bulk
    buttons); with ``publish``, publish each copy that passes the check."""
    publish = request.POST.get("publish") == "1"
    item_id = int_or_none(request.POST.get("item"))
    if item_id is not None:
        item = checklist_for(actor=officer).filter(pk=item_id).select_related("agency").first()
        if item is None:
            raise Http404(_("No such checklist item."))
        agency, item_ids = item.agency, [item.pk]
    elif officer.role == Role.PROVINCE_ADMIN:
        agency = Agency.objects.filter(pk=int_or_none(request.POST.get("agency"))).first()
        if agency is None:
            raise Http404(_("Choose the agency whose workflows are copied."))
        item_ids = None
    else:
        agency, item_ids = officer.agency, None
    report = checklist_copy(actor=officer, agency=agency, item_ids=item_ids, publish=publish)
    published = {v.pk for v in report.published}
    summary = {
        "published": report.published,
        "drafts": [v for v in report.drafts if v.pk not in published],
        "problems": report.problems,
    }
    return _checklist_page(request, officer, agency_id=agency.pk, report=summary)


urlpatterns = [
    path("sap-xep-to-chuc/", reorganisations, name="reorganisations"),
    path("sap-xep-to-chuc/<int:pk>/", reorganisation_detail, name="reorganisation"),
    path("sap-xep-to-chuc/<int:pk>/ap-dung/", reorganisation_apply_now, name="reorganisation-apply"),
    path("sap-xep-to-chuc/<int:pk>/xoa/", reorganisation_remove, name="reorganisation-delete"),
    path("quy-trinh/can-cau-hinh/", checklist, name="workflow-checklist"),
    path("quy-trinh/can-cau-hinh/sao-chep/", checklist_copy_now, name="workflow-checklist-copy"),
]
