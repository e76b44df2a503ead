"""Messages to applicants on every status change (dossiers/notify.py): written in the transaction of the change,
sent afterwards by the worker's task with retries, by email (also through a real SMTP server) and SMS."""

import datetime as dt
import email
import email.policy
import logging
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery import current_app
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from citizens.models import Citizen
from core.sms import LoggingSmsBackend, SmsUnavailable, sms_text, unaccent
from dossiers import notify
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import Channel, CitizenMessage, Delivery, Dossier, Event, Status
from dossiers.services import dossier_code_format, dossier_receive, dossier_refuse_at_intake, event_record
from dossiers.tasks import citizen_messages_send
from organizations.models import Agency, Role
from procedures.models import Procedure

from .dossier_helpers import BIRTH, PDF, intake, officer
from .portal_sim import free_port
from .workflow_helpers import handling_department, publish_standard, staff

ROOT = Path(__file__).resolve().parent.parent
VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = dt.datetime(2026, 11, 9, 8, 0, tzinfo=VN)
EMAIL, SMS = CitizenMessage.Channel.EMAIL, CitizenMessage.Channel.SMS
State = CitizenMessage.State
sent_sms: list[tuple[str, str]] = []


class DownGateway:
    """An SMS gateway that refuses everything (the operator's outage)."""

    def send(self, *, phone: str, text: str) -> str:
        raise SmsUnavailable("gateway answered 503")


class SlowRecordingGateway:
    """An SMS gateway that takes a moment per message and remembers what it took (for the concurrency test)."""

    lock = threading.Lock()

    def send(self, *, phone: str, text: str) -> str:
        time.sleep(0.02)
        with self.lock:
            sent_sms.append((phone, text))
        return f"sim-{len(sent_sms)}"


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    publish_standard()
    department = handling_department()
    return {
        "counter": officer(),
        "specialist": staff("cv.tb", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng"),
        "leader": staff("ld.tb", role=Role.AGENCY_LEADER, full_name="Trương Văn Phúc"),
    }


@pytest.fixture
def citizen(db):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username="089195000123", password="x-Mat-khau-2025")
    Citizen.objects.create(
        user=user,
        full_name="Nguyễn Thị Hồng Nhung",
        id_number="089195000123",
        phone="0987 654 321",
        email="nhung@example.vn",
    )
    return user


def receive(people, at: dt.datetime = MONDAY, **applicant) -> Dossier:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return dossier_receive(officer=people["counter"], intake=intake(**applicant), now=at)


def act(who, dossier: Dossier, action: str, at: dt.datetime, **data) -> Dossier:  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    return dossier_act(
        officer=who, code=dossier.code, action=action, task_id=fresh.current_task_id, data=ActionInput(**data), now=at
    )


def link(dossier: Dossier, user) -> Dossier:  # type: ignore[no-untyped-def]
    """The dossier linked to the citizen's account (as the portal does for a walk-in applicant who signs up)."""
    Dossier.objects.filter(pk=dossier.pk).update(citizen=user)
    dossier.citizen = user
    return dossier


def submit_online(user, *, at: dt.datetime = MONDAY) -> Dossier:  # type: ignore[no-untyped-def]
    """What the portal's online submission writes: a dossier with status 1, its code, and its first event."""
    agency = Agency.objects.get(key="ubnd_30307")
    procedure = Procedure.objects.get(code=BIRTH)
    with transaction.atomic():
        dossier = Dossier.objects.create(
            code=dossier_code_format(agency_identifier=agency.identifier, day=at.date(), number=9001),
            procedure=procedure,
            agency=agency,
            citizen=user,
            channel=Channel.ONLINE,
            status=Status.SUBMITTED,
            applicant_name="Nguyễn Thị Hồng Nhung",
            processing_time=procedure.processing_time,
            time_unit=procedure.time_unit,
            submitted_at=at,
            delivery=Delivery.ONLINE,
        )
        event_record(dossier=dossier, action="submit_online", actor=None, status_from=None, at=at, actor_name="x")
    return dossier


def accept_online(dossier: Dossier, clerk, *, at: dt.datetime, appointment: dt.datetime) -> Dossier:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        dossier.status, dossier.received_at, dossier.appointment_at = Status.ACCEPTED, at, appointment
        dossier.save(update_fields=["status", "received_at", "appointment_at"])
        event_record(dossier=dossier, action="accept_online", actor=clerk, status_from=Status.SUBMITTED, at=at)
    return dossier


def messages_of(dossier: Dossier, channel: str = EMAIL, status: int | None = None) -> list[CitizenMessage]:
    rows = CitizenMessage.objects.filter(dossier=dossier, channel=channel).select_related("event").order_by("id")
    return [m for m in rows if status is None or m.event.status_to == status]


def emails_to(address: str) -> list[mail.EmailMultiAlternatives]:
    return [m for m in mail.outbox if m.to == [address]]


def local(moment: dt.datetime) -> str:
    moment = moment.astimezone(VN)
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"


# --- Recording --------------------------------------------------------------------------------------------------


def test_every_status_change_records_one_email_and_one_sms_and_other_events_nothing(people):  # type: ignore[no-untyped-def]
    t = MONDAY
    dossier = receive(people, email="nhung@example.vn")
    act(people["counter"], dossier, "forward", t + dt.timedelta(minutes=10))
    act(people["specialist"], dossier, "claim", t + dt.timedelta(minutes=20))  # no new status
    act(people["specialist"], dossier, "request_supplement", t + dt.timedelta(hours=1), items=["Bản sao CCCD"],
        reason="Thiếu giấy tờ")  # fmt: skip
    act(people["specialist"], dossier, "resume", t + dt.timedelta(days=1))
    act(people["specialist"], dossier, "forward", t + dt.timedelta(days=1, hours=1))
    act(people["leader"], dossier, "claim", t + dt.timedelta(days=1, hours=2))
    pdf = SimpleUploadedFile("kq.pdf", PDF, "application/pdf")
    act(people["leader"], dossier, "record_result", t + dt.timedelta(days=1, hours=3), files=[pdf])
    act(people["leader"], dossier, "approve", t + dt.timedelta(days=1, hours=4))  # stays resolved: no message
    act(people["counter"], dossier, "claim", t + dt.timedelta(days=1, hours=5))
    act(people["counter"], dossier, "return_result", t + dt.timedelta(days=1, hours=6))

    events = list(Event.objects.filter(dossier=dossier).order_by("at", "id"))
    for event in events:
        channels = sorted(CitizenMessage.objects.filter(event=event).values_list("channel", flat=True))
        expected = [EMAIL, SMS] if event.status_from != event.status_to else []
        assert channels == expected, event.action
    assert [m.event.status_to for m in messages_of(dossier)] == [2, 4, 5, 4, 9, 10]
    assert {m.recipient for m in messages_of(dossier)} == {"nhung@example.vn"}
    assert {m.recipient for m in messages_of(dossier, SMS)} == {"0912345678"}
    assert all(m.state == State.PENDING and m.attempts == 0 for m in CitizenMessage.objects.filter(dossier=dossier))


def test_messages_are_written_in_the_transaction_of_the_change(people):  # type: ignore[no-untyped-def]
    dossier = receive(people, email="nhung@example.vn")
    before = CitizenMessage.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        act(people["counter"], dossier, "forward", MONDAY + dt.timedelta(minutes=10))
        assert CitizenMessage.objects.count() == before + 2  # written with the change...
        raise RuntimeError("the change fails after its event was recorded")
    assert CitizenMessage.objects.count() == before  # ...and gone with it
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED


def test_the_worker_is_asked_to_send_only_after_the_commit(people, settings, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    settings.CITIZEN_MESSAGES_KICK_ENABLED = True
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True  # the kick's task runs here instead of on a worker
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            dossier = receive(people, email="nhung@example.vn")
        assert mail.outbox == [] and messages_of(dossier)[0].state == State.PENDING  # nothing before the commit
        for callback in callbacks:
            callback()  # the commit
    finally:
        current_app.conf.task_always_eager = eager
    assert [m.to for m in mail.outbox] == [["nhung@example.vn"]]
    assert {m.state for m in CitizenMessage.objects.filter(dossier=dossier)} == {State.SENT}


def test_without_any_contact_nothing_is_recorded(people, citizen):  # type: ignore[no-untyped-def]
    dossier = receive(people, phone="", email="")
    assert not CitizenMessage.objects.filter(dossier=dossier).exists()
    # Unusable contacts are no contacts: a landline-looking fragment and a broken address.
    other = receive(people, phone="12-34", email="not-an-address")
    assert not CitizenMessage.objects.filter(dossier=other).exists()
    # An account without contact details and a dossier without them: nothing either.
    Citizen.objects.filter(user=citizen).update(phone="", email="")
    link(dossier, citizen)
    act(people["counter"], dossier, "forward", MONDAY + dt.timedelta(minutes=10))
    assert not CitizenMessage.objects.filter(dossier=dossier).exists()


def test_the_account_contacts_come_first_then_the_applicant_s(people, citizen):  # type: ignore[no-untyped-def]
    dossier = link(receive(people, email="khac@example.vn", phone="0911111111"), citizen)
    act(people["counter"], dossier, "forward", MONDAY + dt.timedelta(minutes=10))
    assert messages_of(dossier, EMAIL, 4)[0].recipient == "nhung@example.vn"
    assert messages_of(dossier, SMS, 4)[0].recipient == "0987654321"
    Citizen.objects.filter(user=citizen).update(email="")  # no email on the account: the applicant's address
    act(people["specialist"], dossier, "claim", MONDAY + dt.timedelta(minutes=20))
    act(people["specialist"], dossier, "request_payment", MONDAY + dt.timedelta(hours=1), items=["Lệ phí"], reason="x")
    assert messages_of(dossier, EMAIL, 6)[0].recipient == "khac@example.vn"


def test_dossiers_handled_on_another_system_get_no_message_from_here(people):  # type: ignore[no-untyped-def]
    dossier = receive(people, email="nhung@example.vn")
    Dossier.objects.filter(pk=dossier.pk).update(source_system="bo_tu_phap", status=Status.IN_PROCESS)
    dossier.refresh_from_db()
    event_record(dossier=dossier, action="status", actor=None, status_from=Status.ACCEPTED, actor_name="Bộ Tư pháp")
    assert messages_of(dossier, EMAIL, 4) == [] and messages_of(dossier, SMS, 4) == []


# --- Content ----------------------------------------------------------------------------------------------------


def test_online_submission_and_acceptance_in_vietnamese_with_receipt_link_and_qr(people, citizen, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://dichvucong.angiang.gov.vn"
    dossier = submit_online(citizen)
    code = dossier.code
    appointment = dt.datetime(2026, 11, 16, 14, 30, tzinfo=VN)
    accept_online(dossier, people["counter"], at=MONDAY + dt.timedelta(hours=2), appointment=appointment)
    assert citizen_messages_send() == {"sent": 4, "retrying": 0, "failed": 0}

    submitted, accepted = emails_to("nhung@example.vn")
    assert submitted.subject == f"Hồ sơ {code} đã nộp, chờ tiếp nhận"
    assert f"đã được nộp trực tuyến, đang chờ {dossier.agency.name} tiếp nhận." in submitted.body
    assert submitted.body.startswith("Kính gửi ông/bà Nguyễn Thị Hồng Nhung,")
    assert accepted.subject == f"Hồ sơ {code} đã được tiếp nhận"
    assert accepted.from_email == settings.DEFAULT_FROM_EMAIL
    body = accepted.body
    assert f"Mã số hồ sơ: {code}." in body
    assert "Thời gian hẹn trả kết quả: 14:30 ngày 16/11/2026." in body  # Vietnam time, whatever the server's zone
    assert f"https://dichvucong.angiang.gov.vn/ho-so-cua-toi/{code}/giay-tiep-nhan.pdf" in body
    assert f"https://dichvucong.angiang.gov.vn/tra-cuu/{code}/" in body
    assert "\n\n\n" not in body and "{%" not in body and "&quot;" not in body

    # The HTML alternative shows the same text with live links and the QR code, which is attached as a PNG.
    html, kind = accepted.alternatives[0]
    assert kind == "text/html" and '<html lang="vi">' in html
    assert f'href="https://dichvucong.angiang.gov.vn/tra-cuu/{code}/"' in html and 'src="cid:qr-lookup"' in html
    parsed = email.message_from_bytes(accepted.message().as_bytes(), policy=email.policy.default)
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<qr-lookup>"
    assert images[0].get_filename() == f"ma-qr-{code}.png"
    png = images[0].get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png == notify.qr_png(
        f"https://dichvucong.angiang.gov.vn/tra-cuu/{code}/"
    )
    assert parsed["Auto-Submitted"] == "auto-generated"
    # Only the acceptance carries the QR code.
    assert not [p for p in submitted.message().walk() if p.get_content_type() == "image/png"]
    message = messages_of(dossier, EMAIL, Status.ACCEPTED)[0]
    assert message.state == State.SENT and message.provider_id == parsed["Message-ID"].strip() and message.sent_at


def test_walk_in_acceptance_has_lookup_and_qr_but_no_account_links(people):  # type: ignore[no-untyped-def]
    dossier = receive(people, email="nhung@example.vn")
    citizen_messages_send()
    (accepted,) = emails_to("nhung@example.vn")
    assert dossier.code in accepted.subject
    assert f"/tra-cuu/{dossier.code}/" in accepted.body and "ho-so-cua-toi" not in accepted.body
    assert local(dossier.appointment_at) in accepted.body
    assert any(p.get_content_type() == "image/png" for p in accepted.message().walk())


def test_supplement_payment_and_result_messages_say_what_to_do(people, citizen, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://dvc.example.vn"
    t = MONDAY
    dossier = link(receive(people, email="nhung@example.vn"), citizen)
    code = dossier.code
    act(people["counter"], dossier, "forward", t + dt.timedelta(minutes=10))
    act(people["specialist"], dossier, "claim", t + dt.timedelta(minutes=20))
    act(people["specialist"], dossier, "request_supplement", t + dt.timedelta(hours=1),
        items=["Bản sao giấy chứng nhận kết hôn", "Tờ khai có chữ ký của người đi khai"], reason="Hồ sơ chưa đủ",
        contact="Ngô Văn Hùng, 0296 3852 123")  # fmt: skip
    act(people["specialist"], dossier, "resume", t + dt.timedelta(days=1))
    act(people["specialist"], dossier, "request_payment", t + dt.timedelta(days=1, hours=1),
        items=["Lệ phí đăng ký khai sinh: 8.000 đồng"], reason="Chưa nộp lệ phí")  # fmt: skip
    citizen_messages_send()
    by_subject = {m.subject: m for m in emails_to("nhung@example.vn")}
    supplement = by_subject[f"Hồ sơ {code}: yêu cầu bổ sung giấy tờ"]
    assert "- Bản sao giấy chứng nhận kết hôn\n- Tờ khai có chữ ký của người đi khai\n" in supplement.body
    assert "Lý do: Hồ sơ chưa đủ" in supplement.body and "Người liên hệ: Ngô Văn Hùng, 0296 3852 123" in supplement.body
    assert f"/ho-so-cua-toi/{code}/" in supplement.body
    payment = by_subject[f"Hồ sơ {code}: yêu cầu thực hiện nghĩa vụ tài chính"]
    assert "- Lệ phí đăng ký khai sinh: 8.000 đồng" in payment.body and "Thanh toán trực tuyến tại:" in payment.body

    act(people["specialist"], dossier, "resume", t + dt.timedelta(days=2))
    act(people["specialist"], dossier, "forward", t + dt.timedelta(days=2, hours=1))
    act(people["leader"], dossier, "claim", t + dt.timedelta(days=2, hours=2))
    pdf = SimpleUploadedFile("kq.pdf", PDF, "application/pdf")
    act(people["leader"], dossier, "record_result", t + dt.timedelta(days=2, hours=3), files=[pdf])
    act(people["leader"], dossier, "approve", t + dt.timedelta(days=2, hours=4))
    act(people["counter"], dossier, "claim", t + dt.timedelta(days=2, hours=5))
    act(people["counter"], dossier, "return_result", t + dt.timedelta(days=2, hours=6))
    mail.outbox.clear()
    citizen_messages_send()
    by_subject = {m.subject: m for m in emails_to("nhung@example.vn")}
    ready = by_subject[f"Hồ sơ {code}: đã có kết quả"]
    assert "nhận kết quả tại Bộ phận Một cửa" in ready.body  # delivery at the counter (the intake's default)
    returned = by_subject[f"Hồ sơ {code}: đã trả kết quả"]
    assert f"Mời ông/bà đánh giá mức độ hài lòng tại: https://dvc.example.vn/ho-so-cua-toi/{code}/danh-gia/" in (
        returned.body
    )


@pytest.mark.parametrize(
    ("action", "subject", "wording"),
    [
        ("stop", "Hồ sơ {code} đã được rút", "đã được rút theo yêu cầu của ông/bà"),
        ("refuse", "Hồ sơ {code}: dừng xử lý", "đã dừng giải quyết hồ sơ"),
    ],
)
def test_withdrawn_and_stopped_dossiers_give_the_reason(people, action, subject, wording):  # type: ignore[no-untyped-def]
    dossier = receive(people, email="nhung@example.vn")
    act(people["counter"], dossier, "forward", MONDAY + dt.timedelta(minutes=10))
    act(people["specialist"], dossier, "claim", MONDAY + dt.timedelta(minutes=20))
    act(people["specialist"], dossier, action, MONDAY + dt.timedelta(hours=1), reason="Người nộp đề nghị dừng")
    citizen_messages_send()
    last = emails_to("nhung@example.vn")[-1]
    assert last.subject == subject.format(code=dossier.code)
    assert wording in last.body and "Lý do: Người nộp đề nghị dừng" in last.body


def test_a_refusal_at_the_counter_gives_the_reasons_without_a_code(people):  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        dossier = dossier_refuse_at_intake(
            officer=people["counter"], intake=intake(email="nhung@example.vn"), reasons="Thiếu tờ khai", now=MONDAY
        )
    citizen_messages_send()
    (refused,) = emails_to("nhung@example.vn")
    assert refused.subject == f"Hồ sơ “{dossier.procedure.name}” của ông/bà không được tiếp nhận"
    assert "Lý do: Thiếu tờ khai" in refused.body and "/tra-cuu/" not in refused.body
    sms = messages_of(dossier, SMS)[0]
    assert sms.body.startswith("DVC An Giang: Ho so cua ong/ba khong duoc tiep nhan. Ly do: Thieu to khai")


def test_an_applicant_who_chose_english_gets_english(people):  # type: ignore[no-untyped-def]
    dossier = receive(people, email="nhung@example.vn", language="en")
    citizen_messages_send()
    (accepted,) = emails_to("nhung@example.vn")
    appointment = dossier.appointment_at.astimezone(VN)
    assert accepted.subject == f"Dossier {dossier.code} accepted"
    assert accepted.body.startswith("Dear Nguyễn Thị Hồng Nhung,")
    assert f"Appointment for the result: {appointment:%H:%M} on {appointment:%d/%m/%Y}." in accepted.body
    assert '<html lang="en">' in accepted.alternatives[0][0]
    assert messages_of(dossier, SMS)[0].body.startswith(f"An Giang public services: Dossier {dossier.code} was")


# --- SMS --------------------------------------------------------------------------------------------------------


def test_the_logging_sms_backend_logs_short_unaccented_text(people, caplog):  # type: ignore[no-untyped-def]
    dossier = receive(people)
    with caplog.at_level(logging.INFO, logger="sms"):
        assert citizen_messages_send() == {"sent": 1, "retrying": 0, "failed": 0}
    (record,) = [r for r in caplog.records if r.name == "sms"]
    text = messages_of(dossier, SMS)[0].body
    expected = (
        f"DVC An Giang: Ho so {dossier.code} da duoc tiep nhan. Hen tra ket qua: "
        f"{local(dossier.appointment_at).replace('ngày', 'ngay')}."
    )
    assert text == expected and text.isascii() and len(text) <= 160
    assert "phone=0912345678" in record.getMessage() and repr(text) in record.getMessage()
    assert messages_of(dossier, SMS)[0].provider_id in record.getMessage()


def test_sms_keep_their_diacritics_when_asked(people, settings):  # type: ignore[no-untyped-def]
    settings.SMS_UNACCENT = False
    dossier = receive(people)
    assert f"Hồ sơ {dossier.code} đã được tiếp nhận." in messages_of(dossier, SMS)[0].body


def test_sms_text_helpers():
    assert unaccent("Đặng Thị Mai — Hồ sơ ĐÃ được tiếp nhận") == "Dang Thi Mai — Ho so DA duoc tiep nhan"
    long = sms_text("Hồ sơ “quá dài” " * 30)
    assert len(long) <= 160 and long.endswith("...") and long.isascii() and '"qua dai"' in long
    assert LoggingSmsBackend().send(phone="0912345678", text="x") != LoggingSmsBackend().send(phone="0", text="x")


# --- Delivery ---------------------------------------------------------------------------------------------------


def test_sending_twice_sends_once(people, caplog):  # type: ignore[no-untyped-def]
    dossier = receive(people, email="nhung@example.vn")
    ids = list(CitizenMessage.objects.filter(dossier=dossier).values_list("id", flat=True))
    with caplog.at_level(logging.INFO, logger="sms"):
        assert citizen_messages_send(ids=ids) == {"sent": 2, "retrying": 0, "failed": 0}
        assert citizen_messages_send(ids=ids) == {"sent": 0, "retrying": 0, "failed": 0}
        assert citizen_messages_send() == {"sent": 0, "retrying": 0, "failed": 0}
    assert len(mail.outbox) == 1 and len([r for r in caplog.records if r.name == "sms"]) == 1
    assert list(CitizenMessage.objects.filter(id__in=ids).values_list("attempts", flat=True)) == [1, 1]


def test_a_failing_gateway_is_retried_with_backoff_then_marked_failed(people, settings, caplog):  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "tests.test_citizen_messages.DownGateway"
    settings.CITIZEN_MESSAGES_MAX_ATTEMPTS = 3
    settings.CITIZEN_MESSAGES_BACKOFF_BASE = 60.0
    dossier = receive(people, email="nhung@example.vn")
    sms = messages_of(dossier, SMS)[0]
    start = dt.datetime.now(tz=VN)
    with time_machine.travel(start, tick=False):
        assert citizen_messages_send() == {"sent": 1, "retrying": 1, "failed": 0}  # the email goes, the SMS waits
        assert citizen_messages_send() == {"sent": 0, "retrying": 0, "failed": 0}  # not due yet
    sms.refresh_from_db()
    assert sms.state == State.PENDING and sms.attempts == 1 and "SmsUnavailable: gateway answered 503" in sms.last_error
    assert 48 <= (sms.next_attempt_at - start).total_seconds() <= 72  # 60 s ± 20%
    first_retry = sms.next_attempt_at
    with time_machine.travel(first_retry + dt.timedelta(seconds=1), tick=False):
        assert citizen_messages_send() == {"sent": 0, "retrying": 1, "failed": 0}
    sms.refresh_from_db()
    assert sms.attempts == 2 and 96 <= (sms.next_attempt_at - first_retry).total_seconds() <= 145  # 120 s ± 20%
    with time_machine.travel(sms.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert citizen_messages_send() == {"sent": 0, "retrying": 0, "failed": 1}
    sms.refresh_from_db()
    assert sms.state == State.FAILED and sms.attempts == 3 and sms.sent_at is None
    # A failed message is not tried again, even much later and with the gateway back.
    settings.SMS_BACKEND = "core.sms.LoggingSmsBackend"
    with time_machine.travel(start + dt.timedelta(days=2), tick=False):
        assert citizen_messages_send() == {"sent": 0, "retrying": 0, "failed": 0}
    assert CitizenMessage.objects.get(pk=sms.pk).attempts == 3
    assert len(mail.outbox) == 1


def test_a_gateway_that_comes_back_delivers_the_retry(people, settings):  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "tests.test_citizen_messages.DownGateway"
    dossier = receive(people)
    assert citizen_messages_send() == {"sent": 0, "retrying": 1, "failed": 0}
    settings.SMS_BACKEND = "core.sms.LoggingSmsBackend"
    sms = messages_of(dossier, SMS)[0]
    with time_machine.travel(sms.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert citizen_messages_send() == {"sent": 1, "retrying": 0, "failed": 0}
    sms.refresh_from_db()
    assert sms.state == State.SENT and sms.attempts == 2 and sms.last_error == ""


def test_an_unreachable_smtp_server_means_a_retry(people, settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    dossier = receive(people, email="nhung@example.vn", phone="")
    assert citizen_messages_send() == {"sent": 0, "retrying": 1, "failed": 0}
    message = messages_of(dossier)[0]
    assert message.state == State.PENDING and message.attempts == 1 and "Connection refused" in message.last_error


def test_real_smtp_delivery_through_the_mail_catcher(people, settings, tmp_path):  # type: ignore[no-untyped-def]
    port = free_port()
    catcher = subprocess.Popen(
        [sys.executable, "-m", "core.mailcatcher", "--port", str(port), "--dir", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                smtplib.SMTP("127.0.0.1", port, timeout=1).quit()
                break
            except OSError:
                time.sleep(0.05)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        first = receive(people, email="nhung@example.vn", phone="")
        second = receive(people, email="hung@example.vn", phone="")
        assert citizen_messages_send() == {"sent": 2, "retrying": 0, "failed": 0}  # one connection for both
        files = sorted(tmp_path.glob("*.eml"))
        assert len(files) == 2
        received = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
        assert [m["To"].strip() for m in received] == ["nhung@example.vn", "hung@example.vn"]
        assert received[0]["Subject"].strip() == f"Hồ sơ {first.code} đã được tiếp nhận"
        assert received[1]["Subject"].strip() == f"Hồ sơ {second.code} đã được tiếp nhận"
        text = received[0].get_body(("plain",)).get_content()
        assert f"Mã số hồ sơ: {first.code}." in text and local(first.appointment_at) in text
        assert received[0].get_body(("html",)) is not None
        png = next(p for p in received[0].walk() if p.get_content_type() == "image/png").get_content()
        assert png == notify.qr_png(notify.lookup_url(first.code))
        assert received[0]["Message-ID"].strip() == messages_of(first)[0].provider_id
    finally:
        catcher.terminate()
        out, _ = catcher.communicate(timeout=10)
    assert f"to=nhung@example.vn subject='Hồ sơ {first.code} đã được tiếp nhận'" in out


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_message_once(reseeded, settings):  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "tests.test_citizen_messages.SlowRecordingGateway"
    sent_sms.clear()
    people = {"counter": officer()}
    dossiers = [receive(people, phone=f"09123456{n:02d}", email=f"a{n}@example.vn") for n in range(12)]
    assert CitizenMessage.objects.count() == 24
    reports = []

    def worker() -> None:
        try:
            reports.append(citizen_messages_send())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r["sent"] for r in reports) == 24 and len(reports) == 4
    assert sorted(phone for phone, _ in sent_sms) == sorted(d.applicant_phone for d in dossiers)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(d.applicant_email for d in dossiers)
    assert set(CitizenMessage.objects.values_list("state", "attempts")) == {(State.SENT, 1)}
