"""The VNPAY 2.1.0 protocol's fixed parts, shared by the adapter (payments/gateway.py) and the gateway simulator
(payments/gateway_simulator.py, a process without Django): paths, date format, which fields are signed, and the
HMAC-SHA512 signature. Standard library only."""

import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping
from typing import Any

VERSION = "2.1.0"
DATE_FORMAT = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss, Vietnam time (GMT+7)
PAY_PATH = "/paymentv2/vpcpay.html"
API_PATH = "/merchant_webapi/api/transaction"
HASH_FIELDS_EXCLUDED = ("vnp_SecureHash", "vnp_SecureHashType")

# querydr: the fields each side signs, in this order, joined by "|".
QUERY_REQUEST_FIELDS = (
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
)
QUERY_ANSWER_FIELDS = (
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
)


def hash_data(params: Mapping[str, Any]) -> str:
    """The string a pay request, a return or an IPN is signed over: the vnp_ fields but the hash, sorted,
    URL-encoded, empty values left out."""
    return "&".join(
        f"{urllib.parse.quote_plus(key)}={urllib.parse.quote_plus(str(value))}"
        for key, value in sorted(params.items())
        if key.startswith("vnp_") and key not in HASH_FIELDS_EXCLUDED and value not in (None, "")
    )


def sign(secret: str, data: str) -> str:
    return hmac.new(secret.encode(), data.encode("utf-8"), hashlib.sha512).hexdigest()
