"""Catalogue import from an export of the national catalogue of procedures (JSON or XLSX).

The national catalogue (Cơ sở dữ liệu quốc gia về thủ tục hành chính) is authoritative for the procedures; the
province imports its export and every procedure the import creates, updates or closes is written to the outbox in
the same transaction, for the sync to the national portal. docs/catalogue-import.md documents the format; in short:

JSON: a list of procedures, or an object with the list under ``"data"``. One procedure::

    {
      "MaTTHC": "1.001193",                      national code (required)
      "TenTTHC": "Đăng ký khai sinh",            name (required)
      "CapThucHien": "Cấp Xã",                   "Cấp Tỉnh" | "Cấp Xã" (required)
      "LinhVuc": {"Ma": "ho_tich", "Ten": "Hộ tịch"},   field: found by code, else by name, else created (required)
      "ThoiHanGiaiQuyet": 8,                     statutory time, > 0, one decimal at most; "0,5" is read (required)
      "DonViThoiGian": "Giờ làm việc",           "Ngày làm việc" | "Giờ làm việc" (required)
      "MucDo": "Toàn trình",                     "Toàn trình" | "Một phần" | "Cung cấp thông tin" (required)
      "TrangThai": "Công bố",                    "Công bố" (default) | "Bãi bỏ": abolished, closed here
      "CoQuanThucHien": ["Ủy ban nhân dân cấp xã", {"MaDinhDanh": "000.00.03.H01", "Ten": "Sở Tư pháp"}],
      "DoiTuong": "Công dân Việt Nam",           applicants
      "CanCuPhapLy": ["Luật Hộ tịch số 60/2014/QH13", ...],   legal basis, one entry per text
      "TrinhTuThucHien": ["Bước 1: ...", ...],   steps
      "KetQua": "Giấy khai sinh",                result
      "BuuChinh": true,                          receipt and return by post allowed
      "ThanhPhanHoSo": [{"TenGiayTo": "...", "BatBuoc": true, "SoBanChinh": 1, "SoBanSao": 0, "MauDon": "..."}],
      "PhiLePhi": [{"TenPhi": "Lệ phí ...", "MucPhi": 8000, "GhiChu": "..."}]
    }

XLSX: the sheet "TTHC" (else the first sheet) has one procedure per row under a header row with the names above;
the field is two columns, MaLinhVuc and TenLinhVuc; CanCuPhapLy and TrinhTuThucHien hold one entry per line of the
cell. The lists of records are sheets of their own, one record per row, tied to the procedure by a MaTTHC column:
"ThanhPhanHoSo", "PhiLePhi" and "CoQuanThucHien" (columns MaDinhDanh, Ten).

Rules: a key (column, sheet) the export lacks leaves that part of the procedure as it is, a present but empty one
clears it. An abolished procedure is closed; one we never had is skipped (counted unchanged). Competent agencies the
export names are added, never removed. A procedure absent from the export stays as it is unless ``close_missing``.
A row is checked whole before anything is written; a bad row is reported with its number (the position in the JSON
list, the row of the spreadsheet) and skipped, the others are applied, each in a transaction of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import IO, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from core.errors import DomainError, ValidationFailed
from core.models import OutboxMessage
from core.outbox import outbox_write
from core.text import fold
from organizations.models import Agency, Counter

from .models import CatalogueImport, Component, Fee, Field, Procedure
from .services import competences_add, components_replace, fees_replace, procedure_values, reception_counters

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Operation = OutboxMessage.Operation
# The import's progress reaches the database every this many rows (and at the start and the end).
PROGRESS_EVERY = 20
MAIN_SHEET = "TTHC"
LIST_SHEETS = ["ThanhPhanHoSo", "PhiLePhi", "CoQuanThucHien"]


class Row(NamedTuple):
    """One procedure of an export: its number in the file (for messages) and its national fields."""

    number: int
    data: Any


@dataclasses.dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    closed: int = 0
    unchanged: int = 0
    # (row number, message); row 0 is the file as a whole.
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)

    @classmethod
    def of(cls, record: CatalogueImport) -> ImportReport:
        return cls(
            created=record.created,
            updated=record.updated,
            closed=record.closed,
            unchanged=record.unchanged,
            errors=[(number, message) for number, message in record.errors],
        )

    def count(self, operation: str | None) -> None:
        name = {Operation.ADD: "created", Operation.UPDATE: "updated", Operation.CLOSE: "closed"}.get(
            operation or "", "unchanged"
        )
        setattr(self, name, getattr(self, name) + 1)

    def summary(self) -> str:
        return _(
            "created %(created)d, updated %(updated)d, closed %(closed)d, unchanged %(unchanged)d, errors %(errors)d"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "closed": self.closed,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }

    def error_lines(self) -> list[str]:
        return [
            _("row %(row)d: %(message)s") % {"row": number, "message": message} if number else message
            for number, message in self.errors
        ]


# ---- Reading the files ----------------------------------------------------------------------------------------


def read_json(file: IO[bytes]) -> list[Row]:
    """The procedures of a JSON export, numbered from 1 in the order of the list."""
    try:
        data = json.load(file)
    except ValueError as exc:  # also a file that is not UTF-8
        raise ValidationFailed(_("The file is not valid JSON: %(error)s") % {"error": exc}, code="unreadable") from exc
    if isinstance(data, dict) and "data" in data:
        data = data["data"]
    if not isinstance(data, list):
        raise ValidationFailed(
            _("The JSON file must hold a list of procedures, or an object with the list under “data”."),
            code="unreadable",
        )
    return [Row(number, item) for number, item in enumerate(data, start=1)]


def read_xlsx(file: IO[bytes]) -> list[Row]:
    """The procedures of an XLSX export, numbered by their row in the main sheet."""
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValidationFailed(
            _("The file is not a readable XLSX workbook: %(error)s") % {"error": exc}, code="unreadable"
        ) from exc
    try:
        main = book[MAIN_SHEET] if MAIN_SHEET in book.sheetnames else book.worksheets[0]
        rows = [Row(number, record) for number, record in _sheet_records(main)]
        by_code: dict[str, dict[str, Any]] = {}
        for row in rows:
            if {"MaLinhVuc", "TenLinhVuc"} & row.data.keys():
                row.data["LinhVuc"] = {"Ma": row.data.pop("MaLinhVuc", ""), "Ten": row.data.pop("TenLinhVuc", "")}
            by_code.setdefault(str(row.data.get("MaTTHC", "")).strip(), row.data)
        for sheet in LIST_SHEETS:
            if sheet not in book.sheetnames:
                continue
            for row in rows:
                row.data[sheet] = []
            for number, record in _sheet_records(book[sheet]):
                code = str(record.pop("MaTTHC")).strip()
                if code not in by_code:
                    raise ValidationFailed(
                        _("Sheet %(sheet)s, row %(row)d: no procedure of the main sheet has the MaTTHC “%(code)s”.")
                        % {"sheet": sheet, "row": number, "code": code},
                        code="unreadable",
                    )
                by_code[code][sheet].append(record)
    finally:
        book.close()
    return rows


def _sheet_records(sheet: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    cells = sheet.iter_rows(values_only=True)
    header = [str(name).strip() if name is not None else "" for name in next(cells, ())]
    if "MaTTHC" not in header:
        raise ValidationFailed(
            _("The sheet %(sheet)s has no MaTTHC column in its first row.") % {"sheet": sheet.title},
            code="unreadable",
        )
    for number, values in enumerate(cells, start=2):
        if all(_blank(value) for value in values):
            continue
        yield (
            number,
            {name: "" if value is None else value for name, value in zip(header, values, strict=False) if name},
        )


READERS: dict[str, Callable[[IO[bytes]], list[Row]]] = {
    CatalogueImport.Format.JSON: read_json,
    CatalogueImport.Format.XLSX: read_xlsx,
}


def import_format(*, name: str, given: str = "") -> str:
    """The export's format: as given, else from the extension of the file's name."""
    file_format = given or name.rsplit(".", 1)[-1].lower()
    if file_format not in READERS:
        raise ValidationFailed(
            _("Choose the format: “%(name)s” ends neither in .json nor in .xlsx.") % {"name": name}, code="format"
        )
    return file_format


# ---- Checking one row -----------------------------------------------------------------------------------------

_CODE = re.compile(r"^\d+\.\d+$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_YES = {"co", "x", "true", "1", "yes"}
_NO = {"khong", "false", "0", "no"}


def _key(value: Any) -> str:
    """How national values are compared: without case, diacritics and extra spaces."""
    return " ".join(fold(str(value)).split())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(model: type[Model], name: str) -> Callable[[Any], str]:
    limit = model._meta.get_field(name).max_length  # type: ignore[union-attr]

    def read(value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(_("must be text."))
        text = str(value).strip()
        if limit and len(text) > limit:
            raise ValueError(_("is longer than %(limit)d characters.") % {"limit": limit})
        return text

    return read


def _pattern(pattern: re.Pattern[str], model: type[Model], name: str, problem: Any) -> Callable[[Any], str]:
    as_text = _text(model, name)

    def read(value: Any) -> str:
        if not isinstance(value, str) or not pattern.match(text := as_text(value)):
            raise ValueError(problem % {"value": value})
        return text

    return read


def _choice(options: dict[str, str], blank: str = "") -> Callable[[Any], str]:
    keyed = {_key(label): value for label, value in options.items()}

    def read(value: Any) -> str:
        if blank and _blank(value):
            return blank
        if _key(value) not in keyed:
            raise ValueError(
                _("“%(value)s” is not one of: %(options)s.") % {"value": value, "options": ", ".join(options)}
            )
        return keyed[_key(value)]

    return read


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise ValueError(_("must be a list of texts."))
    return [line.strip() for line in value if line.strip()]


def _boolean(value: Any, blank: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if _blank(value):
        return blank
    if _key(value) in _YES | _NO:
        return _key(value) in _YES
    raise ValueError(_("“%(value)s” is neither yes (Có) nor no (Không).") % {"value": value})


def _whole(value: Any, blank: int = 0) -> int:
    """A count or an amount in đồng; in a text, dots, commas and spaces are thousands separators."""
    if _blank(value):
        return blank
    text = str(value).strip()
    if isinstance(value, str):
        text = re.sub(r"[.,\s]", "", text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal(-1)
    if isinstance(value, bool) or not number.is_finite() or number < 0 or number != number.to_integral_value():
        raise ValueError(_("“%(value)s” is not a whole number.") % {"value": value})
    return int(number)


def _time(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if isinstance(value, bool) or not number.is_finite():
        raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
    if number <= 0:
        raise ValueError(_("must be more than 0."))
    try:
        Procedure._meta.get_field("processing_time").run_validators(number)  # digits and decimal places
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from exc
    return number


# national name, name in the shape of data/procedures.json, reader, required
Spec = list[tuple[str, str, Callable[[Any], Any], bool]]

_PROCEDURE: Spec = [
    ("TenTTHC", "name", _text(Procedure, "name"), True),
    (
        "CapThucHien",
        "level",
        _choice({"Cấp Tỉnh": Procedure.Level.PROVINCE, "Cấp Xã": Procedure.Level.COMMUNE}),
        True,
    ),
    ("ThoiHanGiaiQuyet", "processing_time", _time, True),
    (
        "DonViThoiGian",
        "time_unit",
        _choice(
            {
                "Ngày làm việc": Procedure.TimeUnit.DAYS,
                "Ngày": Procedure.TimeUnit.DAYS,
                "Giờ làm việc": Procedure.TimeUnit.HOURS,
                "Giờ": Procedure.TimeUnit.HOURS,
            }
        ),
        True,
    ),
    (
        "MucDo",
        "online_level",
        _choice(
            {
                "Toàn trình": Procedure.OnlineLevel.FULL,
                "Dịch vụ công trực tuyến toàn trình": Procedure.OnlineLevel.FULL,
                "Một phần": Procedure.OnlineLevel.PARTIAL,
                "Dịch vụ công trực tuyến một phần": Procedure.OnlineLevel.PARTIAL,
                "Cung cấp thông tin": Procedure.OnlineLevel.NONE,
                "Không": Procedure.OnlineLevel.NONE,
            }
        ),
        True,
    ),
    ("DoiTuong", "applicants", _text(Procedure, "applicants"), False),
    ("CanCuPhapLy", "legal_basis", _lines, False),
    ("TrinhTuThucHien", "steps", _lines, False),
    ("KetQua", "result", _text(Procedure, "result"), False),
    ("BuuChinh", "postal_allowed", _boolean, False),
]
_STATUS = _choice(
    {
        "Công bố": Procedure.Status.PUBLISHED,
        "Còn hiệu lực": Procedure.Status.PUBLISHED,
        "Bãi bỏ": Procedure.Status.CLOSED,
        "Hết hiệu lực": Procedure.Status.CLOSED,
    },
    blank=Procedure.Status.PUBLISHED,
)
_FIELD_CODE = _pattern(_SLUG, Field, "code", gettext_lazy("“%(value)s” is not a code of letters, digits, - and _."))
_FIELD: Spec = [
    ("Ma", "code", _FIELD_CODE, True),
    ("Ten", "name", _text(Field, "name"), True),
]
_COMPONENT: Spec = [
    ("TenGiayTo", "name", _text(Component, "name"), True),
    ("BatBuoc", "required", partial(_boolean, blank=True), False),
    ("SoBanChinh", "originals", partial(_whole, blank=1), False),
    ("SoBanSao", "copies", _whole, False),
    ("MauDon", "form", _text(Component, "form_name"), False),
]
_FEE: Spec = [
    ("TenPhi", "name", _text(Fee, "name"), True),
    ("MucPhi", "amount", _whole, True),
    ("GhiChu", "note", _text(Fee, "note"), False),
]
_CODE_READER = _pattern(_CODE, Procedure, "code", gettext_lazy("“%(value)s” is not a national code such as 1.001193."))
_ALL_COMMUNES = {_key("Ủy ban nhân dân cấp xã"), _key("UBND cấp xã")}


def _problem(where: str, problem: str) -> str:
    return _("%(field)s: %(problem)s") % {"field": where, "problem": problem}


def _record(data: Any, spec: Spec, problems: list[str], where: str = "") -> dict[str, Any]:
    """The values ``spec`` names, read from ``data``; what is wrong goes to ``problems``, named by field."""
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        problems.append(_problem(where.rstrip("."), _("must be an object of national field names.")))
        return {}
    values = {}
    for national, name, read, required in spec:
        if required and _blank(data.get(national)):
            problems.append(_problem(where + national, _("is required.")))
        elif national in data:
            try:
                values[name] = read(data[national])
            except ValueError as exc:
                problems.append(_problem(where + national, str(exc)))
    return values


def _records(data: Mapping[str, Any], national: str, spec: Spec, problems: list[str]) -> list[dict[str, Any]]:
    items = data[national]
    if _blank(items):
        return []
    if not isinstance(items, list):
        problems.append(_problem(national, _("must be a list.")))
        return []
    return [_record(item, spec, problems, f"{national}[{index}].") for index, item in enumerate(items, start=1)]


@dataclasses.dataclass(frozen=True)
class _Agencies:
    """The agencies valid today, as an export may name them."""

    by_identifier: dict[str, Agency]
    by_name: dict[str, Agency]
    communes: list[Agency]

    @classmethod
    def load(cls) -> _Agencies:
        agencies = list(Agency.objects.valid_on(timezone.localdate()).order_by("identifier"))
        return cls(
            by_identifier={agency.identifier: agency for agency in agencies},
            by_name={_key(name): agency for agency in agencies for name in (agency.name, agency.short_name) if name},
            communes=[agency for agency in agencies if agency.level == Agency.Level.COMMUNE],
        )

    def find(self, item: Any) -> list[Agency]:
        identifier, name = (item.get("MaDinhDanh"), item.get("Ten")) if isinstance(item, Mapping) else (None, item)
        if not _blank(identifier) and str(identifier).strip() in self.by_identifier:
            return [self.by_identifier[str(identifier).strip()]]
        if _key(name or "") in _ALL_COMMUNES:
            return self.communes
        if not _blank(name) and _key(name) in self.by_name:
            return [self.by_name[_key(name)]]
        raise ValueError(_("no agency of the province is “%(agency)s”.") % {"agency": name or identifier or ""})


@dataclasses.dataclass(frozen=True)
class _Change:
    """One row, checked: what the procedure ``code`` must become."""

    number: int
    code: str
    closed: bool
    # In the shape of data/procedures.json; only the keys the export has.
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    field: dict[str, str] = dataclasses.field(default_factory=dict)
    agencies: list[Agency] | None = None


def _parse(row: Row, agencies: _Agencies) -> _Change:
    """The row checked whole; ValidationFailed names every problem of it."""
    data = row.data
    if not isinstance(data, Mapping):
        raise ValidationFailed(_("The row is not an object of national field names."), code="invalid_row")
    problems: list[str] = []
    head = _record(data, [("MaTTHC", "code", _CODE_READER, True), ("TrangThai", "status", _STATUS, False)], problems)
    if not problems and head.get("status") == Procedure.Status.CLOSED:
        # Only the code matters to close a procedure: an abolished one may come with little else.
        return _Change(number=row.number, code=head["code"], closed=True)
    values = {"code_is_illustrative": False, **_record(data, _PROCEDURE, problems)}
    field = _record(data.get("LinhVuc"), _FIELD, problems, "LinhVuc.")
    if "ThanhPhanHoSo" in data:
        values["components"] = [
            {"required": True, **item} for item in _records(data, "ThanhPhanHoSo", _COMPONENT, problems)
        ]
    if "PhiLePhi" in data:
        values["fees"] = fees = _records(data, "PhiLePhi", _FEE, problems)
        names = [fee.get("name") for fee in fees]
        problems += [
            _problem("PhiLePhi", _("the fee “%(name)s” is listed twice.") % {"name": name})
            for name in sorted({name for name in names if names.count(name) > 1})
        ]
    found: list[Agency] | None = None
    if "CoQuanThucHien" in data:
        items = data["CoQuanThucHien"]
        found = []
        for index, item in enumerate(items if isinstance(items, list) else [items], start=1):
            try:
                found += [agency for agency in agencies.find(item) if agency not in found]
            except ValueError as exc:
                problems.append(_problem(f"CoQuanThucHien[{index}]", str(exc)))
    if problems:
        raise ValidationFailed("; ".join(problems), code="invalid_row")
    return _Change(number=row.number, code=head["code"], closed=False, values=values, field=field, agencies=found)


# ---- Applying ---------------------------------------------------------------------------------------------------


def _field_get(*, code: str, name: str) -> Field:
    field = Field.objects.filter(code=code).first() or Field.objects.filter(name__iexact=name).first()
    return field or Field.objects.create(code=code, name=name)


def _apply(change: _Change, *, counters: dict[int, Counter], today: dt.date) -> str | None:
    """One procedure's change and its outbox message, in the caller's transaction; the operation, or None."""
    procedure = Procedure.objects.select_for_update().filter(code=change.code).first()
    if change.closed:
        if procedure is None or procedure.status == Procedure.Status.CLOSED:
            return None
        procedure.status = Procedure.Status.CLOSED
        procedure.save(update_fields=["status", "updated_at"])
        operation: str | None = Operation.CLOSE
    else:
        values = {
            **procedure_values(change.values),
            "field_id": _field_get(**change.field).pk,
            "status": Procedure.Status.PUBLISHED,
        }
        if procedure is None:
            procedure = Procedure.objects.create(code=change.code, **values)
            operation = Operation.ADD
        else:
            # The province's shorter target time must stay below the statutory time, in the same unit.
            target = procedure.target_time
            if target is not None and (
                values["time_unit"] != procedure.time_unit or target > values["processing_time"]
            ):
                values["target_time"] = None
            changed = [name for name, value in values.items() if getattr(procedure, name) != value]
            for name in changed:
                setattr(procedure, name, values[name])
            if changed:
                procedure.save(update_fields=[*changed, "updated_at"])
            operation = Operation.UPDATE if changed else None
        # Each of these writes only what differs.
        touched = False
        if "components" in change.values:
            touched |= components_replace(procedure=procedure, rows=change.values["components"])
        if "fees" in change.values:
            touched |= fees_replace(procedure=procedure, rows=change.values["fees"])
        if change.agencies is not None:
            added = competences_add(procedure=procedure, agencies=change.agencies, counters=counters, valid_from=today)
            touched |= added > 0
        if operation is None and touched:
            operation = Operation.UPDATE
    if operation:
        key = f"p{procedure.pk}"
        outbox_write(topic=OutboxMessage.Topic.PROCEDURE, key=key, operation=operation, ref=procedure.pk)
    return operation


def _apply_one(change: _Change, report: ImportReport, *, counters: dict[int, Counter], today: dt.date) -> None:
    try:
        with transaction.atomic():
            operation = _apply(change, counters=counters, today=today)
    except (DatabaseError, DomainError) as exc:
        message = _("%(code)s was not saved: %(error)s") % {"code": change.code, "error": exc}
        report.errors.append((change.number, message))
        return
    report.count(operation)


def _missing(rows: Sequence[Row], report: ImportReport) -> list[str]:
    """Published procedures the export does not list; none if a row's code cannot be read (it may be one)."""
    codes = set()
    for row in rows:
        code = row.data.get("MaTTHC") if isinstance(row.data, Mapping) else None
        if _blank(code):
            message = _("Procedures missing from the export were not closed: row %(row)d has no MaTTHC.")
            report.errors.append((0, message % {"row": row.number}))
            return []
        codes.add(str(code).strip())
    return sorted(set(Procedure.objects.published().values_list("code", flat=True)) - codes)


def catalogue_import(
    *, rows: Sequence[Row], progress: Progress | None = None, close_missing: bool = False
) -> ImportReport:
    """Apply an export to the catalogue: every row is checked first, then each good one is applied in a transaction
    of its own with its outbox message. Idempotent: a second run of the same export changes and sends nothing.

    ``progress(done, total)`` is called at the start and after each procedure; ``close_missing`` also closes the
    published procedures the export does not list.
    """
    report = ImportReport()
    agencies = _Agencies.load()
    changes: list[_Change] = []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            change = _parse(row, agencies)
        except ValidationFailed as exc:
            report.errors.append((row.number, exc.message))
            continue
        if change.code in seen:
            message = _("MaTTHC: “%(code)s” is already in row %(row)d.") % {
                "code": change.code,
                "row": seen[change.code],
            }
            report.errors.append((row.number, message))
            continue
        seen[change.code] = row.number
        changes.append(change)
    missing = _missing(rows, report) if close_missing else []
    changes += [_Change(number=0, code=code, closed=True) for code in missing]

    total = len(rows) + len(missing)
    done = total - len(changes)  # the rows that failed their check are done with
    tick = progress or (lambda done, total: None)
    tick(done, total)
    counters = reception_counters()
    today = timezone.localdate()
    for change in changes:
        _apply_one(change, report, counters=counters, today=today)
        done += 1
        tick(done, total)
    return report


# ---- Imports uploaded in the admin, run by a worker ---------------------------------------------------------------


@transaction.atomic
def catalogue_import_queue(*, record: CatalogueImport) -> CatalogueImport:
    """Save an uploaded export and have a worker import it once the upload is committed."""
    record.format = import_format(name=record.file.name, given=record.format)
    record.state = CatalogueImport.State.QUEUED
    record.save()
    transaction.on_commit(partial(_enqueue, record.pk))
    return record


def _enqueue(import_id: int) -> None:
    from .tasks import catalogue_import as task  # the tasks module imports this one

    task.delay(import_id)


def _record_progress(import_id: int, done: int, total: int) -> None:
    if done in (0, total) or done % PROGRESS_EVERY == 0:
        # Outside the rows' transactions, committed at once: the admin sees the import move.
        CatalogueImport.objects.filter(pk=import_id).update(done=done, total=total)


def catalogue_import_run(*, import_id: int) -> CatalogueImport:
    """The worker's side of an uploaded import. A finished import is left alone; an interrupted one (a worker lost,
    the database gone) runs again, and rows already applied come out unchanged."""
    with transaction.atomic():
        record = CatalogueImport.objects.select_for_update().get(pk=import_id)
        if record.state in (CatalogueImport.State.DONE, CatalogueImport.State.FAILED):
            return record
        record.state = CatalogueImport.State.RUNNING
        record.started_at = timezone.now()
        record.save(update_fields=["state", "started_at", "updated_at"])

    results = ["state", "finished_at", "errors", "updated_at"]
    record.state = CatalogueImport.State.FAILED
    try:
        with record.file.open("rb") as file:
            rows = READERS[record.format](file)
        report = catalogue_import(
            rows=rows, progress=partial(_record_progress, import_id), close_missing=record.close_missing
        )
    except ValidationFailed as exc:
        record.errors = [[0, exc.message]]
    except OperationalError:
        raise  # the database went away: the task retries
    except Exception:
        log.exception("catalogue import %s stopped", import_id)
        record.errors = [[0, _("The import stopped on an unexpected error; the worker's log has the details.")]]
        record.finished_at = timezone.now()
        record.save(update_fields=results)
        raise
    else:
        record.state = CatalogueImport.State.DONE
        for name in ("created", "updated", "closed", "unchanged"):
            setattr(record, name, getattr(report, name))
        record.errors = [[number, message] for number, message in report.errors]
        results += ["created", "updated", "closed", "unchanged"]
    record.finished_at = timezone.now()
    record.save(update_fields=results)
    record.refresh_from_db(fields=["done", "total"])  # written by the progress callback
    return record
