"""Inbound updates: ministries' systems push the progress and results of the dossiers they handle.

Protocol (docs/inbound-api.md): each request carries the system's API key (``X-Api-Key``), the Unix time it was
signed (``X-Timestamp``) and ``X-Signature`` = hex HMAC-SHA256, keyed with the system's secret, of
``"<timestamp>." + body``. A request is accepted only within INBOUND_MAX_SKEW_SECONDS of our clock and only once
per signature; a repeat under the same ``Idempotency-Key`` (re-signed) gets the first answer again.
"""

import datetime as dt
import hashlib
import hmac
import re
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, PermissionDenied, ValidationFailed
from dossiers.external import ExternalRecord, Progress, dossier_external_upsert
from dossiers.models import CODE_PATTERN, ApplicantType, Channel, Status
from organizations.models import Agency
from procedures.models import Procedure

from .models import InboundReceipt, InboundSystem

# The national portal's dates: yyyyMMddHHmmss in Vietnam time, whatever the server's zone.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DATE_FORMAT = "%Y%m%d%H%M%S"
MAX_PROGRESS = 1000
_DIGITS = re.compile(r"^\d{1,12}$")


class Unauthenticated(PermissionDenied):
    """The request does not prove which system sent it (HTTP 401)."""

    code = "unauthenticated"
    status = 401


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Signature`` of a request: hex HMAC-SHA256 of ``"<timestamp>." + body`` keyed with the secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(*, key_id: str, timestamp: str, signature: str, body: bytes, now: dt.datetime) -> InboundSystem:
    """The active system that signed this request, or Unauthenticated (``unknown_key``, ``bad_signature``,
    ``stale_timestamp``) or Conflict (``replayed``: a signature already accepted)."""
    system = InboundSystem.objects.filter(key_id=key_id, is_active=True).first() if key_id else None
    if system is None:
        raise Unauthenticated(_("Unknown or inactive API key."), code="unknown_key")
    expected = sign(system.secret, timestamp, body).encode()
    if not signature or not hmac.compare_digest(expected, signature.encode()):
        raise Unauthenticated(_("The signature does not match the request."), code="bad_signature")
    skew = settings.INBOUND_MAX_SKEW_SECONDS
    if not _DIGITS.match(timestamp or "") or abs(now.timestamp() - int(timestamp)) > skew:
        raise Unauthenticated(
            _("The timestamp must be the current Unix time in seconds (within %(skew)s seconds).") % {"skew": skew},
            code="stale_timestamp",
        )
    if InboundReceipt.objects.filter(system=system, signature=signature).exists():
        raise Conflict(_("This request was already received: sign it again to repeat it."), code="replayed")
    return system


def _lock(name: str) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])


@transaction.atomic
def inbound_apply(
    *, system: InboundSystem, payload: Any, idempotency_key: str, body_hash: str, signature: str = ""
) -> dict[str, Any]:
    """Apply one verified update and keep its receipt, in one transaction; the answer of an update already
    applied under this idempotency key with the same body is returned again and nothing changes.

    ValidationFailed ({field: [messages]}) for a bad payload, Conflict for a key reused with another body, a
    replayed signature, or a dossier this system may not update."""
    signature = signature or idempotency_key
    # Concurrent repeats of one request queue here, so the second sees the first's receipt.
    _lock(f"inbound:{system.pk}:{idempotency_key}")
    if InboundReceipt.objects.filter(system=system, signature=signature).exists():
        raise Conflict(_("This request was already received: sign it again to repeat it."), code="replayed")
    previous = InboundReceipt.objects.filter(system=system, idempotency_key=idempotency_key).first()
    if previous is not None:
        if previous.body_sha256 == body_hash:
            return previous.answer
        raise Conflict(_("This Idempotency-Key was already used for another request."), code="idempotency_key_reused")
    record = record_from_payload(system=system, payload=payload)
    dossier, created, events_added = dossier_external_upsert(system_code=system.code, record=record)
    answer = {"ma_ho_so": dossier.code, "created": created, "events_added": events_added}
    try:
        with transaction.atomic():
            InboundReceipt.objects.create(
                system=system,
                idempotency_key=idempotency_key,
                signature=signature,
                body_sha256=body_hash,
                dossier_code=dossier.code,
                payload=payload,
                answer=answer,
            )
    except IntegrityError:
        # The same signature under another Idempotency-Key (the header is not signed), sent concurrently.
        raise Conflict(_("This request was already received: sign it again to repeat it."), code="replayed") from None
    return answer


class _Errors(dict[str, list[str]]):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)


def _text(data: dict[str, Any], name: str, errors: _Errors, *, required: bool = False, limit: int = 255) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, _("This field is required."))
        return ""
    if not isinstance(value, str):
        errors.add(name, _("Must be a string."))
        return ""
    value = value.strip()
    if required and not value:
        errors.add(name, _("This field is required."))
    if len(value) > limit:
        errors.add(name, _("At most %(limit)s characters.") % {"limit": limit})
    return value


def _date(data: dict[str, Any], name: str, errors: _Errors, *, required: bool = False) -> dt.datetime | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, _("This field is required."))
        return None
    try:
        if isinstance(value, bool) or not re.fullmatch(r"\d{14}", str(value)):
            raise ValueError
        return dt.datetime.strptime(str(value), DATE_FORMAT).replace(tzinfo=VIETNAM)
    except ValueError:
        errors.add(name, _("A date as yyyyMMddHHmmss (Vietnam time) is required."))
        return None


def _choice(data: dict[str, Any], name: str, errors: _Errors, choices: list[int], default: int | None = None) -> int:
    value = data.get(name)
    if value is None or value == "":
        if default is None:
            errors.add(name, _("This field is required."))
            return 0
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in choices:
        errors.add(name, _("One of %(choices)s.") % {"choices": ", ".join(map(str, choices))})
        return 0
    return value


def _agency(*, code: str, unit: str, system: InboundSystem, errors: _Errors) -> Agency | None:
    """The competent agency: the one whose electronic identifier starts the code, else DonViXuLy (an identifier
    or the exact name of an agency); and this system must be allowed to report for it."""
    field = "MaHoSo"
    agency = Agency.objects.filter(identifier=code.split("-", 1)[0]).first()
    if agency is None and unit:
        field = "DonViXuLy"
        agency = Agency.objects.filter(identifier=unit).first()
        if agency is None:
            named = list(Agency.objects.filter(name=unit)[:2])
            agency = named[0] if len(named) == 1 else None
    if agency is None:
        errors.add(
            "DonViXuLy",
            _("No agency of the province has the identifier that starts the code, nor is DonViXuLy one of them."),
        )
        return None
    if system.agencies.exists() and not system.agencies.filter(pk=agency.pk).exists():
        errors.add(field, _("This system may not report dossiers of %(agency)s.") % {"agency": agency.name})
        return None
    return agency


def _progress(value: Any, errors: _Errors) -> list[Progress]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add("QuaTrinhXuLy", _("Must be a list."))
        return []
    if len(value) > MAX_PROGRESS:
        errors.add("QuaTrinhXuLy", _("At most %(limit)s entries.") % {"limit": MAX_PROGRESS})
        return []
    entries = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            errors.add(f"QuaTrinhXuLy[{i}]", _("Must be an object."))
            continue
        found = _Errors()
        at = _date(item, "ThoiDiemXuLy", found, required=True)
        status = _choice(item, "TrangThai", found, Status.values)
        note = _text(item, "NoiDungXuLy", found, limit=4000)
        unit = _text(item, "PhongBanXuLy", found)
        officer = _text(item, "NguoiXuLy", found)
        title = _text(item, "ChucDanh", found)
        for name, messages in found.items():
            errors[f"QuaTrinhXuLy[{i}].{name}"] = messages
        if not found and at is not None:
            officer = ", ".join(part for part in (officer, title) if part)
            entries.append(Progress(at=at, status=status, note=note, unit=unit, officer=officer))
    return entries


def record_from_payload(*, system: InboundSystem, payload: Any) -> ExternalRecord:
    """The payload (the national portal's field names) checked and resolved, or ValidationFailed naming every
    field that is wrong."""
    if not isinstance(payload, dict):
        raise ValidationFailed(_("The body must be a JSON object."), detail={"body": [_("Must be a JSON object.")]})
    errors = _Errors()
    code = _text(payload, "MaHoSo", errors, required=True, limit=60)
    if code and not CODE_PATTERN.match(code):
        errors.add("MaHoSo", _("Not a dossier code (<agency identifier>-YYMMDD-XXXX)."))
    procedure_code = _text(payload, "MaTTHC", errors, required=True, limit=30)
    procedure = Procedure.objects.filter(code=procedure_code).first() if procedure_code else None
    if procedure_code and procedure is None:
        errors.add("MaTTHC", _("No procedure has this code."))
    applicant = _text(payload, "ChuHoSo", errors, required=True)
    status = _choice(payload, "TrangThaiHoSo", errors, Status.values)
    channel = _choice(payload, "KenhThucHien", errors, Channel.values, default=Channel.DIRECT)
    applicant_type = _choice(payload, "LoaiDoiTuong", errors, ApplicantType.values, default=ApplicantType.CITIZEN)
    received = _date(payload, "NgayTiepNhan", errors, required=True)
    appointment = _date(payload, "NgayHenTra", errors)
    completed = _date(payload, "NgayKetThucXuLy", errors)
    returned = _date(payload, "NgayTra", errors)
    unit = _text(payload, "DonViXuLy", errors)
    progress = _progress(payload.get("QuaTrinhXuLy"), errors)
    results = payload.get("KetQua")
    if results is not None and (not isinstance(results, list) or not all(isinstance(r, dict) for r in results)):
        errors.add("KetQua", _("Must be a list of objects."))
    agency = None
    if code and "MaHoSo" not in errors:
        agency = _agency(code=code, unit=unit, system=system, errors=errors)
    if errors:
        raise ValidationFailed(_("The update was not applied: please correct the listed fields."), detail=dict(errors))
    assert procedure is not None and agency is not None and received is not None  # checked above
    return ExternalRecord(
        code=code,
        procedure=procedure,
        agency=agency,
        applicant_name=applicant,
        applicant_type=applicant_type,
        channel=channel,
        status=status,
        received_at=received,
        appointment_at=appointment,
        completed_at=completed,
        returned_at=returned,
        progress=tuple(progress),
    )
