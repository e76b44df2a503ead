"""Registers kept by agencies in spreadsheets (XLSX, or CSV in UTF-8 with or without a byte-order mark).

The header row's column names are matched without case, diacritics or punctuation ("Họ và tên", "HO VA TEN",
"Họ và tên:" are one column), so sheets typed by hand in different offices read the same. Title rows above the
header are allowed: the header is the first row, among the first few, that names at least two known columns. Rows
are numbered as the spreadsheet program shows them, so a message "row 7" points at row 7 on screen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from core.errors import ValidationFailed
from core.text import fold

MAX_ROWS = 2000
HEADER_WITHIN = 10  # rows searched for the header row
FORMATS = ("xlsx", "csv")


def column_key(name: str) -> str:
    """'Số điện thoại (*)' -> 'so dien thoai'."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(name)).replace("_", " ").split())


@dataclass(frozen=True)
class Column:
    """One column of a register: ``key`` is the name the code uses, ``label`` the name the sample sheet gives it
    (and messages use when the column is missing), ``aliases`` other names offices write."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    # A number typed in a cell formatted as a number loses its leading zeros (001… becomes 1…); numeric cells of
    # this column are padded back to this width.
    digits: int = 0

    def names(self) -> set[str]:
        return {column_key(name) for name in (self.label, *self.aliases)}


class RowError(NamedTuple):
    """A problem in a sheet: the row as numbered on screen, the column as headed in the file, the message."""

    row: int
    column: str
    message: str


@dataclass
class Sheet:
    header_row: int = 1
    # Column key -> the column's name as written in the file's header row.
    labels: dict[str, str] = field(default_factory=dict)
    # (row number, column key -> cell text); blank rows are left out.
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def sheet_format(file_name: str) -> str:
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in FORMATS:
        raise ValidationFailed(
            _("The file “%(name)s” is neither an XLSX workbook nor a CSV file.") % {"name": file_name},
            detail={"file": _("Choose an .xlsx or .csv file.")},
            code="format",
        )
    return extension


def sheet_read(*, file: IO[bytes], file_name: str, columns: Sequence[Column]) -> Sheet:
    """The rows of the first sheet of an XLSX workbook or of a CSV file, cells keyed by column."""
    if sheet_format(file_name) == "xlsx":
        return _records(_xlsx_rows(file), columns)
    return _records(_csv_rows(file), columns)


def _unreadable(message: str) -> ValidationFailed:
    return ValidationFailed(message, detail={"file": message}, code="unreadable")


def _xlsx_rows(file: IO[bytes]) -> Iterator[tuple[Any, ...]]:
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise _unreadable(_("The file is not a readable XLSX workbook: %(error)s") % {"error": exc}) from exc
    try:
        yield from book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()


def _csv_rows(file: IO[bytes]) -> Iterator[list[str]]:
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unreadable(
            _("The CSV file is not in UTF-8: save it again choosing “CSV UTF-8 (comma delimited)”.")
        ) from exc
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:
        raise _unreadable(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc


def _text(value: Any, digits: int = 0) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value).zfill(digits)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def _records(rows: Iterable[Sequence[Any]], columns: Sequence[Column]) -> Sheet:
    by_name = {name: column for column in columns for name in column.names()}
    sheet = Sheet()
    positions: dict[int, Column] = {}
    for number, values in enumerate(rows, start=1):
        if not positions:
            keys = [column_key(str(value)) if value is not None else "" for value in values]
            found = {i: by_name[key] for i, key in enumerate(keys) if key in by_name}
            if len({c.key for c in found.values()}) >= 2:
                sheet.header_row = number
                for i, column in found.items():
                    if column.key not in sheet.labels:  # a repeated column: the first one counts
                        sheet.labels[column.key] = _text(values[i])
                        positions[i] = column
            elif number >= HEADER_WITHIN:
                break
            continue
        cells = {
            column.key: _text(values[i], column.digits) if i < len(values) else "" for i, column in positions.items()
        }
        if not any(cells.values()):
            continue
        if len(sheet.rows) >= MAX_ROWS:
            raise _unreadable(
                _("The sheet has more than %(count)d rows: split it into several files.") % {"count": MAX_ROWS}
            )
        sheet.rows.append((number, cells))
    return sheet
