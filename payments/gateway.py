"""The payment gateway behind one interface, and its VNPAY-style adapter (merchant API v2.1.0).

Everything that knows the gateway's field names, hash rules and codes is in this module (docs/payments.md): another
gateway (the national Payment Platform, another bank's gateway) is a new class with the ``Gateway`` interface, named
in the ``PAYMENT_GATEWAY_ADAPTER`` setting, and nothing else changes.

Wire format of ``VnpayGateway``:

- pay: the browser goes to ``{PAYMENT_GATEWAY_URL}/paymentv2/vpcpay.html?<fields>&vnp_SecureHash=<hash>`` where
  hash = HMAC-SHA512(secret, the ``vnp_*`` fields but the hash, sorted by name, ``name=value`` joined by ``&``,
  each value URL-encoded as form data — space as ``+`` —, empty values left out);
- return and IPN: the gateway sends the same kind of signed fields back, to the browser (``vnp_ReturnUrl``) and,
  server to server, to the IPN address registered with the gateway;
- querydr: ``POST {api}/merchant_webapi/api/transaction`` with JSON fields; request and answer are signed over their
  fields joined by ``|`` in a fixed order (``QUERY_REQUEST_FIELDS``, ``QUERY_ANSWER_FIELDS``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from .models import Payment
from .vnpay import API_PATH, DATE_FORMAT, PAY_PATH, QUERY_ANSWER_FIELDS, QUERY_REQUEST_FIELDS, VERSION, hash_data, sign

ORDER_TYPE = "other"

# vnp_ResponseCode of a payment (return, IPN): 00 success, 24 cancelled by the customer, 11 waited too long;
# anything else is a failure (51 insufficient funds, 79 wrong password too often, ...).
PAID, CANCELLED, TIMED_OUT = "00", "24", "11"
# vnp_TransactionStatus: 00 success, 01 not finished yet; the rest are failures.
STATUS_PAID, STATUS_UNFINISHED = "00", "01"


class GatewayUnavailable(Exception):
    """The gateway did not answer, or answered something that is not its protocol."""


@dataclass(frozen=True)
class Outcome:
    """What one signed message of the gateway says about one transaction."""

    txn_ref: str
    amount: int | None  # đồng; None when the message carries no valid amount
    state: str  # a Payment.State; PENDING when the gateway has no final result
    transaction_no: str = ""
    bank_code: str = ""
    paid_at: dt.datetime | None = None
    code: str = ""  # the gateway's own response code, for logs and pages


class Gateway(Protocol):
    """What payments need of a payment gateway, whatever its wire format."""

    def pay_url(self, payment: Payment, return_url: str, client_ip: str) -> str:
        """The address the citizen's browser goes to, to pay ``payment``."""

    def verify(self, params: Mapping[str, Any]) -> bool:
        """Whether a message (return, IPN or query answer) carries the gateway's valid signature."""

    def outcome(self, params: Mapping[str, Any]) -> Outcome:
        """What a verified message says about its transaction."""

    def query(self, payment: Payment) -> dict[str, Any]:
        """Ask the gateway for the transaction's state; the signed answer. Raises GatewayUnavailable."""


def plain_text(text: str, limit: int = 255) -> str:
    """Vietnamese without diacritics or special characters, as the gateway wants order descriptions."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9 ,.:\-]", " ", text)
    return " ".join(text.split())[:limit]


def vietnam_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime(DATE_FORMAT)


def parse_vietnam_time(value: str) -> dt.datetime | None:
    try:
        return timezone.make_aware(dt.datetime.strptime(value, DATE_FORMAT))
    except (TypeError, ValueError):
        return None


def _is_query_answer(params: Mapping[str, Any]) -> bool:
    return params.get("vnp_Command") == "querydr" and "vnp_ResponseId" in params


class VnpayGateway:
    """VNPAY's merchant API, version 2.1.0 (also what ``payments.gateway_simulator`` speaks). The paths are the
    sandbox's; a gateway with other paths is a subclass that changes them."""

    pay_path = PAY_PATH
    api_path = API_PATH

    def __init__(self, *, base_url: str, tmn_code: str, secret: str, api_url: str = "", timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_url = (api_url or base_url).rstrip("/")
        self.tmn_code = tmn_code
        self.secret = secret
        self.timeout = timeout

    def _sign(self, data: str) -> str:
        if not self.secret:
            raise ImproperlyConfigured("PAYMENT_HASH_SECRET is not set: the payment gateway cannot be used.")
        return sign(self.secret, data)

    def pay_fields(self, payment: Payment, return_url: str, client_ip: str) -> dict[str, str]:
        return {
            "vnp_Version": VERSION,
            "vnp_Command": "pay",
            "vnp_TmnCode": self.tmn_code,
            "vnp_Amount": str(payment.amount * 100),  # the gateway counts in hundredths of a đồng
            "vnp_CurrCode": "VND",
            "vnp_TxnRef": payment.txn_ref,
            "vnp_OrderInfo": plain_text(payment.description) or payment.txn_ref,
            "vnp_OrderType": ORDER_TYPE,
            "vnp_Locale": "en" if (translation.get_language() or "vi").startswith("en") else "vn",
            "vnp_ReturnUrl": return_url,
            "vnp_IpAddr": client_ip,
            "vnp_CreateDate": vietnam_time(payment.created_at),
            "vnp_ExpireDate": vietnam_time(payment.expires_at),
        }

    def pay_url(self, payment: Payment, return_url: str, client_ip: str) -> str:
        data = hash_data(self.pay_fields(payment, return_url, client_ip))
        return f"{self.base_url}{self.pay_path}?{data}&vnp_SecureHash={self._sign(data)}"

    def verify(self, params: Mapping[str, Any]) -> bool:
        given = str(params.get("vnp_SecureHash") or "").lower()
        if not self.secret or not given or params.get("vnp_TmnCode") != self.tmn_code:
            return False
        if _is_query_answer(params):
            data = "|".join(str(params.get(name) or "") for name in QUERY_ANSWER_FIELDS)
        else:
            data = hash_data(params)
        return hmac.compare_digest(sign(self.secret, data), given)

    def outcome(self, params: Mapping[str, Any]) -> Outcome:
        raw_amount = str(params.get("vnp_Amount") or "")
        amount = int(raw_amount) // 100 if raw_amount.isdigit() and int(raw_amount) % 100 == 0 else None
        code = str(params.get("vnp_ResponseCode") or "")
        status = str(params.get("vnp_TransactionStatus") or "")
        if _is_query_answer(params):
            # The answer's response code is the query's; the transaction's result is its status.
            if code != "00" or status == STATUS_UNFINISHED:
                state = Payment.State.PENDING
            else:
                state = Payment.State.PAID if status == STATUS_PAID else Payment.State.FAILED
            code = status or code
        elif code == PAID and status == STATUS_PAID:
            state = Payment.State.PAID
        elif code == CANCELLED:
            state = Payment.State.CANCELLED
        elif code == TIMED_OUT:
            state = Payment.State.EXPIRED
        else:
            state = Payment.State.FAILED
        transaction_no = str(params.get("vnp_TransactionNo") or "")
        return Outcome(
            txn_ref=str(params.get("vnp_TxnRef") or ""),
            amount=amount,
            state=state,
            transaction_no="" if transaction_no == "0" else transaction_no,
            bank_code=str(params.get("vnp_BankCode") or ""),
            paid_at=parse_vietnam_time(str(params.get("vnp_PayDate") or "")) if state == Payment.State.PAID else None,
            code=code,
        )

    def query_fields(self, payment: Payment, server_ip: str = "127.0.0.1") -> dict[str, str]:
        fields = {
            "vnp_RequestId": secrets.token_hex(16),  # unique per request and day
            "vnp_Version": VERSION,
            "vnp_Command": "querydr",
            "vnp_TmnCode": self.tmn_code,
            "vnp_TxnRef": payment.txn_ref,
            "vnp_TransactionDate": vietnam_time(payment.created_at),
            "vnp_CreateDate": vietnam_time(timezone.now()),
            "vnp_IpAddr": server_ip,
            "vnp_OrderInfo": f"Truy van giao dich {payment.txn_ref}",
        }
        fields["vnp_SecureHash"] = self._sign("|".join(fields[name] for name in QUERY_REQUEST_FIELDS))
        return fields

    def query(self, payment: Payment) -> dict[str, Any]:
        try:
            response = httpx.post(
                f"{self.api_url}{self.api_path}", json=self.query_fields(payment), timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise GatewayUnavailable(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise GatewayUnavailable(f"not JSON: {response.text[:200]}") from exc
        if not isinstance(answer, dict):
            raise GatewayUnavailable(f"not an object: {response.text[:200]}")
        return {key: "" if value is None else str(value) for key, value in answer.items()}


def gateway() -> Gateway:
    """The configured adapter, built from the settings at each call (cheap: it holds no connection)."""
    adapter = import_string(settings.PAYMENT_GATEWAY_ADAPTER)
    return adapter(  # type: ignore[no-any-return]
        base_url=settings.PAYMENT_GATEWAY_URL,
        api_url=settings.PAYMENT_GATEWAY_API_URL,
        tmn_code=settings.PAYMENT_TMN_CODE,
        secret=settings.PAYMENT_HASH_SECRET,
        timeout=settings.PAYMENT_GATEWAY_TIMEOUT,
    )
