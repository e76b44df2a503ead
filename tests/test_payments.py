"""Online payment of fees: the VNPAY-style protocol, the gateway simulator, IPN and return, the on_paid hook."""

import datetime as dt
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone, translation

from core.errors import Conflict, ValidationFailed
from payments import hooks
from payments.gateway import GatewayUnavailable, VnpayGateway, gateway, hash_data, sign
from payments.models import Payment
from payments.selectors import paid_payment, payments_for
from payments.services import payment_confirm, payment_refresh, payment_start

from .payment_sim import SECRET

State = Payment.State
RETURN_TO = "/ho-so-nhap/12/le-phi/"


def start(reference: str = "draft-12", amount: int = 150_000) -> tuple[Payment, str]:
    return payment_start(
        reference=reference,
        amount=amount,
        description="Lệ phí đăng ký khai sinh",
        return_to=RETURN_TO,
        user=None,
        client_ip="203.0.113.7",
    )


def params_of(location: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def resigned(params: dict[str, str], **changes: str) -> dict[str, str]:
    """The gateway's message with changes, signed again with the real secret (a gateway bug, not an attacker)."""
    changed = {k: v for k, v in {**params, **changes}.items() if k != "vnp_SecureHash"}
    return {**changed, "vnp_SecureHash": sign(SECRET, hash_data(changed))}


def ipn(client, params: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.get("/thanh-toan/ipn/", params)
    assert response.status_code == 200
    return response.json()


def snapshot(payment: Payment) -> dict:  # type: ignore[type-arg]
    return Payment.objects.filter(pk=payment.pk).values().get()


@pytest.fixture
def paid_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """A fresh hook registry with one handler for "draft-" that records what it saw."""
    monkeypatch.setattr(hooks, "_handlers", {})
    calls: list[dict] = []  # type: ignore[type-arg]

    @hooks.on_paid("draft-")
    def record(payment: Payment) -> None:
        calls.append(
            {
                "txn_ref": payment.txn_ref,
                "in_transaction": connection.in_atomic_block,
                "state_seen": Payment.objects.get(pk=payment.pk).state,
            }
        )

    return calls


# -- the protocol ---------------------------------------------------------------------------------------------------

KNOWN = VnpayGateway(base_url="https://sandbox.example", tmn_code="AGDVC001", secret="SECRETKEY123")


def known_payment() -> Payment:
    created = timezone.make_aware(dt.datetime(2025, 7, 1, 9, 30))
    return Payment(
        amount=150_000,
        txn_ref="2507010000000001",
        description="Lệ phí đăng ký khai sinh #12",
        created_at=created,
        expires_at=created + dt.timedelta(minutes=15),
    )


def test_pay_url_is_signed_exactly_as_the_protocol_says():
    # Hash computed outside Python: printf '%s' "$data" | openssl dgst -sha512 -hmac SECRETKEY123
    data = (
        "vnp_Amount=15000000&vnp_Command=pay&vnp_CreateDate=20250701093000&vnp_CurrCode=VND"
        "&vnp_ExpireDate=20250701094500&vnp_IpAddr=203.0.113.7&vnp_Locale=vn"
        "&vnp_OrderInfo=Le+phi+dang+ky+khai+sinh+12&vnp_OrderType=other"
        "&vnp_ReturnUrl=https%3A%2F%2Fdichvucong.angiang.gov.vn%2Fthanh-toan%2Fket-qua%2F"
        "&vnp_TmnCode=AGDVC001&vnp_TxnRef=2507010000000001&vnp_Version=2.1.0"
    )
    digest = (
        "d61a8edaa17e99b285b3047894f44446ca9163b7a0919c1f803bcce56c70f56d"
        "7592d5a917bebf48fe4977a2c52f18452a90b9e908e7cf090378b51abbf97db3"
    )
    with translation.override("vi"):
        url = KNOWN.pay_url(known_payment(), "https://dichvucong.angiang.gov.vn/thanh-toan/ket-qua/", "203.0.113.7")
    assert url == f"https://sandbox.example/paymentv2/vpcpay.html?{data}&vnp_SecureHash={digest}"


def test_return_and_query_answers_are_verified_exactly_as_the_protocol_says():
    # Both hashes computed with openssl, as above.
    returned = {
        "vnp_Amount": "15000000",
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": "VNP14000001",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Le phi dang ky khai sinh 12",
        "vnp_PayDate": "20250701093412",
        "vnp_ResponseCode": "00",
        "vnp_TmnCode": "AGDVC001",
        "vnp_TransactionNo": "14000001",
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": "2507010000000001",
        "vnp_SecureHash": "55b66c8aba18e916050cad0b5d396f32f9e6acb4ec330ad183bb768889543442"
        "ea5eb9afd3375aff06ecaf9bff422df1b6c10bcf8826d35d6f05e8944ee28fb3",
    }
    assert KNOWN.verify(returned)
    assert KNOWN.verify({**returned, "vnp_SecureHash": returned["vnp_SecureHash"].upper()})
    outcome = KNOWN.outcome(returned)
    assert (outcome.state, outcome.amount, outcome.transaction_no, outcome.bank_code) == (
        "paid",
        150_000,
        "14000001",
        "NCB",
    )
    assert outcome.paid_at == timezone.make_aware(dt.datetime(2025, 7, 1, 9, 34, 12))
    for name, value in [("vnp_Amount", "15000100"), ("vnp_ResponseCode", "24"), ("vnp_TxnRef", "2507010000000002")]:
        assert not KNOWN.verify({**returned, name: value})
    assert not KNOWN.verify({k: v for k, v in returned.items() if k != "vnp_SecureHash"})
    assert not VnpayGateway(base_url="x", tmn_code="AGDVC001", secret="").verify(returned)

    answer = {
        "vnp_ResponseId": "20250701093510",
        "vnp_Command": "querydr",
        "vnp_ResponseCode": "00",
        "vnp_Message": "QueryDR Success",
        "vnp_TmnCode": "AGDVC001",
        "vnp_TxnRef": "2507010000000001",
        "vnp_Amount": "15000000",
        "vnp_BankCode": "NCB",
        "vnp_PayDate": "20250701093412",
        "vnp_TransactionNo": "14000001",
        "vnp_TransactionType": "01",
        "vnp_TransactionStatus": "00",
        "vnp_OrderInfo": "Le phi dang ky khai sinh 12",
        "vnp_PromotionCode": "",
        "vnp_PromotionAmount": "",
        "vnp_SecureHash": "13169ba7b7ece133042a39dd25d726203beec3016be487cd4011ace3fc5527b8"
        "5bc7bbc2744be906a3caa0b76a2416ad9b72f7bd07b5f6b7c528d9824152c6f9",
    }
    assert KNOWN.verify(answer)
    assert KNOWN.outcome(answer).state == "paid"
    assert not KNOWN.verify({**answer, "vnp_TransactionStatus": "02"})
    assert KNOWN.outcome({**answer, "vnp_ResponseCode": "91"}).state == "pending"


# -- starting a payment ---------------------------------------------------------------------------------------------


def test_payment_start_sends_a_request_the_gateway_accepts(db, payment_gateway):
    payment, url = start()
    assert payment.state == State.PENDING and payment.amount == 150_000 and payment.return_to == RETURN_TO
    assert payment.expires_at - payment.created_at == dt.timedelta(minutes=15)
    assert url.startswith(payment_gateway.url + "/paymentv2/vpcpay.html?")
    fields = params_of(url)
    assert fields["vnp_ReturnUrl"].endswith("/thanh-toan/ket-qua/")
    assert fields["vnp_OrderInfo"] == "Le phi dang ky khai sinh"
    status, page = payment_gateway.open(url)
    assert status == 200
    assert "150.000 đ" in page and "Thanh toán" in page and "Hủy giao dịch" in page and payment.txn_ref in page

    # The gateway refuses a request whose amount was changed on the way, and one whose time to pay has passed.
    status, page = payment_gateway.open(url.replace("vnp_Amount=15000000", "vnp_Amount=100"))
    assert status == 400 and "chữ ký" in page
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    payment.refresh_from_db()
    late = gateway().pay_url(payment, fields["vnp_ReturnUrl"], "203.0.113.7")
    status, page = payment_gateway.open(late)
    assert status == 400 and "quá thời gian" in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"return_to": "https://lua-dao.example/"}, "return_to"),
        ({"return_to": "//lua-dao.example/"}, "return_to"),
        ({"reference": " "}, "reference"),
        ({"description": ""}, "description"),
    ],
)
def test_payment_start_refuses_bad_input_and_creates_nothing(db, payment_gateway, changes, field):
    arguments = {
        "reference": "draft-12",
        "amount": 150_000,
        "description": "Lệ phí",
        "return_to": RETURN_TO,
        "user": None,
        "client_ip": "203.0.113.7",
        **changes,
    }
    with pytest.raises(ValidationFailed) as raised:
        payment_start(**arguments)
    assert field in raised.value.detail
    assert not Payment.objects.exists()


def test_a_reference_paid_once_cannot_be_paid_again(db, payment_gateway, client):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    assert ipn(client, params_of(payment_gateway.pay(url)))["RspCode"] == "00"
    with pytest.raises(Conflict):
        start()
    assert list(payments_for(reference="draft-12")) == [payment]
    assert paid_payment(reference="draft-12") == payment
    assert paid_payment(reference="draft-13") is None


# -- IPN --------------------------------------------------------------------------------------------------------------


def test_ipn_records_the_payment_once_and_a_repeated_ipn_is_answered_02(db, payment_gateway, client, paid_calls):
    payment_gateway.mode(ipn="drop")  # this test is the merchant's server: it delivers the IPN itself
    payment, url = start()
    result = params_of(payment_gateway.pay(url))
    assert ipn(client, result) == {"RspCode": "00", "Message": "Confirm Success"}
    payment.refresh_from_db()
    assert payment.state == State.PAID and payment.confirmed_by == "ipn"
    assert payment.transaction_no == result["vnp_TransactionNo"] and payment.bank_code == "NCB"
    assert payment.paid_at is not None
    assert [a["params"]["vnp_TransactionNo"] for a in payment.answers] == [result["vnp_TransactionNo"]]
    before = snapshot(payment)

    assert ipn(client, result) == {"RspCode": "02", "Message": "Order already confirmed"}
    assert snapshot(payment) == before
    assert len(paid_calls) == 1
    assert paid_calls[0]["txn_ref"] == payment.txn_ref and paid_calls[0]["state_seen"] == State.PAID


@pytest.mark.parametrize(
    "tamper",
    [
        {"vnp_Amount": "100"},
        {"vnp_ResponseCode": "00", "vnp_TransactionStatus": "00"},  # a cancelled payment turned into a paid one
        {"vnp_SecureHash": "0" * 128},
        {"vnp_SecureHash": ""},
        {"vnp_TmnCode": "KHACMA01"},
    ],
)
def test_a_tampered_ipn_or_return_is_refused_and_changes_nothing(db, payment_gateway, client, paid_calls, tamper):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    result = params_of(payment_gateway.pay(url, action="cancel"))
    forged = {**result, **tamper}
    before = snapshot(payment)

    assert ipn(client, forged) == {"RspCode": "97", "Message": "Invalid signature"}
    response = client.get("/thanh-toan/ket-qua/", forged)
    assert response.status_code == 400
    assert b"payment-invalid" in response.content and b'class="facts"' not in response.content
    assert snapshot(payment) == before
    assert paid_calls == []


def test_a_signed_ipn_with_another_amount_is_answered_04_and_changes_nothing(db, payment_gateway, client, paid_calls):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    result = params_of(payment_gateway.pay(url))
    before = snapshot(payment)
    for amount in ("100", "15000050", "abc"):
        assert ipn(client, resigned(result, vnp_Amount=amount))["RspCode"] == "04"
    assert snapshot(payment) == before and paid_calls == []


def test_a_signed_ipn_for_an_unknown_transaction_is_answered_01(db, payment_gateway, client):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    result = params_of(payment_gateway.pay(url))
    before = snapshot(payment)
    assert ipn(client, resigned(result, vnp_TxnRef="2501019999999999")) == {
        "RspCode": "01",
        "Message": "Order not found",
    }
    assert snapshot(payment) == before
    assert client.get("/thanh-toan/ket-qua/", resigned(result, vnp_TxnRef="2501019999999999")).status_code == 404


def test_the_ipn_of_a_cancelled_payment_records_it_and_the_reference_can_be_paid_again(db, payment_gateway, client):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    result = params_of(payment_gateway.pay(url, action="cancel"))
    assert result["vnp_ResponseCode"] == "24"
    assert ipn(client, result)["RspCode"] == "00"
    payment.refresh_from_db()
    assert payment.state == State.CANCELLED and payment.paid_at is None and payment.transaction_no == ""

    response = client.get("/thanh-toan/ket-qua/", result)
    assert response.status_code == 200
    assert b"payment-cancelled" in response.content
    assert f'href="{RETURN_TO}"'.encode() in response.content
    assert paid_payment(reference="draft-12") is None

    again, url = start()
    assert again.txn_ref != payment.txn_ref
    assert ipn(client, params_of(payment_gateway.pay(url)))["RspCode"] == "00"
    assert paid_payment(reference="draft-12") == again


def test_a_refused_card_is_recorded_as_failed(db, payment_gateway, client, paid_calls):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    result = params_of(payment_gateway.pay(url, card="ncb-no-funds"))
    assert ipn(client, result)["RspCode"] == "00"
    payment.refresh_from_db()
    assert payment.state == State.FAILED and paid_calls == []
    assert b"payment-failed" in client.get("/thanh-toan/ket-qua/", result).content


def test_ipn_answers_99_when_a_handler_fails_and_nothing_is_kept(db, payment_gateway, client, monkeypatch):
    monkeypatch.setattr(hooks, "_handlers", {})
    failing = {"on": True}
    writes: list[str] = []

    @hooks.on_paid("draft-")
    def handler(payment: Payment) -> None:
        writes.append(payment.txn_ref)
        if failing["on"]:
            raise RuntimeError("the dossier could not be updated")

    payment_gateway.mode(ipn="drop")
    payment, url = start()
    result = params_of(payment_gateway.pay(url))
    before = snapshot(payment)
    assert ipn(client, result) == {"RspCode": "99", "Message": "Unknown error"}
    # The handler ran inside payment_confirm's transaction: its failure rolled the payment back too.
    assert snapshot(payment) == before

    failing["on"] = False  # the gateway sends the IPN again
    assert ipn(client, result)["RspCode"] == "00"
    assert Payment.objects.get(pk=payment.pk).state == State.PAID
    assert writes == [payment.txn_ref, payment.txn_ref]


def test_on_paid_runs_only_for_its_prefix_and_once_per_reference(db, payment_gateway, client, paid_calls):
    payment_gateway.mode(ipn="drop")
    _other, url = start(reference="notice-7")
    assert ipn(client, params_of(payment_gateway.pay(url)))["RspCode"] == "00"
    assert paid_calls == []

    # Two tabs, two attempts for one reference, both paid: both recorded (the money was taken), the fee's handler
    # runs once.
    first, first_url = start()
    _second, second_url = start()
    first_result = params_of(payment_gateway.pay(first_url))
    second_result = params_of(payment_gateway.pay(second_url))
    assert ipn(client, first_result)["RspCode"] == "00"
    assert ipn(client, second_result)["RspCode"] == "00"
    assert set(Payment.objects.filter(reference="draft-12").values_list("state", flat=True)) == {State.PAID}
    assert [call["txn_ref"] for call in paid_calls] == [first.txn_ref]
    assert paid_payment(reference="draft-12") == first


# -- the return and querydr -------------------------------------------------------------------------------------------


def test_without_ipn_the_return_asks_the_gateway_and_records_its_answer(db, payment_gateway, client, paid_calls):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    location = payment_gateway.pay(url)
    assert payment_gateway.transaction(payment.txn_ref)["ipn"] == []

    response = client.get(urllib.parse.urlsplit(location).path, params_of(location))
    assert response.status_code == 200
    assert b"payment-paid" in response.content and b"150.000" in response.content
    payment.refresh_from_db()
    assert payment.state == State.PAID and payment.confirmed_by == "querydr"
    assert payment.answers[0]["params"]["vnp_Command"] == "querydr"
    assert len(paid_calls) == 1

    # Reloading the page changes nothing.
    before = snapshot(payment)
    assert b"payment-paid" in client.get(urllib.parse.urlsplit(location).path, params_of(location)).content
    assert snapshot(payment) == before and len(paid_calls) == 1


def test_an_unsigned_query_answer_is_not_recorded(db, payment_gateway):
    payment_gateway.mode(ipn="drop", querydr="tamper")
    payment, url = start()
    payment_gateway.pay(url)
    before = snapshot(payment)
    with pytest.raises(GatewayUnavailable):
        payment_refresh(payment=payment)
    assert snapshot(payment) == before


@pytest.mark.parametrize("trouble", ["unreachable", "refuse", "tamper"])
def test_when_the_gateway_cannot_be_asked_the_signed_return_is_recorded(db, payment_gateway, client, settings, trouble):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    location = payment_gateway.pay(url)
    if trouble == "unreachable":
        settings.PAYMENT_GATEWAY_API_URL = "http://127.0.0.1:9"
    else:
        payment_gateway.mode(querydr=trouble)
    response = client.get("/thanh-toan/ket-qua/", params_of(location))
    assert b"payment-paid" in response.content
    payment.refresh_from_db()
    assert payment.state == State.PAID and payment.confirmed_by == "return"


def test_an_unpaid_payment_expires_once_its_time_has_passed(db, payment_gateway):
    payment, url = start()
    assert payment_refresh(payment=payment).state == State.PENDING  # the gateway knows nothing yet: still in time
    payment_gateway.open(url)  # opened, not paid
    assert payment_refresh(payment=payment).state == State.PENDING
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    payment.refresh_from_db()
    expired = payment_refresh(payment=payment)
    assert expired.state == State.EXPIRED and expired.confirmed_by == "expiry"


def test_a_signed_query_answer_is_confirmed_through_payment_confirm(db, payment_gateway):
    payment_gateway.mode(ipn="drop")
    payment, url = start()
    payment_gateway.pay(url)
    answer = gateway().query(payment)
    assert answer["vnp_ResponseCode"] == "00" and answer["vnp_TransactionStatus"] == "00"
    assert payment_confirm(params=answer, source="querydr")[:2] == ("00", "Confirm Success")
    assert payment_confirm(params=answer, source="querydr")[0] == "02"
    assert payment_confirm(params={**answer, "vnp_Amount": "100"}, source="querydr")[0] == "97"


# -- concurrency -------------------------------------------------------------------------------------------------------


def _confirm(params: dict[str, str]) -> str:
    return payment_confirm(params=params, source="ipn")[0]


def _refresh(payment: Payment) -> str:
    return payment_refresh(payment=payment).state


def _race(**work: Callable[[], object]) -> dict[str, object]:
    """Run each function in its own thread (own database connection), all released at the same moment."""
    barrier = threading.Barrier(len(work))
    answers: dict[str, object] = {}

    def run(name: str, function: Callable[[], object]) -> None:
        try:
            barrier.wait()
            answers[name] = function()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            answers[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_return_and_ipn_at_the_same_moment_record_the_payment_once(transactional_db, payment_gateway, monkeypatch):
    monkeypatch.setattr(hooks, "_handlers", {})
    calls: list[str] = []

    @hooks.on_paid("draft-")
    def slow(payment: Payment) -> None:
        calls.append(payment.txn_ref)
        time.sleep(0.3)  # holds the row lock, so the other side must wait for it

    payment_gateway.mode(ipn="drop")
    for round_ in range(4):
        payment, url = start(reference=f"draft-{round_}")
        result = params_of(payment_gateway.pay(url))
        answers = _race(
            ipn=partial(_confirm, result),
            repeated_ipn=partial(_confirm, result),
            returned=partial(_refresh, payment),
        )
        assert not any(isinstance(answer, Exception) for answer in answers.values()), answers
        assert sorted([answers["ipn"], answers["repeated_ipn"]]) in (["00", "02"], ["02", "02"]), answers
        assert answers["returned"] == State.PAID
        final = Payment.objects.get(pk=payment.pk)
        assert final.state == State.PAID and len(final.answers) == 1
    assert len(calls) == 4 and len(set(calls)) == 4


# -- end to end: the simulator really calls the IPN ------------------------------------------------------------------


def _live(payment_gateway, live_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    payment_gateway.config(ipn_url=live_server.url + "/thanh-toan/ipn/")


def test_the_gateway_calls_the_ipn_before_sending_the_citizen_back(
    transactional_db, live_server, payment_gateway, settings, paid_calls
):
    _live(payment_gateway, live_server, settings)
    payment_gateway.mode(ipn="duplicate")
    payment, url = start()
    location = payment_gateway.pay(url)
    assert location.startswith(live_server.url + "/thanh-toan/ket-qua/?")
    attempts = payment_gateway.wait_ipn(payment.txn_ref, 2)
    assert [a["answer"]["RspCode"] for a in attempts] == ["00", "02"]
    payment.refresh_from_db()
    assert payment.state == State.PAID and payment.confirmed_by == "ipn"
    assert len(paid_calls) == 1


def test_a_late_ipn_after_the_return_is_answered_02(transactional_db, live_server, payment_gateway, settings, client):
    _live(payment_gateway, live_server, settings)
    payment_gateway.mode(ipn="delay", delay=1.0)
    payment, url = start()
    location = payment_gateway.pay(url)
    assert payment_gateway.transaction(payment.txn_ref)["ipn"] == []
    assert b"payment-paid" in client.get("/thanh-toan/ket-qua/", params_of(location)).content
    assert Payment.objects.get(pk=payment.pk).confirmed_by == "querydr"
    attempts = payment_gateway.wait_ipn(payment.txn_ref, 1)
    assert [a["answer"]["RspCode"] for a in attempts] == ["02"]


def test_the_gateway_retries_an_ipn_that_was_not_acknowledged(transactional_db, live_server, payment_gateway, settings):
    settings.SITE_URL = live_server.url
    payment_gateway.config(ipn_url=live_server.url + "/ipn-sai-dia-chi/", backoff=1.0)  # 404 at first
    payment, url = start()
    payment_gateway.pay(url)
    payment_gateway.wait_ipn(payment.txn_ref, 1)
    payment_gateway.config(ipn_url=live_server.url + "/thanh-toan/ipn/")
    attempts = payment_gateway.wait_ipn(payment.txn_ref, 2)
    assert attempts[0]["status"] == 404 and attempts[-1]["answer"]["RspCode"] == "00"
    assert Payment.objects.get(pk=payment.pk).confirmed_by == "ipn"


@pytest.mark.browser
def test_a_citizen_pays_in_the_browser(transactional_db, live_server, payment_gateway, settings, page, paid_calls):
    from playwright.sync_api import expect

    _live(payment_gateway, live_server, settings)
    payment, url = start()
    page.goto(url)
    expect(page.get_by_text("150.000 đ")).to_be_visible()
    page.get_by_role("button", name="Thanh toán").click()
    expect(page).to_have_url(re.compile("^" + re.escape(live_server.url + "/thanh-toan/ket-qua/")))
    expect(page.locator(".payment-result.payment-paid h1")).to_be_visible()
    expect(page.get_by_text(payment.txn_ref)).to_be_visible()
    expect(page.locator(f'a[href="{RETURN_TO}"]')).to_be_visible()
    payment.refresh_from_db()
    assert payment.state == State.PAID and payment.confirmed_by == "ipn"
    assert [a["answer"]["RspCode"] for a in payment_gateway.transaction(payment.txn_ref)["ipn"]] == ["00"]
    assert len(paid_calls) == 1

    # Cancelling at the gateway brings the citizen back to a "cancelled" page.
    cancelled, url = start(reference="draft-13")
    page.goto(url)
    page.get_by_role("button", name="Hủy giao dịch").click()
    expect(page.locator(".payment-result.payment-cancelled h1")).to_be_visible()
    assert Payment.objects.get(pk=cancelled.pk).state == State.CANCELLED
