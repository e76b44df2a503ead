"""A local stand-in for a VNPAY-style payment gateway (merchant API 2.1.0), run as its own process:

    python -m payments.gateway_simulator --port 8792 --ipn-url http://127.0.0.1:8000/thanh-toan/ipn/ \\
        --tmn-code AGDVC001 --secret dev-payment-secret

It speaks the protocol ``payments.gateway.VnpayGateway`` speaks (docs/payments.md), written again here from the
protocol rather than imported, so that each side checks the other:

- ``GET /paymentv2/vpcpay.html?<signed fields>``: checks the merchant code, the signature and the expiry (an error
  page otherwise) and shows the payment page (merchant, amount in đồng, order description; test cards; "Thanh toán"
  and "Hủy giao dịch");
- ``POST /paymentv2/pay`` (the page's form): completes the transaction, calls the merchant's IPN address server to
  server with the signed result (retried with backoff until it answers RspCode 00 or 02), then redirects the browser
  to ``vnp_ReturnUrl`` with the same signed result;
- ``POST /merchant_webapi/api/transaction`` (querydr): the transaction's state, signed.

Test control (not part of the gateway's protocol), all JSON:
    POST /_sim/mode    {"ipn": "normal" | "drop" | "delay" | "duplicate", "delay": seconds,
                        "querydr": "normal" | "refuse" | "tamper"}
        normal: the first IPN before the redirect, retries in the background; drop: no IPN at all; delay: the IPN
        ``delay`` seconds after the redirect; duplicate: the IPN twice before the redirect. querydr refuse: HTTP 503;
        tamper: answers with a wrong signature.
    POST /_sim/config  {"ipn_url": str, "tmn_code": str, "secret": str, "retries": int, "backoff": seconds}
    POST /_sim/reset   forget every transaction; normal modes
    GET  /_sim/transactions  every transaction with its IPN attempts; /_sim/transactions/<vnp_TxnRef> one
Only the standard library: it starts in a fraction of a second and needs no database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hmac
import html
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from payments.vnpay import API_PATH, DATE_FORMAT, PAY_PATH, QUERY_ANSWER_FIELDS, QUERY_REQUEST_FIELDS, hash_data
from payments.vnpay import sign as hmac512

VIETNAM = dt.timezone(dt.timedelta(hours=7))
SUBMIT_PATH = "/paymentv2/pay"
REQUIRED = (
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_Amount",
    "vnp_CurrCode",
    "vnp_TxnRef",
    "vnp_OrderInfo",
    "vnp_ReturnUrl",
    "vnp_IpAddr",
    "vnp_CreateDate",
    "vnp_ExpireDate",
)
# Test cards, as a sandbox offers them: (bank, number, holder, the payment's response code).
CARDS = {
    "ncb-ok": ("NCB", "9704 1985 2619 1432 198", "NGUYEN VAN A", "00"),
    "ncb-no-funds": ("NCB", "9704 1957 9845 9170 488", "NGUYEN VAN A", "51"),
}
IPN_MODES = ("normal", "drop", "delay", "duplicate")
QUERY_MODES = ("normal", "refuse", "tamper")


def now_vietnam() -> dt.datetime:
    return dt.datetime.now(VIETNAM).replace(microsecond=0)


def parse_date(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, DATE_FORMAT).replace(tzinfo=VIETNAM)
    except ValueError:
        return None


def dong(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đ"


class PayError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Gateway:
    """The simulated gateway's state; one lock keeps every change atomic."""

    def __init__(
        self, *, tmn_code: str, secret: str, ipn_url: str, merchant: str, retries: int = 5, backoff: float = 0.5
    ) -> None:
        self.lock = threading.Lock()
        self.tmn_code = tmn_code
        self.secret = secret
        self.ipn_url = ipn_url
        self.merchant = merchant
        self.retries = retries
        self.backoff = backoff
        self.numbers = itertools.count(14_000_001)
        self.reset()

    def reset(self) -> None:
        self.transactions: dict[str, dict[str, Any]] = {}
        self.request_ids: set[str] = set()
        self.ipn_mode = "normal"
        self.ipn_delay = 2.0
        self.query_mode = "normal"

    # -- pay -----------------------------------------------------------------------------------------------------

    def check(self, query: str) -> dict[str, str]:
        """The merchant's signed pay request, or PayError."""
        fields = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        missing = [name for name in REQUIRED if not fields.get(name)]
        if missing:
            raise PayError("03", "Dữ liệu gửi sang không đúng định dạng: thiếu " + ", ".join(missing))
        if fields["vnp_TmnCode"] != self.tmn_code:
            raise PayError("02", "Mã website (vnp_TmnCode) không tồn tại")
        given = fields.get("vnp_SecureHash", "").lower()
        if not hmac.compare_digest(hmac512(self.secret, hash_data(fields)), given):
            raise PayError("97", "Sai chữ ký (checksum) của yêu cầu thanh toán")
        if fields["vnp_Version"] != "2.1.0" or fields["vnp_Command"] != "pay" or fields["vnp_CurrCode"] != "VND":
            raise PayError("03", "Phiên bản, lệnh hoặc loại tiền không được hỗ trợ")
        amount = fields["vnp_Amount"]
        if not amount.isdigit() or int(amount) <= 0 or int(amount) % 100:
            raise PayError("04", "Số tiền thanh toán không hợp lệ")
        expires = parse_date(fields["vnp_ExpireDate"])
        if expires is None or parse_date(fields["vnp_CreateDate"]) is None:
            raise PayError("03", "Thời gian tạo hoặc hết hạn không đúng định dạng yyyyMMddHHmmss")
        if now_vietnam() > expires:
            raise PayError("11", "Giao dịch đã quá thời gian chờ thanh toán")
        with self.lock:
            found = self.transactions.get(fields["vnp_TxnRef"])
            if found and found["status"] != "opened":
                raise PayError("12", "Giao dịch đã được xử lý, không thể thanh toán lại")
            if found is None:
                self.transactions[fields["vnp_TxnRef"]] = {
                    "txn_ref": fields["vnp_TxnRef"],
                    "amount": int(amount),
                    "order_info": fields["vnp_OrderInfo"],
                    "return_url": fields["vnp_ReturnUrl"],
                    "create_date": fields["vnp_CreateDate"],
                    "status": "opened",
                    "result": None,
                    "ipn": [],
                }
        return fields

    def complete(self, fields: dict[str, str], action: str, card: str) -> dict[str, str]:
        """Finish the transaction: the signed result the IPN and the return carry."""
        with self.lock:
            tx = self.transactions[fields["vnp_TxnRef"]]
            if tx["status"] != "opened":
                raise PayError("12", "Giao dịch đã được xử lý, không thể thanh toán lại")
            if action == "cancel":
                code, bank, number = "24", "VNPAY", "0"
            else:
                bank, _number, _holder, code = CARDS.get(card, CARDS["ncb-ok"])
                number = str(next(self.numbers))
            result = {
                "vnp_Amount": fields["vnp_Amount"],
                "vnp_BankCode": bank,
                "vnp_BankTranNo": f"VNP{number}" if code == "00" else "",
                "vnp_CardType": "ATM" if action != "cancel" else "",
                "vnp_OrderInfo": fields["vnp_OrderInfo"],
                "vnp_PayDate": now_vietnam().strftime(DATE_FORMAT),
                "vnp_ResponseCode": code,
                "vnp_TmnCode": self.tmn_code,
                "vnp_TransactionNo": number,
                "vnp_TransactionStatus": "00" if code == "00" else "02",
                "vnp_TxnRef": fields["vnp_TxnRef"],
            }
            result = {k: v for k, v in result.items() if v != ""}
            result["vnp_SecureHash"] = hmac512(self.secret, hash_data(result))
            tx["status"] = "paid" if code == "00" else ("cancelled" if code == "24" else "failed")
            tx["result"] = result
            tx["ipn_mode"] = self.ipn_mode
        return result

    # -- IPN -----------------------------------------------------------------------------------------------------

    def ipn_once(self, tx: dict[str, Any], query: str) -> bool:
        """One IPN call; True when the merchant acknowledged it (RspCode 00 or 02)."""
        url = self.ipn_url + ("&" if "?" in self.ipn_url else "?") + query
        entry: dict[str, Any] = {"at": time.time()}
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the configured merchant URL
                entry["status"] = response.status
                entry["answer"] = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            entry["status"] = exc.code
            entry["answer"] = None
        except (OSError, ValueError) as exc:
            entry["status"] = None
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["answer"] = None
        with self.lock:
            tx["ipn"].append(entry)
        answer = entry.get("answer")
        return isinstance(answer, dict) and answer.get("RspCode") in ("00", "02")

    def ipn_retry(self, tx: dict[str, Any], query: str, done: int, wait: float = 0.0) -> None:
        if wait:
            time.sleep(wait)
        for attempt in range(done, self.retries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            if self.ipn_once(tx, query):
                return

    def notify(self, tx: dict[str, Any], query: str) -> None:
        mode = tx.get("ipn_mode", "normal")
        if mode == "drop":
            return
        if mode == "delay":
            threading.Thread(target=self.ipn_retry, args=(tx, query, 0, self.ipn_delay), daemon=True).start()
            return
        sent = 1
        acknowledged = self.ipn_once(tx, query)
        if mode == "duplicate":
            acknowledged = self.ipn_once(tx, query) or acknowledged
            sent = 2
        if not acknowledged:
            threading.Thread(target=self.ipn_retry, args=(tx, query, sent), daemon=True).start()

    # -- querydr -------------------------------------------------------------------------------------------------

    def query(self, body: dict[str, Any]) -> dict[str, str]:
        fields = {name: str(body.get(name) or "") for name in (*QUERY_REQUEST_FIELDS, "vnp_SecureHash")}
        answer = dict.fromkeys(QUERY_ANSWER_FIELDS, "")
        answer.update(
            vnp_ResponseId=uuid.uuid4().hex,
            vnp_Command="querydr",
            vnp_TmnCode=self.tmn_code,
            vnp_TxnRef=fields["vnp_TxnRef"],
        )
        data = "|".join(fields[name] for name in QUERY_REQUEST_FIELDS)
        with self.lock:
            tx = self.transactions.get(fields["vnp_TxnRef"])
            duplicate = fields["vnp_RequestId"] in self.request_ids
            self.request_ids.add(fields["vnp_RequestId"])
            if fields["vnp_Command"] != "querydr":
                answer.update(vnp_ResponseCode="99", vnp_Message="Lenh khong duoc ho tro")
            elif fields["vnp_TmnCode"] != self.tmn_code:
                answer.update(vnp_ResponseCode="02", vnp_Message="Merchant khong hop le")
            elif not hmac.compare_digest(hmac512(self.secret, data), fields["vnp_SecureHash"].lower()):
                answer.update(vnp_ResponseCode="97", vnp_Message="Checksum khong hop le")
            elif duplicate or not fields["vnp_RequestId"]:
                answer.update(vnp_ResponseCode="94", vnp_Message="Yeu cau bi trung lap")
            elif tx is None or tx["create_date"] != fields["vnp_TransactionDate"]:
                answer.update(vnp_ResponseCode="91", vnp_Message="Khong tim thay giao dich yeu cau")
            else:
                result = tx["result"] or {}
                answer.update(
                    vnp_ResponseCode="00",
                    vnp_Message="QueryDR Success",
                    vnp_Amount=str(tx["amount"]),
                    vnp_OrderInfo=tx["order_info"],
                    vnp_TransactionType="01",
                    vnp_BankCode=result.get("vnp_BankCode", ""),
                    vnp_PayDate=result.get("vnp_PayDate", ""),
                    vnp_TransactionNo=result.get("vnp_TransactionNo", ""),
                    vnp_TransactionStatus=result.get("vnp_TransactionStatus", "01"),
                )
            mode = self.query_mode
        answer["vnp_SecureHash"] = hmac512(self.secret, "|".join(answer[name] for name in QUERY_ANSWER_FIELDS))
        if mode == "tamper":
            answer["vnp_SecureHash"] = "0" * 128
        return answer

    def snapshot(self, txn_ref: str | None = None) -> Any:
        with self.lock:
            if txn_ref is not None:
                found = self.transactions.get(txn_ref)
                return json.loads(json.dumps(found)) if found else None
            return json.loads(json.dumps(list(self.transactions.values())))


PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Cổng thanh toán (mô phỏng)</title>
<style>
body {{ font-family: Arial, sans-serif; margin: 0; background: #eef2f7; color: #1d2430; }}
header {{ background: #005baa; color: #fff; padding: .8rem 1rem; }}
main {{ max-width: 32rem; margin: 1rem auto; background: #fff; border-radius: 8px; padding: 1rem 1.25rem; }}
dl {{ display: grid; grid-template-columns: 9rem 1fr; gap: .3rem .8rem; }}
dt {{ font-weight: bold; }} dd {{ margin: 0; }}
.amount {{ font-size: 1.4rem; font-weight: bold; color: #c8102e; }}
fieldset {{ border: 1px solid #c9d1dc; border-radius: 6px; margin: 1rem 0; }}
label {{ display: block; margin: .4rem 0; }}
button {{ font-size: 1rem; padding: .65rem 1.2rem; border: 0; border-radius: 6px; margin: .3rem .3rem 0 0; }}
.pay {{ background: #005baa; color: #fff; }} .cancel {{ background: #e4e7ec; color: #1d2430; }}
.error {{ color: #b00020; font-weight: bold; }} small {{ color: #5b6472; }}
</style></head>
<body><header><strong>Cổng thanh toán</strong>
<small style="color:#dfe9f5">— bản mô phỏng để thử nghiệm</small></header>
<main>{body}</main></body></html>"""


def pay_page(gateway: Gateway, fields: dict[str, str], query: str) -> str:
    e = html.escape
    cards = "".join(
        f'<label><input type="radio" name="card" value="{key}"{" checked" if i == 0 else ""}> '
        f"{e(bank)} · {e(number)} · {e(holder)} <small>({'thành công' if code == '00' else 'không đủ số dư'})</small>"
        f"</label>"
        for i, (key, (bank, number, holder, code)) in enumerate(CARDS.items())
    )
    expires = parse_date(fields["vnp_ExpireDate"])
    body = f"""<h1>Thanh toán trực tuyến</h1>
<dl>
<dt>Đơn vị nhận</dt><dd>{e(gateway.merchant)} <small>({e(fields["vnp_TmnCode"])})</small></dd>
<dt>Số tiền</dt><dd class="amount">{e(dong(int(fields["vnp_Amount"]) // 100))}</dd>
<dt>Nội dung</dt><dd>{e(fields["vnp_OrderInfo"])}</dd>
<dt>Mã giao dịch</dt><dd>{e(fields["vnp_TxnRef"])}</dd>
<dt>Hết hạn lúc</dt><dd>{e(expires.strftime("%H:%M:%S %d/%m/%Y") if expires else "")}</dd>
</dl>
<form method="post" action="{SUBMIT_PATH}">
<input type="hidden" name="q" value="{e(query)}">
<fieldset><legend>Chọn thẻ thử nghiệm</legend>{cards}</fieldset>
<button class="pay" type="submit" name="action" value="pay">Thanh toán</button>
<button class="cancel" type="submit" name="action" value="cancel">Hủy giao dịch</button>
</form>"""
    return PAGE.format(title="Thanh toán", body=body)


def error_page(error: PayError) -> str:
    body = (
        f'<h1>Không thể thực hiện giao dịch</h1><p class="error" role="alert">{html.escape(error.message)}</p>'
        f"<p><small>Mã lỗi: {html.escape(error.code)}</small></p>"
    )
    return PAGE.format(title="Lỗi giao dịch", body=body)


def handler_for(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, body: Any) -> None:
            self._send(status, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")

        def _html(self, status: int, page: str) -> None:
            self._send(status, page.encode(), "text/html; charset=utf-8")

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == PAY_PATH:
                try:
                    fields = gateway.check(query)
                except PayError as error:
                    return self._html(400, error_page(error))
                return self._html(200, pay_page(gateway, fields, query))
            if path == "/_sim/transactions":
                return self._json(200, gateway.snapshot())
            if path.startswith("/_sim/transactions/"):
                found = gateway.snapshot(urllib.parse.unquote(path.removeprefix("/_sim/transactions/")))
                return self._json(200 if found else 404, found or {"error": "not found"})
            if path == "/":
                return self._json(200, {"service": "payment gateway simulator", "tmn_code": gateway.tmn_code})
            return self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            path = self.path.partition("?")[0]
            raw = self._body()
            if path == SUBMIT_PATH:
                form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
                try:
                    fields = gateway.check(form.get("q", ""))
                    result = gateway.complete(fields, form.get("action", "pay"), form.get("card", ""))
                except PayError as error:
                    return self._html(400, error_page(error))
                query = urllib.parse.urlencode(result)
                gateway.notify(gateway.transactions[fields["vnp_TxnRef"]], query)
                back = fields["vnp_ReturnUrl"]
                location = back + ("&" if "?" in back else "?") + query
                return self._send(302, b"", "text/plain", {"Location": location})
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._json(400, {"error": "not JSON"})
            if not isinstance(body, dict):
                return self._json(400, {"error": "not a JSON object"})
            if path == API_PATH:
                if gateway.query_mode == "refuse":
                    return self._json(503, {"error": "busy"})
                return self._json(200, gateway.query(body))
            if path == "/_sim/mode":
                with gateway.lock:
                    if body.get("ipn") in IPN_MODES:
                        gateway.ipn_mode = body["ipn"]
                    if body.get("querydr") in QUERY_MODES:
                        gateway.query_mode = body["querydr"]
                    gateway.ipn_delay = float(body.get("delay", gateway.ipn_delay))
                    state = {"ipn": gateway.ipn_mode, "delay": gateway.ipn_delay, "querydr": gateway.query_mode}
                return self._json(200, state)
            if path == "/_sim/config":
                with gateway.lock:
                    for name in ("ipn_url", "tmn_code", "secret"):
                        if name in body:
                            setattr(gateway, name, str(body[name]))
                    gateway.retries = int(body.get("retries", gateway.retries))
                    gateway.backoff = float(body.get("backoff", gateway.backoff))
                    state = {"ipn_url": gateway.ipn_url, "tmn_code": gateway.tmn_code, "retries": gateway.retries}
                return self._json(200, state)
            if path == "/_sim/reset":
                with gateway.lock:
                    gateway.reset()
                return self._json(200, {"ok": True})
            return self._json(404, {"error": "not found"})

    return Handler


def serve(host: str, port: int, gateway: Gateway) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), handler_for(gateway))
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--ipn-url", default="http://127.0.0.1:8000/thanh-toan/ipn/", help="the merchant's IPN URL")
    parser.add_argument("--tmn-code", default="AGDVC001", help="the merchant code (vnp_TmnCode)")
    parser.add_argument("--secret", default="dev-payment-secret", help="the hash secret shared with the merchant")
    parser.add_argument("--merchant", default="Cổng Dịch vụ công tỉnh An Giang", help="merchant name shown to payers")
    parser.add_argument("--retries", type=int, default=5, help="IPN attempts before giving up")
    parser.add_argument("--backoff", type=float, default=2.0, help="seconds before the 2nd IPN attempt, doubling")
    args = parser.parse_args()
    gateway = Gateway(
        tmn_code=args.tmn_code,
        secret=args.secret,
        ipn_url=args.ipn_url,
        merchant=args.merchant,
        retries=args.retries,
        backoff=args.backoff,
    )
    server = serve(args.host, args.port, gateway)
    print(f"payment gateway simulator on http://{args.host}:{args.port} (IPN to {args.ipn_url})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
