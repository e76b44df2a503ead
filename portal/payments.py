"""Fees paid online through the payment gateway: the page the citizen's browser comes back to, and the gateway's
server-to-server notification (IPN). Thin: the rules are in payments/services.py; starting a payment is the
caller's page (``payments.services.payment_start`` gives the address to redirect to)."""

import logging

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from core.errors import NotFound, PermissionDenied
from payments.services import payment_confirm, payment_return

log = logging.getLogger(__name__)


@never_cache
@require_GET
def payment_return_page(request):  # type: ignore[no-untyped-def]
    try:
        payment = payment_return(params=request.GET.dict())
    except PermissionDenied:
        return render(request, "portal/payments/result.html", {"state": "invalid"}, status=400)
    except NotFound:
        return render(request, "portal/payments/result.html", {"state": "not_found"}, status=404)
    back = payment.return_to if url_has_allowed_host_and_scheme(payment.return_to, allowed_hosts=None) else None
    return render(
        request,
        "portal/payments/result.html",
        {"state": payment.state, "payment": payment, "back": back, "again": request.get_full_path()},
    )


@csrf_exempt  # the gateway calls it, server to server; the signature is the proof
@never_cache
@require_GET
def payment_ipn(request):  # type: ignore[no-untyped-def]
    try:
        code, message, _payment = payment_confirm(params=request.GET.dict(), source="ipn")
    except Exception:  # the gateway needs an answer whatever failed; "99" makes it send the IPN again
        log.exception("payment IPN failed")
        code, message = "99", "Unknown error"
    return JsonResponse({"RspCode": code, "Message": message})


urlpatterns = [
    path("thanh-toan/ket-qua/", payment_return_page, name="payment-return"),
    path("thanh-toan/ipn/", payment_ipn, name="payment-ipn"),
]
