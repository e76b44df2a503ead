"""The register of focal officers (cán bộ đầu mối): administrators list their agency's officers, add one, import a
spreadsheet of them, and end a record. The rules (and the accounts they grant) live in organizations.services;
these views parse, call one service or selector, and render. docs/focal-officers.md describes the register.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.errors import DomainError, PermissionDenied
from organizations.models import Agency, FocalOfficer, Role
from organizations.selectors import access_focal_officer_for, agency_list, focal_officers_for
from organizations.services import focal_officer_end, focal_officer_register, focal_officers_import

from .views import paginate, roles_required

PAGE_SIZE = 50
MAX_UPLOAD = 5 * 1024 * 1024
KEEPER_ROLES = {Role.AGENCY_ADMIN, Role.PROVINCE_ADMIN}


def _label(name: str) -> str:
    return capfirst(FocalOfficer._meta.get_field(name).verbose_name)  # type: ignore[return-value]


def _agency_choices() -> list[tuple[int, str]]:
    return [
        (a.pk, a.name)
        for a in agency_list(on=timezone.localdate()).select_related(None).only("pk", "name").order_by("-level", "name")
    ]


# An agency or province administrator; anyone else is told so (403).
keeper_required = roles_required(
    KEEPER_ROLES, gettext_lazy("Only agency and province administrators keep the focal officers.")
)


def _show_errors(form: forms.Form, exc: DomainError) -> None:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    for key, message in detail.items():
        form.add_error(key if key in form.fields else None, message)
    if not any(key in form.fields for key in detail):
        form.add_error(None, exc.message)


class AgencyField(forms.TypedChoiceField):
    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(coerce=int, empty_value=None, **kwargs)


class FilterForm(forms.Form):
    agency = AgencyField(label=gettext_lazy("Agency"), required=False)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", _("All agencies")), *_agency_choices()]  # type: ignore[attr-defined]


class OfficerForm(forms.Form):
    """Parses an officer; the checks (and their messages) are the service's."""

    agency = AgencyField(label=gettext_lazy("Agency"))
    full_name = forms.CharField(label=_label("full_name"), max_length=255)
    title = forms.CharField(label=_label("title"), max_length=120, required=False)
    phone = forms.CharField(
        label=_label("phone"), max_length=30, widget=forms.TextInput({"type": "tel", "autocomplete": "off"})
    )
    id_number = forms.CharField(
        label=_label("id_number"),
        max_length=20,
        help_text=gettext_lazy("12 digits, as on the citizen identity card."),
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=_label("email"),
        max_length=254,
        help_text=gettext_lazy("The address, in lower case, is the user name of the officer's account."),
        widget=forms.EmailInput({"autocomplete": "off"}),
    )

    def __init__(self, *args, officer, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if officer.role == Role.PROVINCE_ADMIN:
            self.fields["agency"].choices = [("", "—"), *_agency_choices()]  # type: ignore[attr-defined]
        else:
            del self.fields["agency"]


class ImportForm(forms.Form):
    agency = AgencyField(
        label=gettext_lazy("Agency"),
        required=False,
        help_text=gettext_lazy(
            "Leave empty for a sheet of several agencies: each row then names its agency in the column "
            "“Mã định danh cơ quan”."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (XLSX or CSV)"),
        widget=forms.ClearableFileInput({"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, officer, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if officer.role == Role.PROVINCE_ADMIN:
            self.fields["agency"].choices = [("", _("— each row's agency —")), *_agency_choices()]  # type: ignore[attr-defined]
        else:
            del self.fields["agency"]

    def clean_file(self):  # type: ignore[no-untyped-def]
        file = self.cleaned_data["file"]
        if file.size > MAX_UPLOAD:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB.") % {"size": MAX_UPLOAD // (1024 * 1024)}, code="too_big"
            )
        return file


def _agency(officer, agency_id: int | None) -> Agency | None:  # type: ignore[no-untyped-def]
    """The agency the form names (province administrators) or the officer's own."""
    if officer.role != Role.PROVINCE_ADMIN:
        return officer.agency  # type: ignore[no-any-return]
    if agency_id is None:
        return None
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404(_("No such agency."))
    return agency


def _list_url(agency: Agency | None, officer) -> str:  # type: ignore[no-untyped-def]
    url = reverse("backoffice:focal-officers")
    if agency is not None and officer.role == Role.PROVINCE_ADMIN:
        url += f"?agency={agency.pk}"
    return url


@keeper_required
@require_http_methods(["GET"])
def focal_list(request, officer):  # type: ignore[no-untyped-def]
    filter_form = None
    agency_id = None
    if officer.role == Role.PROVINCE_ADMIN:
        filter_form = FilterForm(request.GET or None)
        if filter_form.is_valid():
            agency_id = filter_form.cleaned_data["agency"]
    rows = focal_officers_for(actor=officer, agency_id=agency_id)
    page, query = paginate(request, rows, size=PAGE_SIZE)
    return render(
        request,
        "backoffice/focal/list.html",
        {"officer": officer, "filter_form": filter_form, "page": page, "query": query},
    )


@keeper_required
@require_http_methods(["GET", "POST"])
def focal_add(request, officer):  # type: ignore[no-untyped-def]
    initial = {"agency": request.GET.get("agency")} if officer.role == Role.PROVINCE_ADMIN else None
    form = OfficerForm(request.POST or None, officer=officer, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            agency = _agency(officer, d.get("agency"))
            try:
                record = focal_officer_register(
                    agency=agency,  # type: ignore[arg-type]
                    full_name=d["full_name"],
                    phone=d["phone"],
                    id_number=d["id_number"],
                    email=d["email"],
                    title=d["title"],
                    by=officer,
                )
            except PermissionDenied:
                raise
            except DomainError as exc:
                _show_errors(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("%(name)s is a focal officer of %(agency)s, with the administrator account “%(username)s”.")
                    % {"name": record.full_name, "agency": record.agency.name, "username": record.staff.user.username},  # type: ignore[union-attr]
                )
                return redirect(_list_url(record.agency, officer))
    return render(request, "backoffice/focal/add.html", {"officer": officer, "form": form}, status=status)


@keeper_required
@require_http_methods(["GET", "POST"])
def focal_import(request, officer):  # type: ignore[no-untyped-def]
    form = ImportForm(request.POST or None, request.FILES or None, officer=officer)
    report = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            agency = _agency(officer, form.cleaned_data.get("agency"))
            upload = form.cleaned_data["file"]
            try:
                report = focal_officers_import(agency=agency, file=upload, file_name=upload.name, by=officer)
            except PermissionDenied:
                raise
            except DomainError as exc:
                _show_errors(form, exc)
                status = exc.status
            else:
                if not report.errors:
                    messages.success(
                        request,
                        _("The sheet was imported: %(created)d focal officers added, %(updated)d updated.")
                        % {"created": report.created, "updated": report.updated},
                    )
                    return redirect(_list_url(agency, officer))
    return render(
        request,
        "backoffice/focal/import.html",
        {"officer": officer, "form": form, "report": report},
        status=status,
    )


@keeper_required
@require_http_methods(["GET", "POST"])
def focal_end(request, officer, pk: int):  # type: ignore[no-untyped-def]
    record = access_focal_officer_for(actor=officer, pk=pk)
    status = 200
    if request.method == "POST":
        try:
            focal_officer_end(officer=record, by=officer)
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            account = record.staff.user if record.staff else None
            if account is not None:
                account.refresh_from_db(fields=["is_active"])
            if account is not None and not account.is_active:
                message = _("The record of %(name)s was ended and their account closed.")
            else:
                message = _("The record of %(name)s was ended.")
            messages.success(request, message % {"name": record.full_name})
            return redirect(_list_url(record.agency, officer))
    return render(request, "backoffice/focal/end.html", {"officer": officer, "record": record}, status=status)


urlpatterns = [
    path("can-bo-dau-moi/", focal_list, name="focal-officers"),
    path("can-bo-dau-moi/them/", focal_add, name="focal-officer-add"),
    path("can-bo-dau-moi/nhap/", focal_import, name="focal-officers-import"),
    path("can-bo-dau-moi/<int:pk>/ket-thuc/", focal_end, name="focal-officer-end"),
]
