"""Messages to applicants on every status change of their dossier, by email and SMS (issue "Citizen portal", 7).

Nothing may be lost, so this is a transactional outbox of its own: ``citizen_messages_record`` runs inside the
transaction of the status change (``services.event_record`` calls it) and writes one ``CitizenMessage`` per
channel, already rendered; after the commit a worker is asked to send them (``citizen_messages_kick``), and the
beat sweep (``tasks.citizen_messages_send``, every CITIZEN_MESSAGES_SEND_EVERY seconds) sends whatever a kick
missed and the retries that came due.

Delivery is at least once: a message is locked (``FOR UPDATE SKIP LOCKED``), sent and marked sent in one short
transaction, so two workers never send the same row; only a worker that dies between the mail server's "250" and
its commit sends that one message again.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import random
import re
from dataclasses import dataclass
from email.mime.image import MIMEImage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citizens.models import Citizen
from core.sms import SmsBackend, sms_backend, sms_text

from .models import CitizenMessage, Delivery, Dossier, Event, Notice, Status

log = logging.getLogger(__name__)
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
Channel = CitizenMessage.Channel
State = CitizenMessage.State
_PHONE = re.compile(r"^\+?\d{9,15}$")
QR_CONTENT_ID = "qr-lookup"

SUBJECTS = {
    Status.SUBMITTED: gettext_lazy("Dossier %(code)s submitted, awaiting acceptance"),
    Status.ACCEPTED: gettext_lazy("Dossier %(code)s accepted"),
    Status.REFUSED: gettext_lazy("Your dossier for “%(procedure)s” was not accepted"),
    Status.IN_PROCESS: gettext_lazy("Dossier %(code)s is being processed"),
    Status.WAITING_SUPPLEMENT: gettext_lazy("Dossier %(code)s: additional documents requested"),
    Status.WAITING_PAYMENT: gettext_lazy("Dossier %(code)s: payment requested"),
    Status.WITHDRAWN: gettext_lazy("Dossier %(code)s withdrawn"),
    Status.STOPPED: gettext_lazy("Dossier %(code)s: processing stopped"),
    Status.RESOLVED: gettext_lazy("Dossier %(code)s: the result is ready"),
    Status.RETURNED: gettext_lazy("Dossier %(code)s: the result was returned"),
}
SMS = {
    Status.SUBMITTED: gettext_lazy("Dossier %(code)s was submitted and is awaiting acceptance."),
    Status.ACCEPTED: gettext_lazy("Dossier %(code)s was accepted."),
    Status.REFUSED: gettext_lazy("Your dossier was not accepted. Reasons: %(reasons)s"),
    Status.IN_PROCESS: gettext_lazy("Dossier %(code)s is being processed."),
    Status.WAITING_SUPPLEMENT: gettext_lazy("Dossier %(code)s: additional documents are requested."),
    Status.WAITING_PAYMENT: gettext_lazy("Dossier %(code)s: a payment is requested."),
    Status.WITHDRAWN: gettext_lazy("Dossier %(code)s was withdrawn at your request."),
    Status.STOPPED: gettext_lazy("Processing of dossier %(code)s was stopped."),
    Status.RESOLVED: gettext_lazy("The result of dossier %(code)s is ready."),
    Status.RETURNED: gettext_lazy("The result of dossier %(code)s was returned. Thank you."),
}
# The notice whose items or reasons a message repeats (the latest one of its kind).
NOTICE_KINDS = {
    Status.WAITING_SUPPLEMENT: Notice.Kind.SUPPLEMENT,
    Status.WAITING_PAYMENT: Notice.Kind.PAYMENT,
    Status.WITHDRAWN: Notice.Kind.STOP,
    Status.STOPPED: Notice.Kind.REFUSAL,
}


# --- Addresses and links --------------------------------------------------------------------------------------------


def lookup_url(code: str) -> str:
    """The public lookup page (portal ``tra-cuu/<code>/``), as printed in the receipt's QR code."""
    return f"{settings.SITE_URL}/tra-cuu/{code}/"


def account_dossier_url(code: str) -> str:
    """The dossier's page in its citizen's account ("Hồ sơ của tôi"), where requests are answered."""
    return f"{settings.SITE_URL}/ho-so-cua-toi/{code}/"


def qr_png(data: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def _email(value: str) -> str:
    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def _phone(value: str) -> str:
    value = re.sub(r"[\s.()-]", "", value or "")
    return value if _PHONE.match(value) else ""


def contacts(*, dossier: Dossier) -> tuple[str, str]:
    """(email, phone) to write to: the citizen account's, else what the applicant gave; "" when none is usable."""
    email, phone = "", ""
    if dossier.citizen_id is not None:
        profile = Citizen.objects.filter(user_id=dossier.citizen_id).values("email", "phone").first()
        if profile:
            email, phone = _email(profile["email"]), _phone(profile["phone"])
    return email or _email(dossier.applicant_email), phone or _phone(dossier.applicant_phone)


def _when(moment: Any) -> str:
    local = timezone.localtime(moment, VIETNAM)
    return _("%(time)s on %(date)s") % {"time": f"{local:%H:%M}", "date": f"{local:%d/%m/%Y}"}


# --- Recording (inside the status change's transaction) -------------------------------------------------------------


def _context(dossier: Dossier, status: int) -> dict[str, Any]:
    code = dossier.code or ""
    account = dossier.citizen_id is not None and bool(code)
    notice = None
    if status in NOTICE_KINDS:
        notice = Notice.objects.filter(dossier=dossier, kind=NOTICE_KINDS[status]).order_by("-issued_at", "-id").first()
    reasons = (notice.reason if notice else "") or (
        dossier.refusal_reasons if status in (Status.REFUSED, Status.STOPPED) else ""
    )
    return {
        "status": status,
        "name": dossier.organisation_name or dossier.applicant_name,
        "code": code,
        "procedure": dossier.procedure.name,
        "agency": dossier.agency.name,
        "counter_agency": dossier.public_receiving_agency or dossier.agency.name,
        "appointment": _when(dossier.appointment_at) if dossier.appointment_at else "",
        "lookup_url": lookup_url(code) if code else "",
        # Pages of the citizen's account: only an applicant with an account can open them.
        "receipt_url": f"{account_dossier_url(code)}giay-tiep-nhan.pdf" if account else "",
        "dossier_url": account_dossier_url(code) if account else "",
        "rate_url": f"{account_dossier_url(code)}danh-gia/" if account else "",
        "items": notice.items if notice else [],
        "reasons": reasons,
        "contact": notice.contact if notice else "",
        "delivery": dossier.delivery,
        "delivery_address": dossier.delivery_address,
        "ONLINE": Delivery.ONLINE,
        "POST": Delivery.POST,
        "province": settings.PROVINCE_NAME,
    }


def _tidy(text: str) -> str:
    """Template output as a plain-text email: no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _sms(context: dict[str, Any]) -> str:
    values = {"code": context["code"], "reasons": context["reasons"] or "-", "procedure": context["procedure"]}
    text = str(SMS[context["status"]]) % values
    if context["status"] in (Status.ACCEPTED, Status.IN_PROCESS) and context["appointment"]:
        text = _("%(message)s Result appointment: %(appointment)s.") % {
            "message": text,
            "appointment": context["appointment"],
        }
    return sms_text(_("%(province)s public services: %(text)s") % {"province": context["province"], "text": text})


def citizen_messages_record(*, dossier: Dossier, event: Event) -> list[CitizenMessage]:
    """The messages an event owes the applicant, written in the caller's transaction (event_record's): one email
    and one SMS when the event changed the dossier's status and the applicant can be reached that way."""
    status = event.status_to
    if status is None or event.status_from == status or status not in SUBJECTS:
        return []
    if dossier.source_system:
        return []  # handled on a ministry's system, which notifies its applicants itself
    email, phone = contacts(dossier=dossier)
    if not email and not phone:
        return []
    language = dossier.language if dossier.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    messages = []
    with translation.override(language):
        context = _context(dossier, status)
        common = {"dossier": dossier, "event": event, "language": language}
        if email:
            subject = str(SUBJECTS[status]) % {"code": context["code"], "procedure": context["procedure"]}
            body = _tidy(render_to_string("notify/email.txt", context))
            messages.append(
                CitizenMessage(channel=Channel.EMAIL, recipient=email, subject=subject[:255], body=body, **common)
            )
        if phone:
            messages.append(CitizenMessage(channel=Channel.SMS, recipient=phone, body=_sms(context), **common))
    created = CitizenMessage.objects.bulk_create(messages)
    ids = [m.pk for m in created]
    transaction.on_commit(lambda: citizen_messages_kick(ids=ids))
    return created


def citizen_messages_kick(*, ids: list[int]) -> None:
    """Ask a worker to send these messages now (after the commit). Only a hint: the beat sweep sends them anyway
    if the broker is down."""
    if not settings.CITIZEN_MESSAGES_KICK_ENABLED or not ids:
        return
    try:
        from .tasks import citizen_messages_send

        citizen_messages_send.apply_async(kwargs={"ids": ids})
    except Exception:
        log.warning("citizen messages: could not ask a worker to send now; the periodic sweep will", exc_info=True)


# --- Delivery (on a worker) -----------------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0  # gave up in this run (state "failed")


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base · 2^(attempts-1), at most the cap, ±20%."""
    base, cap = settings.CITIZEN_MESSAGES_BACKOFF_BASE, settings.CITIZEN_MESSAGES_BACKOFF_MAX
    return min(base * 2 ** max(attempts - 1, 0), cap) * random.uniform(0.8, 1.2)  # noqa: S311 - not security


def email_message(message: CitizenMessage, *, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
    """The email of a recorded message: its text, the same as simple HTML, and on acceptance the lookup QR code."""
    code = message.dossier.code or ""
    qr = qr_png(lookup_url(code)) if code and message.event.status_to == Status.ACCEPTED else None
    with translation.override(message.language):
        html = render_to_string(
            "notify/email.html",
            {
                "message": message,
                "text": message.body.strip(),
                "code": code,
                "qr_cid": QR_CONTENT_ID if qr else "",
                "province": settings.PROVINCE_NAME,
            },
        )
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        connection=connection,
        # Auto-Submitted (RFC 3834): out-of-office replies and the like are not sent back to us.
        headers={
            "Message-ID": make_msgid(idstring=f"m{message.pk}", domain=domain),
            "Auto-Submitted": "auto-generated",
        },
    )
    email.attach_alternative(html, "text/html")
    if qr is not None:
        image = MIMEImage(qr, "png")
        image.add_header("Content-ID", f"<{QR_CONTENT_ID}>")
        image.add_header("Content-Disposition", "inline", filename=f"ma-qr-{code}.png")
        email.attach(image)
    return email


class _Senders:
    """The mail connection (opened once per run, reopened after a failure) and the SMS backend of one run."""

    def __init__(self) -> None:
        self.mail: BaseEmailBackend | None = None
        self.sms: SmsBackend | None = None

    def send(self, message: CitizenMessage) -> str:
        if message.channel == Channel.SMS:
            self.sms = self.sms or sms_backend()
            return self.sms.send(phone=message.recipient, text=message.body)
        if self.mail is None:
            self.mail = get_connection(fail_silently=False)
            self.mail.open()
        email = email_message(message, connection=self.mail)
        try:
            email.send()
        except Exception:
            self.close()  # the connection may be broken: the next message opens a new one
            raise
        return str(email.extra_headers["Message-ID"])

    def close(self) -> None:
        if self.mail is not None:
            try:
                self.mail.close()
            except Exception:
                log.debug("citizen messages: closing the mail connection failed", exc_info=True)
            self.mail = None


def _next(ids: list[int] | None) -> CitizenMessage | None:
    due = CitizenMessage.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        state=State.PENDING, next_attempt_at__lte=timezone.now()
    )
    if ids is not None:
        due = due.filter(id__in=ids)
    return due.select_related("dossier", "event").order_by("next_attempt_at", "id").first()


def citizen_messages_deliver(*, ids: list[int] | None = None, limit: int | None = None) -> DeliveryReport:
    """Send due pending messages (only ``ids`` when given), at most ``limit``; each in its own transaction."""
    report = DeliveryReport()
    senders = _Senders()
    try:
        for _turn in range(limit or settings.CITIZEN_MESSAGES_BATCH):
            with transaction.atomic():
                message = _next(ids)
                if message is None:
                    break
                message.attempts += 1
                try:
                    message.provider_id = senders.send(message)[:255]
                except Exception as exc:  # noqa: BLE001 - any failure of the outside system is retried
                    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    if message.attempts >= settings.CITIZEN_MESSAGES_MAX_ATTEMPTS:
                        message.state = State.FAILED
                        report.failed += 1
                        log.error("citizen message #%s failed for good: %s", message.pk, message.last_error)
                    else:
                        delay = dt.timedelta(seconds=backoff_seconds(message.attempts))
                        message.next_attempt_at = timezone.now() + delay
                        report.retrying += 1
                        log.warning("citizen message #%s will be retried: %s", message.pk, message.last_error)
                else:
                    message.state = State.SENT
                    message.sent_at = timezone.now()
                    message.last_error = ""
                    report.sent += 1
                message.save(
                    update_fields=["attempts", "provider_id", "last_error", "state", "next_attempt_at", "sent_at"]
                )
    finally:
        senders.close()
    return report
