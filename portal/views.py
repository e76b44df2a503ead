from django.conf import settings
from django.core.cache import cache
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.qr import qr_svg, qr_svg_document
from core.ratelimit import client_address
from dossiers.models import CODE_PATTERN
from dossiers.selectors import dossier_public_view, public_page_cache_key
from dossiers.services import lookup_budget_spend
from organizations.selectors import agency_list
from procedures.models import Procedure
from procedures.selectors import field_list, procedure_get, procedure_search

from .fastpath import COUNTED, cacheable
from .forms import CatalogueFilterForm

PAGE_SIZE = 20


def home(request):  # type: ignore[no-untyped-def]
    fields = field_list().annotate(
        procedure_count=Count("procedures", filter=Q(procedures__status=Procedure.Status.PUBLISHED))
    )
    totals = Procedure.objects.published().aggregate(
        total=Count("id"),
        online=Count("id", filter=~Q(online_level=Procedure.OnlineLevel.NONE)),
        full=Count("id", filter=Q(online_level=Procedure.OnlineLevel.FULL)),
    )
    return render(request, "portal/home.html", {"fields": fields, "totals": totals})


def _agency_choices():  # type: ignore[no-untyped-def]
    # Provincial agencies first, then communes; all in one query for the filter's <select>.
    return (
        agency_list(on=timezone.localdate())
        .select_related(None)
        .only("identifier", "name", "level")
        .order_by("-level", "name")
    )


def catalogue(request):  # type: ignore[no-untyped-def]
    form = CatalogueFilterForm(request.GET or None, agencies=_agency_choices(), fields=field_list())
    if form.is_bound and not form.is_valid():
        return render(request, "portal/catalogue.html", {"form": form, "page": None}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    procedures = procedure_search(
        q=data.get("q") or "",
        agency=data["agency"].identifier if data.get("agency") else None,
        field=data["field"].code if data.get("field") else None,
        level=data.get("level") or None,
        online_level=data.get("online_level") or None,
    )
    paginator = Paginator(procedures, PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except PageNotAnInteger as exc:
        raise Http404(_("The page number must be a whole number.")) from exc
    except EmptyPage as exc:
        raise Http404(_("There is no page %(page)s in these results.") % {"page": request.GET.get("page")}) from exc
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "portal/catalogue.html", {"form": form, "page": page, "query": query.urlencode()})


def procedure_detail(request, code: str):  # type: ignore[no-untyped-def]
    try:
        procedure = procedure_get(code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    url = request.build_absolute_uri(reverse("portal:procedure", args=[procedure.code]))
    competences = list(procedure.competences.all())
    return render(
        request,
        "portal/procedure.html",
        {
            "procedure": procedure,
            "qr": qr_svg(url),
            "page_url": url,
            "competences": competences,
            "commune_wide": len(competences) > 10,
        },
    )


def component_template(request, code: str, order: int):  # type: ignore[no-untyped-def]
    try:
        procedure = procedure_get(code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    component = next((c for c in procedure.components.all() if c.order == order and c.template), None)
    if component is None:
        raise Http404(_("This component has no form template."))
    return FileResponse(
        component.template.open("rb"), as_attachment=True, filename=component.template.name.rsplit("/", 1)[-1]
    )


def _throttled(request) -> HttpResponse | None:  # type: ignore[no-untyped-def]
    if COUNTED in request.META:  # portal.fastpath already counted this request
        wait = request.META.get("angiang.lookup_wait")
    else:
        wait = lookup_budget_spend(client=client_address(request))
    if wait is None:
        return None
    response = render(request, "portal/throttled.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def lookup(request):  # type: ignore[no-untyped-def]
    code = (request.GET.get("code") or "").strip().upper()
    if code:
        return redirect("portal:lookup-code", code=code)
    return render(request, "portal/lookup.html", {})


def lookup_code(request, code: str):  # type: ignore[no-untyped-def]
    if (limited := _throttled(request)) is not None:
        return limited
    try:
        view = dossier_public_view(code=code)
    except NotFound as exc:
        return render(request, "portal/lookup.html", {"code": code, "error": exc.message}, status=404)
    # The QR code is a separate, long-cached image: the page stays one query and a template.
    response = render(request, "portal/lookup_result.html", {"view": view})
    if cacheable(request.COOKIES):
        key = public_page_cache_key(code=view.code, language=request.LANGUAGE_CODE)
        cache.set(key, response.content, timeout=settings.LOOKUP_PAGE_CACHE_SECONDS)
    return response


def lookup_qr(request, code: str):  # type: ignore[no-untyped-def]
    """The QR code of a lookup address as SVG (for the API and printed material)."""
    if not CODE_PATTERN.match(code):
        raise Http404(_("“%(code)s” is not a dossier code.") % {"code": code[:60]})
    url = request.build_absolute_uri(reverse("portal:lookup-code", args=[code]))
    response = HttpResponse(qr_svg_document(url), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=31536000, immutable"  # a code's address never changes
    return response


def language(request, code: str):  # type: ignore[no-untyped-def]
    """Switch the language with a plain link (no form, so that public pages carry nothing per visitor)."""
    if code not in dict(settings.LANGUAGES):
        raise Http404(_("Unknown language."))
    target = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure()
    )
    return response
