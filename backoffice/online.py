"""The counter's side of online submission: accept or refuse a dossier submitted online (status 1), and read the
documents the citizen uploaded. Thin views over dossiers/online.py."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from dossiers import online
from dossiers import selectors as dossier_selectors

from .views import officer_required
from .work import _int, dossier_page


def _get_dossier(officer, code: str):  # type: ignore[no-untyped-def]
    try:
        return dossier_selectors.access_dossier_for_officer(officer=officer, code=code)
    except NotFound as error:
        raise Http404(error.message) from None


@officer_required
@require_POST
def accept(request, officer, code: str):  # type: ignore[no-untyped-def]
    try:
        online.dossier_accept_online(officer=officer, code=code, task_id=_int(request.POST.get("task")))
    except NotFound as error:
        raise Http404(error.message) from None
    except (Conflict, PermissionDenied) as error:
        messages.error(request, error.message)
        return dossier_page(
            request, officer, _get_dossier(officer, code), status=409 if isinstance(error, Conflict) else 403
        )
    messages.success(request, _("The dossier was accepted: the receipt was issued and the applicant informed."))
    return redirect("backoffice:dossier", code=code)


@officer_required
@require_POST
def refuse(request, officer, code: str):  # type: ignore[no-untyped-def]
    try:
        online.dossier_refuse_online(
            officer=officer, code=code, task_id=_int(request.POST.get("task")), reasons=request.POST.get("reasons", "")
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except ValidationFailed as error:
        dossier = _get_dossier(officer, code)
        return dossier_page(request, officer, dossier, errors=error.detail, failed_action="refuse_online", status=400)
    except (Conflict, PermissionDenied) as error:
        messages.error(request, error.message)
        return dossier_page(
            request, officer, _get_dossier(officer, code), status=409 if isinstance(error, Conflict) else 403
        )
    messages.success(request, _("The dossier was refused; the applicant was informed of the reasons."))
    return redirect("backoffice:dossier", code=code)


@officer_required
def document(request, officer, code: str, pk: int):  # type: ignore[no-untyped-def]
    dossier = _get_dossier(officer, code)
    item = dossier.documents.exclude(file="").filter(pk=pk).first()
    if item is None:
        raise Http404(_("No such file."))
    return FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.file_name)


urlpatterns = [
    path("ho-so/<str:code>/tiep-nhan-truc-tuyen/", accept, name="online-accept"),
    path("ho-so/<str:code>/tu-choi-truc-tuyen/", refuse, name="online-refuse"),
    path("ho-so/<str:code>/giay-to/<int:pk>/", document, name="document"),
]
