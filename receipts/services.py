"""The forms the one-stop counter issues (DOMAIN.md "Forms the one-stop counter issues"), as HTML and PDF.

Each form is one template that is both the printable HTML page and the source of the PDF. Forms about one dossier
are rendered in the applicant's language; dates are always Vietnam time, whatever zone is active for the request.
"""

import base64
import datetime as dt
import enum
import io
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import qrcode
import qrcode.constants
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, numberformat, timezone, translation
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from dossiers.models import INTERNAL_ACTIONS, Delivery, Dossier, Event, Notice
from dossiers.selectors import events_of
from organizations.models import Agency, Staff
from organizations.selectors import agency_name_on
from procedures.models import Field

# Legal time of the forms: a receipt printed for an officer whose browser sits elsewhere still shows Vietnam time.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# The administrative-unit prefixes dropped from the place name of the date line (Nghị định 30/2020/NĐ-CP,
# Phụ lục I: the place is the unit's proper name, "Long Xuyên, ngày …", unless the name is a number).
_UNIT_PREFIXES = ("thành phố ", "tỉnh ", "đặc khu ", "phường ", "xã ", "thị trấn ")

_local = threading.local()


# --- QR code of the public lookup -------------------------------------------------------------------------------


def lookup_url(code: str) -> str:
    """The public lookup address of a dossier (portal ``tra-cuu/<code>/``), printed as the form's QR code."""
    return f"{settings.SITE_URL}/tra-cuu/{code}/"


@lru_cache(maxsize=512)
def _qr_png_data_uri(data: str) -> str:
    # Keyed by the whole URL, so a changed SITE_URL never serves a stale image.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def lookup_qr_data_uri(code: str) -> str:
    """The QR code of ``lookup_url(code)`` as a PNG data URI (the PDF needs no network to embed it)."""
    return _qr_png_data_uri(lookup_url(code))


# --- PDF ----------------------------------------------------------------------------------------------------------


def _font_config() -> FontConfiguration:
    # Building a FontConfiguration loads the system's fontconfig setup (tens of milliseconds); WeasyPrint would
    # build one per document. One per thread, because Pango font maps are not thread-safe.
    config = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


def _pdf(html: str) -> bytes:
    # The templates reference nothing external (inline CSS, data-URI images), so base_url never causes a fetch.
    return HTML(string=html, base_url=settings.SITE_URL).write_pdf(font_config=_font_config())


def form1_pdf_from_html(html: str) -> bytes:
    """The PDF of an already rendered form-1 HTML (``form1_html``); also what the benchmark times."""
    return _pdf(html)


# --- Shared pieces ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """A point in time as the forms print it, in Vietnam time."""

    hour: str
    minute: str
    day: str
    month: str
    year: str

    @property
    def date(self) -> str:
        return f"{self.day}/{self.month}/{self.year}"

    @property
    def time(self) -> str:
        return f"{self.hour}:{self.minute}"

    @property
    def short(self) -> str:
        return f"{self.time} {self.date}"

    @property
    def long(self) -> str:
        # Translators: a time on a form; Vietnamese "%(hour)s giờ %(minute)s phút, ngày %(day)s tháng …".
        return _("%(hour)s:%(minute)s on %(day)s/%(month)s/%(year)s") % self.__dict__


def _moment(value: dt.datetime | None) -> Moment | None:
    if value is None:
        return None
    local = timezone.localtime(value, VIETNAM)
    return Moment(f"{local:%H}", f"{local:%M}", f"{local:%d}", f"{local:%m}", f"{local:%Y}")


def _day(value: dt.date) -> Moment:
    return Moment("", "", f"{value:%d}", f"{value:%m}", f"{value:%Y}")


def _place(agency: Agency) -> str:
    name = agency.unit.name
    for prefix in _UNIT_PREFIXES:
        rest = name[len(prefix) :]
        if name.lower().startswith(prefix) and rest and not rest.isdigit():
            return rest
    return name


def _place_date(agency: Agency, value: dt.datetime | dt.date | None) -> str:
    if value is None:
        value = timezone.now()
    day = timezone.localdate(value, VIETNAM) if isinstance(value, dt.datetime) else value
    # Translators: the place and date line under the national motto; Vietnamese
    # "%(place)s, ngày %(day)s tháng %(month)s năm %(year)s".
    return _("%(place)s, %(day)s/%(month)s/%(year)s") % {
        "place": _place(agency),
        "day": f"{day:%d}",
        "month": f"{day:%m}",
        "year": f"{day:%Y}",
    }


def _header(
    agency: Agency, *, number: str = "", date: dt.datetime | dt.date | None = None, historical: bool = False
) -> dict[str, str]:
    """The agency block (its superior on top, the agency in bold) and the national motto block. ``historical``: the
    agency's name on ``date`` (a form of that day is printed again as it was, after a rename)."""
    name = agency.name
    if historical and date is not None:
        day = timezone.localdate(date, VIETNAM) if isinstance(date, dt.datetime) else date
        name, _identifier = agency_name_on(agency=agency, day=day)
    return {
        "superior": agency.parent.name if agency.parent_id else "",  # type: ignore[union-attr]
        "agency": name,
        "number": number,
        "place_date": _place_date(agency, date),
    }


def _amount(value: int) -> str:
    # Django's vi locale sets no NUMBER_GROUPING, so thousands are grouped by hand: "8.000" (vi), "8,000" (en).
    return numberformat.format(
        value,
        formats.get_format("DECIMAL_SEPARATOR"),
        grouping=3,
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )


def _duration(dossier: Dossier) -> str:
    value = dossier.processing_time
    number = formats.number_format(value if value % 1 else int(value), use_l10n=True)
    return f"{number} {dossier.get_time_unit_display()}"


def _receiving_unit(dossier: Dossier) -> str:
    if dossier.original_counter_id:  # received at a counter a reorganisation closed since
        return dossier.original_counter.name  # type: ignore[union-attr]
    if dossier.counter_id:
        return dossier.counter.name  # type: ignore[union-attr]
    return _("The one-stop counter")


def _delivery(dossier: Dossier) -> str:
    if dossier.delivery == Delivery.POST:
        return _("By public postal service, to %(address)s") % {"address": dossier.delivery_address}
    if dossier.delivery == Delivery.ONLINE:
        return _("Online (electronic result)")
    return _("At %(place)s") % {"place": _receiving_unit(dossier)}


def _officer_name(dossier: Dossier) -> str:
    user = dossier.received_by
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _applicant(dossier: Dossier) -> dict[str, str]:
    return {
        "name": dossier.applicant_name,
        "id_number": dossier.applicant_id_number,
        "organisation_name": dossier.organisation_name,
        "organisation_code": dossier.organisation_code,
        "address": ", ".join(
            part for part in (dossier.applicant_address, getattr(dossier.applicant_commune, "name", "")) if part
        ),
        "phone": dossier.applicant_phone,
        "email": dossier.applicant_email,
        "representative_name": dossier.representative_name,
        "representative_id_number": dossier.representative_id_number,
        "representative_phone": dossier.representative_phone,
        "representative_authorisation": dossier.representative_authorisation,
    }


def _qr(dossier: Dossier) -> dict[str, str]:
    if not dossier.code:
        return {}
    return {"url": lookup_url(dossier.code), "image": lookup_qr_data_uri(dossier.code)}


def _in_language(language: str, build: Callable[[], dict[str, Any]], template: str) -> str:
    # The context holds translated text (dates, labels of choices), so it is built inside the override too.
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        return render_to_string(f"receipts/{template}", build())


# --- Form 1: receipt and appointment ------------------------------------------------------------------------------


def _form1_context(dossier: Dossier) -> dict[str, Any]:
    number = ""
    if dossier.register_number is not None:
        number = f"{dossier.register_number}/{dossier.register_volume}"
    return {
        "dossier": dossier,
        # The agency it was received for, as named that day (a reorganisation may have moved or renamed it since).
        "header": _header(
            dossier.original_agency or dossier.agency, number=number, date=dossier.received_at, historical=True
        ),
        "qr": _qr(dossier),
        "receiving_unit": _receiving_unit(dossier),
        "applicant": _applicant(dossier),
        "documents": list(dossier.documents.all()),
        "fees": [{"name": fee.name, "amount": _amount(fee.amount), "paid": fee.paid} for fee in dossier.fees.all()],
        "duration": _duration(dossier),
        "received": _moment(dossier.received_at),
        "appointment": _moment(dossier.appointment_at),
        "delivery": _delivery(dossier),
        "officer_name": _officer_name(dossier),
        "copies": (1, 2),
    }


def form1_html(*, dossier: Dossier) -> str:
    """Form 1, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả": two copies, one per A4 page."""
    return _in_language(dossier.language, lambda: _form1_context(dossier), "form1.html")


def form1_pdf(*, dossier: Dossier) -> bytes:
    return form1_pdf_from_html(form1_html(dossier=dossier))


# --- Form 3: refusal at intake ------------------------------------------------------------------------------------


def _reasons(text: str) -> list[str]:
    return [line.strip(" \t-•") for line in text.splitlines() if line.strip(" \t-•")]


def _form3_context(dossier: Dossier) -> dict[str, Any]:
    return {
        "dossier": dossier,
        "header": _header(dossier.original_agency or dossier.agency, date=dossier.received_at, historical=True),
        "qr": _qr(dossier),
        "receiving_unit": _receiving_unit(dossier),
        "applicant": _applicant(dossier),
        "reasons": _reasons(dossier.refusal_reasons),
        "officer_name": _officer_name(dossier),
    }


def form3_html(*, dossier: Dossier) -> str:
    """Form 3, "Phiếu từ chối tiếp nhận giải quyết hồ sơ": the specific reasons, one per line of the refusal."""
    return _in_language(dossier.language, lambda: _form3_context(dossier), "form3.html")


def form3_pdf(*, dossier: Dossier) -> bytes:
    return _pdf(form3_html(dossier=dossier))


# --- Notices issued while processing: forms 2, 4, 5 and the refusal to resolve -----------------------------------

# One template per kind; a payment request is form 2 with its own title and wording.
_NOTICE_TEMPLATES = {
    Notice.Kind.SUPPLEMENT: "form2.html",
    Notice.Kind.PAYMENT: "form2.html",
    Notice.Kind.APOLOGY: "form4.html",
    Notice.Kind.STOP: "form5.html",
    Notice.Kind.REFUSAL: "notice_refusal.html",
}


def _staff_name(staff: Staff) -> str:
    return staff.user.get_full_name() or staff.user.get_username()


def _notice_context(notice: Notice) -> dict[str, Any]:
    dossier = notice.dossier
    issuer = notice.issued_by
    issuer_name = _staff_name(issuer)
    contact = notice.contact.strip() or issuer_name
    # The issuing officer's phone is printed only beside their own name, never beside another contact person's.
    contact_phone = issuer.phone if contact == issuer_name else ""
    lines = [item.strip() for item in notice.items if item.strip()]
    old_appointment = notice.old_appointment_at or dossier.original_appointment_at or dossier.appointment_at
    return {
        "notice": notice,
        "dossier": dossier,
        # The agency that issues the notice (the officer's), which may not be the one that received the dossier.
        "header": _header(issuer.agency, date=notice.issued_at),
        "agency_name": issuer.agency.name,
        "qr": _qr(dossier),
        "receiving_unit": _receiving_unit(dossier),
        "applicant": _applicant(dossier),
        "payment": notice.kind == Notice.Kind.PAYMENT,
        "items": lines,
        "reason": notice.reason.strip(),
        # A refusal lists its reasons: the items if any, else one per line of the reason.
        "reasons": lines or _reasons(notice.reason),
        "contact": contact,
        "contact_phone": contact_phone,
        "received": _moment(dossier.received_at),
        "old_appointment": _moment(old_appointment),
        "new_appointment": _moment(notice.new_appointment_at),
        "issued": _moment(notice.issued_at),
        "issuer_name": issuer_name,
    }


def notice_html(*, notice: Notice) -> str:
    """A notice to the applicant, by its kind: form 2 "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ" (supplement; a
    payment request is form 2 titled "Thông báo thực hiện nghĩa vụ tài chính"), form 4 "Phiếu xin lỗi và đề nghị
    gia hạn thời gian giải quyết" (apology), form 5 "Thông báo dừng giải quyết hồ sơ" (stop), or "Thông báo từ chối
    giải quyết hồ sơ" (refusal). In the applicant's language.

    Reads the notice's dossier (with its procedure, agency, counter, commune) and issuing officer (with user and
    agency's parent and unit): select them with the notice, as ``dossiers.selectors.notice_for_dossier`` does.
    """
    template = _NOTICE_TEMPLATES.get(notice.kind)
    if template is None:
        raise ValueError(f"No form for notices of kind {notice.kind!r}.")
    return _in_language(notice.dossier.language, lambda: _notice_context(notice), template)


def notice_pdf(*, notice: Notice) -> bytes:
    return _pdf(notice_html(notice=notice))


# --- Form 6: control sheet ----------------------------------------------------------------------------------------


class Timeliness(enum.StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


def timeliness(*, at: dt.datetime, appointment: dt.datetime | None) -> Timeliness | None:
    """Early / on time / late of a hand-over against the appointment.

    As the quality index counts it: done on a day before the appointment's day is early, on that day and not after
    the appointed hour is on time, anything after the appointed hour is late.
    """
    if appointment is None:
        return None
    if at > appointment:
        return Timeliness.LATE
    if timezone.localtime(at, VIETNAM).date() < timezone.localtime(appointment, VIETNAM).date():
        return Timeliness.EARLY
    return Timeliness.ON_TIME


def _timeliness_label(value: str | None) -> str:
    return {
        Timeliness.EARLY: _("Early"),
        Timeliness.ON_TIME: _("On time"),
        Timeliness.LATE: _("Late"),
    }.get(value or "", "")


@dataclass(frozen=True)
class HandOver:
    """One row of form 6."""

    number: int
    from_unit: str
    to_unit: str
    at: Moment
    result: str
    result_label: str
    note: str


def hand_overs(*, dossier: Dossier, events: Sequence[Event]) -> list[HandOver]:
    """Form 6's rows from the event log: who handed the dossier to whom, when, and whether in time.

    The receiving side is the step the event moved to when recorded, else the unit of the next event.
    """
    # Taking a task, assigning it, re-appointing or recording the result do not hand the dossier over.
    events = [e for e in events if e.action not in INTERNAL_ACTIONS | {"apologise", "record_result"}]
    rows = []
    for index, event in enumerate(events):
        following = events[index + 1] if index + 1 < len(events) else None
        result = timeliness(at=event.at, appointment=dossier.appointment_at)
        rows.append(
            HandOver(
                number=index + 1,
                from_unit=event.step_from or event.unit_name,
                to_unit=event.step_to or (following.unit_name if following else ""),
                at=_moment(event.at),  # type: ignore[arg-type]
                result=result or "",
                result_label=_timeliness_label(result),
                note=event.note,
            )
        )
    return rows


def _form6_context(dossier: Dossier) -> dict[str, Any]:
    events = list(events_of(dossier=dossier))
    return {
        "dossier": dossier,
        "header": _header(dossier.agency, date=timezone.now()),
        "qr": _qr(dossier),
        "applicant": _applicant(dossier),
        "receiving_unit": _receiving_unit(dossier),
        "departments": dossier.public_departments,
        "received": _moment(dossier.received_at),
        "appointment": _moment(dossier.appointment_at),
        "rows": hand_overs(dossier=dossier, events=events),
    }


def form6_html(*, dossier: Dossier) -> str:
    """Form 6, "Phiếu kiểm soát quá trình giải quyết hồ sơ", filled from the event log."""
    return _in_language(dossier.language, lambda: _form6_context(dossier), "form6.html")


def form6_pdf(*, dossier: Dossier) -> bytes:
    return _pdf(form6_html(dossier=dossier))


# --- Form 7: register ---------------------------------------------------------------------------------------------


def _register_row(number: int, dossier: Dossier) -> dict[str, Any]:
    contact = ", ".join(part for part in (dossier.applicant_address, dossier.applicant_phone) if part)
    return {
        "number": number,
        "code": dossier.code or "",
        "procedure": dossier.procedure.name,
        "applicant": dossier.organisation_name or dossier.applicant_name,
        "person": dossier.applicant_name if dossier.organisation_name else "",
        "contact": contact,
        "agency": dossier.agency.name,
        "received": _moment(dossier.received_at),
        "appointment": _moment(dossier.appointment_at),
        "returned": _moment(dossier.returned_at),
        "delivery": dossier.get_delivery_display(),
    }


def form7_html(
    *,
    agency: Agency,
    field: Field,
    start: dt.date,
    end: dt.date,
    dossiers: Iterable[Dossier],
    language: str = "vi",
) -> str:
    """Form 7, "Sổ theo dõi hồ sơ" of one field and period; ``dossiers`` in register order (selects procedure and
    agency with them: ``dossiers.selectors.register_entries`` does)."""

    def build() -> dict[str, Any]:
        return {
            "header": _header(agency, date=timezone.now()),
            "field": field,
            "start": _day(start),
            "end": _day(end),
            "rows": [_register_row(number, dossier) for number, dossier in enumerate(dossiers, start=1)],
        }

    return _in_language(language, build, "form7.html")


def form7_pdf(
    *,
    agency: Agency,
    field: Field,
    start: dt.date,
    end: dt.date,
    dossiers: Iterable[Dossier],
    language: str = "vi",
) -> bytes:
    return _pdf(form7_html(agency=agency, field=field, start=start, end=end, dossiers=dossiers, language=language))
