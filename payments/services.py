"""Writes on payments: start one at the gateway, and record what the gateway's signed messages say.

The gateway tells the result three ways (docs/payments.md): the IPN (server to server, retried until answered),
the browser's return, and our own query (querydr). All of them end in ``payment_confirm``, which records a result
once: the payment's row — and every row of its reference — is locked, so the IPN and the return arriving at the same
moment, or a repeated IPN, record it exactly once and run the ``on_paid`` handlers exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from .gateway import GatewayUnavailable, gateway
from .hooks import paid_handlers
from .models import Payment

log = logging.getLogger(__name__)

State = Payment.State

# Answers to the gateway's IPN (its protocol: codes and English messages, not shown to people).
CONFIRMED = ("00", "Confirm Success")
NOT_FOUND = ("01", "Order not found")
ALREADY_CONFIRMED = ("02", "Order already confirmed")
INVALID_AMOUNT = ("04", "Invalid amount")
INVALID_SIGNATURE = ("97", "Invalid signature")
NOT_FINAL = ("99", "Transaction not finished")

SOURCES = ("ipn", "querydr", "return")
# Results only the gateway can give; "expired" is our own conclusion and gives way to a later "paid".
GATEWAY_FINAL = (State.PAID, State.FAILED, State.CANCELLED)


def _local_path(value: str) -> bool:
    return value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None)


def _new_txn_ref() -> str:
    # Our order number at the gateway: never reused (the gateway refuses a repeat), digits as it prefers, and not
    # guessable from another citizen's.
    while True:
        ref = f"{timezone.localtime():%y%m%d}{secrets.randbelow(10**10):010d}"
        if not Payment.objects.filter(txn_ref=ref).exists():
            return ref


@transaction.atomic
def payment_start(
    *,
    reference: str,
    amount: int,
    description: str,
    return_to: str,
    user: AbstractBaseUser | AnonymousUser | None,
    client_ip: str,
) -> tuple[Payment, str]:
    """A new pending payment of ``amount`` đồng for ``reference``, and the gateway address to send the browser to.

    ``return_to`` is the local path the citizen goes back to from the result page."""
    errors: dict[str, str] = {}
    reference = reference.strip()
    if not reference or len(reference) > Payment._meta.get_field("reference").max_length:  # type: ignore[operator]
        errors["reference"] = _("What is paid for must be named in at most 100 characters.")
    if amount <= 0:
        errors["amount"] = _("The amount to pay must be more than 0 đồng.")
    if not description.strip():
        errors["description"] = _("Describe what is paid for.")
    if not _local_path(return_to) or len(return_to) > 500:
        errors["return_to"] = _("The page to return to must be a page of this site.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), detail=errors)
    if Payment.objects.filter(reference=reference, state=State.PAID).exists():
        raise Conflict(_("This has already been paid."), code="already_paid")
    now = timezone.now()
    payment = Payment.objects.create(
        reference=reference,
        amount=amount,
        description=description.strip()[:255],
        user=user if user is not None and user.is_authenticated else None,
        txn_ref=_new_txn_ref(),
        return_to=return_to,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.PAYMENT_EXPIRE_MINUTES),
    )
    return_url = settings.SITE_URL + reverse("portal:payment-return")
    return payment, gateway().pay_url(payment, return_url, client_ip)


@transaction.atomic
def payment_confirm(*, params: Mapping[str, Any], source: str) -> tuple[str, str, Payment | None]:
    """Record what a signed message of the gateway says (``source``: "ipn", "querydr" or "return").

    Returns the gateway's IPN answer code and message, and the payment: 97 invalid signature, 01 unknown
    transaction, 04 amount differs, 02 already recorded, 99 the gateway has no result yet (nothing recorded), 00
    recorded now. Only 00 changes anything."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    adapter = gateway()
    if not adapter.verify(params):
        log.warning("payment %s: invalid signature (txn %s)", source, params.get("vnp_TxnRef"))
        return (*INVALID_SIGNATURE, None)
    outcome = adapter.outcome(params)
    found = Payment.objects.filter(txn_ref=outcome.txn_ref).values_list("pk", "reference").first()
    if found is None:
        log.warning("payment %s: unknown transaction %s", source, outcome.txn_ref)
        return (*NOT_FOUND, None)
    # Lock every payment of the reference, in id order (two confirmations never deadlock): the IPN and the return's
    # query of one payment, a repeated IPN, or two payments of one reference are recorded one after the other.
    pk, reference = found
    locked = list(Payment.objects.select_for_update().filter(reference=reference).order_by("pk"))
    payment = next(p for p in locked if p.pk == pk)
    if outcome.state == State.PENDING:
        return (*NOT_FINAL, payment)
    if outcome.amount != payment.amount:
        log.warning(
            "payment %s: txn %s amount %s, expected %s", source, payment.txn_ref, outcome.amount, payment.amount
        )
        return (*INVALID_AMOUNT, payment)
    if payment.state in GATEWAY_FINAL or (payment.state == State.EXPIRED and outcome.state != State.PAID):
        return (*ALREADY_CONFIRMED, payment)

    now = timezone.now()
    payment.state = outcome.state
    payment.transaction_no = outcome.transaction_no
    payment.bank_code = outcome.bank_code
    payment.paid_at = (outcome.paid_at or now) if outcome.state == State.PAID else None
    payment.confirmed_at = now
    payment.confirmed_by = source
    payment.answers = [*payment.answers, {"source": source, "at": now.isoformat(), "params": dict(params)}]
    payment.save(
        update_fields=[
            "state",
            "transaction_no",
            "bank_code",
            "paid_at",
            "confirmed_at",
            "confirmed_by",
            "answers",
        ]
    )
    if payment.state == State.PAID:
        if any(other.state == State.PAID for other in locked if other.pk != payment.pk):
            # Two attempts paid (two tabs): the money is taken twice, the fee is owed once. The handlers ran for
            # the first; this one needs a refund by the accountant.
            log.error("payment: %s paid again by txn %s: refund it", reference, payment.txn_ref)
        else:
            for handler in paid_handlers(reference):
                handler(payment)
    log.info("payment %s: txn %s %s (%s)", source, payment.txn_ref, payment.state, outcome.code)
    return (*CONFIRMED, payment)


@transaction.atomic
def payment_expire(*, payment: Payment) -> Payment:
    """Mark a pending payment expired (the gateway has no result and its time to pay has passed)."""
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.state == State.PENDING and timezone.now() > locked.expires_at:
        locked.state = State.EXPIRED
        locked.confirmed_at = timezone.now()
        locked.confirmed_by = "expiry"
        locked.save(update_fields=["state", "confirmed_at", "confirmed_by"])
    return locked


def payment_refresh(*, payment: Payment) -> Payment:
    """Ask the gateway (querydr) about a payment it has not told us the result of, and record its signed answer.

    Not atomic itself: the query is an HTTP call, made outside any transaction and lock; the writes are
    ``payment_confirm`` / ``payment_expire``. Raises GatewayUnavailable when the gateway cannot be asked."""
    if payment.state not in (State.PENDING, State.EXPIRED):
        return payment
    adapter = gateway()
    answer = adapter.query(payment)
    if not adapter.verify(answer):
        log.warning("payment querydr: unsigned answer for txn %s: %s", payment.txn_ref, answer.get("vnp_ResponseCode"))
        raise GatewayUnavailable("the query answer is not validly signed")
    outcome = adapter.outcome(answer)
    if outcome.txn_ref != payment.txn_ref:
        raise GatewayUnavailable(f"asked about {payment.txn_ref}, answered about {outcome.txn_ref}")
    if outcome.state != State.PENDING:
        payment_confirm(params=answer, source="querydr")
    elif payment.state == State.PENDING:
        payment_expire(payment=payment)
    return Payment.objects.get(pk=payment.pk)


def payment_return(*, params: Mapping[str, Any]) -> Payment:
    """The payment the citizen's browser comes back from the gateway with, its result recorded when the IPN has not
    done it yet.

    The return's fields are verified, never trusted unsigned. The result is then taken from the gateway itself
    (querydr), as the gateway's rules ask; only when the gateway cannot be asked is the signed return recorded (it is
    signed with the same secret as the IPN). Raises PermissionDenied (bad signature) or NotFound."""
    adapter = gateway()
    if not adapter.verify(params):
        log.warning("payment return: invalid signature (txn %s)", params.get("vnp_TxnRef"))
        raise PermissionDenied(_("The answer of the payment gateway is not validly signed."), code="invalid_signature")
    payment = Payment.objects.filter(txn_ref=adapter.outcome(params).txn_ref).first()
    if payment is None:
        raise NotFound(_("No payment has this transaction number."))
    if payment.state not in (State.PENDING, State.EXPIRED):
        return payment
    try:
        return payment_refresh(payment=payment)
    except GatewayUnavailable as exc:
        log.warning("payment return: txn %s, gateway not asked (%s); recording the signed return", payment.txn_ref, exc)
        payment_confirm(params=params, source="return")
        return Payment.objects.get(pk=payment.pk)
