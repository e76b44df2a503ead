import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.forms.forms import NON_FIELD_ERRORS
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError, NotFound, PermissionDenied
from core.ratelimit import client_address, login_failure_record, login_success_record, login_wait, login_wait_message
from dossiers import selectors as dossier_selectors
from dossiers.services import Applicant, FeeLine, Intake, ReceivedComponent, dossier_receive, dossier_refuse_at_intake
from organizations.selectors import staff_for_user
from procedures.models import Competence
from procedures.selectors import field_list, procedure_get, procedure_search
from receipts import services as receipts

from .forms import IntakeForm, ProcedurePickForm, RegisterForm

logger = logging.getLogger(__name__)


class StaffAuthenticationForm(AuthenticationForm):
    """Staff accounts only; failed attempts throttled (core/ratelimit.py) before any password is checked."""

    wait: int | None = None

    def clean(self):  # type: ignore[no-untyped-def]
        username = self.cleaned_data.get("username") or ""
        client = client_address(self.request)
        if username:
            self.wait = login_wait(username=username, client=client)
            if self.wait is not None:
                raise ValidationError(login_wait_message(self.wait), code="throttled")
        try:
            return super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                login_failure_record(username=username, client=client)
                logger.warning("sign-in failed portal=staff account=%s client=%s", username[:64], client)
            raise

    def confirm_login_allowed(self, user):  # type: ignore[no-untyped-def]
        super().confirm_login_allowed(user)
        if staff_for_user(user=user) is None:
            raise ValidationError(
                _("This account is not a staff account of an agency. Citizens sign in on the portal: %(url)s")
                % {"url": reverse("portal:login")},
                code="not_staff",
            )


class LoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    form_class = StaffAuthenticationForm
    next_page = "backoffice:home"
    extra_context = {"title": gettext_lazy("Staff sign-in")}

    def dispatch(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Only a staff session skips the form: someone signed in on the portal as a citizen may sign in here.
        self.redirect_authenticated_user = staff_for_user(user=request.user) is not None
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        login_success_record(username=form.get_user().get_username())
        return super().form_valid(form)

    def form_invalid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(form.wait)
        return response


def officer_required(view):  # type: ignore[no-untyped-def]
    """Signed in and linked to an agency; the officer is passed to the view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not request.user.is_authenticated:
            return redirect(f"/mot-cua/dang-nhap/?next={request.get_full_path()}")
        officer = staff_for_user(user=request.user)
        if officer is None:
            raise Http404(_("This account is not linked to an agency."))
        return view(request, officer, *args, **kwargs)

    return wrapper


def int_or_none(value) -> int | None:  # type: ignore[no-untyped-def]
    """A posted or queried id, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def paginate(request, rows, *, size: int = 50, param: str = "page") -> tuple[Page, str]:  # type: ignore[no-untyped-def]
    """One page of ``rows`` and the query string of the other parameters, for the pager's links."""
    page = Paginator(rows, size).get_page(request.GET.get(param))
    query = request.GET.copy()
    query.pop(param, None)
    return page, query.urlencode()


def refused(request, officer, message: str):  # type: ignore[no-untyped-def]
    """The 403 page: what the officer may not do, and why."""
    return render(request, "backoffice/designer/refused.html", {"officer": officer, "message": message}, status=403)


def roles_required(roles, refusal):  # type: ignore[no-untyped-def]
    """Only officers of ``roles``; anyone else gets the 403 page with ``refusal``. The services' NotFound becomes a
    404 page and their PermissionDenied (an object outside the officer's scope) the 403 page."""

    def decorator(view):  # type: ignore[no-untyped-def]
        @officer_required
        @wraps(view)
        def wrapper(request, officer, *args, **kwargs):  # type: ignore[no-untyped-def]
            if officer.role not in roles:
                return refused(request, officer, str(refusal))
            try:
                return view(request, officer, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied as exc:
                return refused(request, officer, exc.message)

        return wrapper

    return decorator


def _get(fn, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return fn(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@officer_required
def home(request, officer):  # type: ignore[no-untyped-def]
    recent = (
        dossier_selectors.dossiers_for_officer(officer=officer)
        .select_related("procedure", "agency")
        .order_by("-received_at", "-id")[:25]
    )
    return render(request, "backoffice/home.html", {"officer": officer, "recent": recent})


@officer_required
def intake_start(request, officer):  # type: ignore[no-untyped-def]
    form = ProcedurePickForm(request.GET or None)
    results = []
    if form.is_valid() and form.cleaned_data["q"]:
        results = list(procedure_search(q=form.cleaned_data["q"])[:30])
    template = "backoffice/_procedure_results.html" if request.htmx else "backoffice/intake_start.html"
    return render(request, template, {"officer": officer, "form": form, "results": results})


def _agency_choices(procedure, officer):  # type: ignore[no-untyped-def]
    competences = list(
        Competence.objects.valid_on(timezone.localdate())
        .filter(procedure=procedure)
        .select_related("agency")
        .prefetch_related("counters")
        .order_by("agency__name")
    )
    # The agencies this counter normally receives for come first (cross-boundary intake is allowed).
    competences.sort(key=lambda c: officer.counter_id not in {k.pk for k in c.counters.all()})
    return [(c.agency.identifier, c.agency.name) for c in competences]


def _intake_from(form: IntakeForm) -> Intake:
    d = form.cleaned_data
    applicant = Applicant(
        name=d["applicant_name"] or "",
        type=d["applicant_type"],
        id_number=d["applicant_id_number"] or "",
        birth_date=d["applicant_birth_date"],
        organisation_name=d["organisation_name"] or "",
        organisation_code=d["organisation_code"] or "",
        address=d["applicant_address"] or "",
        commune_code=d["applicant_commune"],
        phone=d["applicant_phone"] or "",
        email=d["applicant_email"] or "",
        representative_name=d["representative_name"] or "",
        representative_id_number=d["representative_id_number"] or "",
        representative_phone=d["representative_phone"] or "",
        representative_authorisation=d["representative_authorisation"] or "",
        language=d["language"],
    )
    components = [
        ReceivedComponent(
            component_id=component.pk,
            received=d[prefix],
            originals=d[f"{prefix}_originals"],
            copies=d[f"{prefix}_copies"],
            scan=d[f"{prefix}_scan"],
        )
        for component, prefix in form.component_rows
    ]
    fees = [FeeLine(fee.name, d[f"{prefix}_amount"], d[f"{prefix}_paid"]) for fee, prefix in form.fee_rows]
    return Intake(
        procedure_code=form.procedure.code,
        applicant=applicant,
        agency_identifier=d["agency"],
        summary=d["summary"] or "",
        sets=d["sets"],
        components=components,
        fees=fees,
        delivery=d["delivery"],
        delivery_address=d["delivery_address"] or "",
    )


@officer_required
def intake(request, officer, code: str):  # type: ignore[no-untyped-def]
    procedure = _get(procedure_get, code=code)
    agencies = _agency_choices(procedure, officer)
    form = IntakeForm(request.POST or None, request.FILES or None, procedure=procedure, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        refusing = request.POST.get("action") == "refuse"
        try:
            if refusing:
                dossier = dossier_refuse_at_intake(
                    officer=officer, intake=_intake_from(form), reasons=form.cleaned_data["reasons"] or ""
                )
            else:
                dossier = dossier_receive(officer=officer, intake=_intake_from(form))
        except DomainError as exc:
            for key, message in (exc.detail or {}).items():
                form.add_error(key if key in form.fields else None, message)
            if not exc.detail:
                form.add_error(None, exc.message)
        else:
            if refusing:
                messages.success(request, _("The refusal was recorded. Print the refusal form for the applicant."))
                return redirect("backoffice:refusal", pk=dossier.pk)
            messages.success(
                request, _("Dossier %(code)s received. Print the receipt for the applicant.") % {"code": dossier.code}
            )
            return redirect("backoffice:dossier", code=dossier.code)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "backoffice/intake.html", {"officer": officer, "procedure": procedure, "form": form}, status=status
    )


def _document(html_or_pdf: str, content, filename: str):  # type: ignore[no-untyped-def]
    if html_or_pdf == "pdf":
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
        return response
    return HttpResponse(content)


@officer_required
def receipt(request, officer, code: str, fmt: str):  # type: ignore[no-untyped-def]
    dossier = _get(dossier_selectors.access_dossier_for_officer, officer=officer, code=code)
    content = receipts.form1_pdf(dossier=dossier) if fmt == "pdf" else receipts.form1_html(dossier=dossier)
    return _document(fmt, content, f"giay-tiep-nhan-{dossier.code}")


@officer_required
def control_sheet(request, officer, code: str, fmt: str):  # type: ignore[no-untyped-def]
    dossier = _get(dossier_selectors.access_dossier_for_officer, officer=officer, code=code)
    content = receipts.form6_pdf(dossier=dossier) if fmt == "pdf" else receipts.form6_html(dossier=dossier)
    return _document(fmt, content, f"phieu-kiem-soat-{dossier.code}")


@officer_required
def refusal(request, officer, pk: int):  # type: ignore[no-untyped-def]
    dossier = _get(dossier_selectors.access_refusal_for_officer, officer=officer, pk=pk)
    return render(request, "backoffice/refusal.html", {"officer": officer, "dossier": dossier})


@officer_required
def refusal_form(request, officer, pk: int, fmt: str):  # type: ignore[no-untyped-def]
    dossier = _get(dossier_selectors.access_refusal_for_officer, officer=officer, pk=pk)
    content = receipts.form3_pdf(dossier=dossier) if fmt == "pdf" else receipts.form3_html(dossier=dossier)
    return _document(fmt, content, f"phieu-tu-choi-{dossier.pk}")


@officer_required
def register(request, officer):  # type: ignore[no-untyped-def]
    fields = list(field_list())
    form = RegisterForm(request.GET or None, fields=fields)
    fmt = request.GET.get("format")
    if form.is_bound and form.is_valid() and fmt in ("html", "pdf"):
        d = form.cleaned_data
        field = next(f for f in fields if f.pk == d["field"])
        entries = list(
            dossier_selectors.register_entries(officer=officer, field_id=field.pk, start=d["start"], end=d["end"])
        )
        render_fn = receipts.form7_pdf if fmt == "pdf" else receipts.form7_html
        content = render_fn(agency=officer.agency, field=field, start=d["start"], end=d["end"], dossiers=entries)
        return _document(fmt, content, f"so-theo-doi-{field.code}-{d['start']}-{d['end']}")
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "backoffice/register.html", {"officer": officer, "form": form}, status=status)
