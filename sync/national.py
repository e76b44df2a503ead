"""The national public-service portal (Cổng Dịch vụ công quốc gia): its messages and its client, behind one interface.

The field names, date format and status/channel codes follow what public vendor code shows of the portal's API
(docs/national-portal.md; DOMAIN.md marks them unverified). Everything that knows them is in this module: when the
official specification arrives, a new ``Portal`` implementation replaces ``JsonPortal`` through the
``NATIONAL_PORTAL_ADAPTER`` setting and nothing else changes.

Wire format of ``JsonPortal``: ``POST {base}/api/{service}`` with ``{"data": [item, ...]}`` and a bearer token; the
answer is ``{"error_code": "0", "message": ..., "data": [{"error_code", "message", <item key>}, ...]}``, one
answer per item in the order sent. ``error_code`` "0" is success; a repeated add is answered "đã tồn tại".
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from dossiers.models import Dossier, Event, Task
from procedures.models import Procedure

DATE_FORMAT = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss, Vietnam time

# Services (operations) of the portal.
ADD_DOSSIER = "DongBoHoSoMC"
UPDATE_DOSSIER = "CapNhatHoSoMC"
PROGRESS = "DongBoTienDoXuLy"
CATALOGUE = "DongBoTTHC"
QUERY_DOSSIERS = "TraCuuHoSo"
QUERY_PROCEDURES = "TraCuuTTHC"

SUCCESS = "0"


class PortalUnavailable(Exception):
    """The portal did not answer, refused the whole call, or answered something that is not its protocol."""


@dataclass(frozen=True)
class Answer:
    """The portal's answer to one item."""

    ok: bool
    exists: bool  # a repeated add: "already exists" (the caller sends it again as an update)
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"error_code": self.code, "message": self.message}


class Portal(Protocol):
    """What the sync needs of the national portal, whatever its wire format."""

    def send(self, service: str, items: Sequence[dict[str, Any]]) -> list[Answer]:
        """One call for many items; one Answer per item, in order. Raises PortalUnavailable."""

    def dossier_statuses(self, codes: Sequence[str]) -> dict[str, int | None]:
        """The status the portal holds for each code (None: it does not know the dossier)."""

    def procedure_states(self, codes: Sequence[str]) -> dict[str, str | None]:
        """The catalogue state the portal holds for each procedure code (None: unknown)."""


def _exists(message: str) -> bool:
    text = unicodedata.normalize("NFC", message or "").casefold()
    return "đã tồn tại" in text or "already exists" in text


class JsonPortal:
    """The portal's JSON API over HTTPS (keep-alive connection, bounded waits)."""

    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def _call(self, service: str, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            response = self.client.post(f"/api/{service}", json={"data": list(items)})
        except httpx.HTTPError as exc:
            raise PortalUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise PortalUnavailable(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise PortalUnavailable(f"not JSON: {response.text[:200]}") from exc
        if str(body.get("error_code")) != SUCCESS:
            raise PortalUnavailable(f"error_code {body.get('error_code')}: {body.get('message', '')}")
        answers = body.get("data")
        if not isinstance(answers, list) or len(answers) != len(items):
            raise PortalUnavailable(f"{len(items)} items sent, answers: {str(answers)[:200]}")
        return answers

    def send(self, service: str, items: Sequence[dict[str, Any]]) -> list[Answer]:
        if not items:
            return []
        answers = []
        for raw in self._call(service, items):
            code, message = str(raw.get("error_code", "")), str(raw.get("message", ""))
            answers.append(Answer(ok=code == SUCCESS, exists=code != SUCCESS and _exists(message), code=code,
                                  message=message))  # fmt: skip
        return answers

    def dossier_statuses(self, codes: Sequence[str]) -> dict[str, int | None]:
        found = self._call(QUERY_DOSSIERS, [{"MaHoSo": code} for code in codes]) if codes else []
        return {
            code: (int(raw["TrangThaiHoSo"]) if str(raw.get("error_code")) == SUCCESS else None)
            for code, raw in zip(codes, found, strict=True)
        }

    def procedure_states(self, codes: Sequence[str]) -> dict[str, str | None]:
        found = self._call(QUERY_PROCEDURES, [{"MaTTHC": code} for code in codes]) if codes else []
        return {
            code: (str(raw["TrangThai"]) if str(raw.get("error_code")) == SUCCESS else None)
            for code, raw in zip(codes, found, strict=True)
        }


@cache
def portal() -> Portal:
    """The configured adapter (one per process: it keeps its connection)."""
    adapter = import_string(settings.NATIONAL_PORTAL_ADAPTER)
    return adapter(settings.NATIONAL_PORTAL_URL, settings.NATIONAL_PORTAL_TOKEN, settings.NATIONAL_PORTAL_TIMEOUT)


# --- Messages ------------------------------------------------------------------------------------------------------


def national_date(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime(DATE_FORMAT) if value else ""


def parse_national_date(value: str) -> dt.datetime:
    """``yyyyMMddHHmmss`` in Vietnam time, as an aware datetime; ValueError when it is not one."""
    return timezone.make_aware(dt.datetime.strptime(value, DATE_FORMAT))


# KenhThucHien: 1 trực tiếp, 2 trực tuyến, 3 bưu chính (the portal's codes are ours: dossiers.models.Channel).
def dossier_message(dossier: Dossier) -> dict[str, Any]:
    """A dossier as the portal's add/update operations carry it (its latest state)."""
    procedure = dossier.procedure
    return {
        "MaHoSo": dossier.code or "",
        "MaTTHC": procedure.code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field.code,
        "KenhThucHien": dossier.channel,
        "ChuHoSo": dossier.organisation_name or dossier.applicant_name,
        "SoGiayToChuHoSo": dossier.organisation_code or dossier.applicant_id_number,
        "LoaiDoiTuong": dossier.applicant_type,
        "NgayTiepNhan": national_date(dossier.received_at or dossier.submitted_at),
        "NgayHenTra": national_date(dossier.appointment_at),
        "TrangThaiHoSo": dossier.status,
        "NgayKetThucXuLy": national_date(dossier.completed_at),
        "NgayTra": national_date(dossier.returned_at),
        "DonViXuLy": dossier.agency.identifier,
        "TaiLieuNop": [
            {"TenTepDinhKem": doc.name, "DuocSoHoa": bool(doc.file), "DuocTaiSuDung": False}
            for doc in dossier.documents.all()
        ],
        "DanhSachLePhi": [{"TenPhiLePhi": fee.name, "MucPhi": int(fee.amount)} for fee in dossier.fees.all()],
        "DanhSachGiayToKetQua": [],
        "DuocThanhToanTrucTuyen": False,
    }


def progress_message(event: Event, *, deadline: dt.datetime | None) -> dict[str, Any]:
    """One step of a dossier's handling (an event of its history) as a progress entry."""
    return {
        "MaHoSo": event.dossier.code or "",
        "NguoiXuLy": event.actor_name,
        "ChucDanh": "",
        "ThoiDiemXuLy": national_date(event.at),
        "PhongBanXuLy": event.unit_name,
        "NoiDungXuLy": event.note or event.step_to or event.action,
        "TrangThai": event.status_to,
        "NgayBatDau": national_date(event.at),
        "NgayKetThucTheoQuyDinh": national_date(deadline),
    }


def procedure_message(procedure: Procedure, *, closed: bool) -> dict[str, Any]:
    return {
        "MaTTHC": procedure.code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field.code,
        "CapThucHien": procedure.level,
        "ThoiHanGiaiQuyet": str(procedure.processing_time),
        "DonViThoiGian": procedure.time_unit,
        "MucDo": procedure.online_level,
        "TrangThai": "0" if closed else "1",
    }


def dossiers_for_messages(ids: Iterable[int]) -> dict[int, Dossier]:
    rows = (
        Dossier.objects.filter(pk__in=list(ids))
        .select_related("procedure__field", "agency")
        .prefetch_related("documents", "fees")
    )
    return {d.pk: d for d in rows}


def events_for_messages(ids: Iterable[int]) -> dict[int, tuple[Event, dt.datetime | None]]:
    """Events with the deadline of the step each one opened (the open or last task of that dossier then)."""
    events = list(Event.objects.filter(pk__in=list(ids)).select_related("dossier"))
    deadlines: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for dossier_id, entered, due in Task.objects.filter(dossier_id__in={e.dossier_id for e in events}).values_list(
        "dossier_id", "entered_at", "due_at"
    ):
        deadlines.setdefault(dossier_id, []).append((entered, due))
    found = {}
    for event in events:
        tasks = sorted(t for t in deadlines.get(event.dossier_id, []) if t[0] <= event.at)
        found[event.pk] = (event, tasks[-1][1] if tasks else event.dossier.appointment_at)
    return found


def procedures_for_messages(ids: Iterable[int]) -> dict[int, Procedure]:
    return {p.pk: p for p in Procedure.objects.filter(pk__in=list(ids)).select_related("field")}
