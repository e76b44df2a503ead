"""eForms (biểu mẫu điện tử): each procedure's online form as data, in ``Procedure.form_schema``.

The format is a small field list, documented with an example in docs/eforms.md::

    {"version": 1, "fields": [{"name": "ho_ten", "label": "Họ, chữ đệm và tên", "type": "text", "required": true}]}

An empty schema (``{}``) means the procedure asks nothing beyond the applicant's details.

Labels, help texts and option labels are data written by the province's administrators in Vietnamese; the
messages of this module (errors, "Yes"/"No") are translatable. The functions here are pure: they read no table
except the access rules at the end, so the portal, the back office and the receipts can call them freely.

HTML names: a field is posted under its name; an address under ``name.street``, ``name.province`` and
``name.commune``; a repeating group's rows under ``group.<row>.<field>`` (``group.0.field``). Errors are keyed by
the same paths (an address's errors by the address's own path).
"""

import copy
import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.utils import formats, numberformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from vietnam_provinces import Province, ProvinceCode, Ward

from core.identity import personal_id_errors, vietnamese_phone
from core.text import fold
from organizations.models import Role, Staff

from .models import Competence, Procedure

VERSION = 1
DATA_DIR = Path(__file__).resolve().parent / "data" / "eforms"
PREVIOUS = "previous"
PROFILE_KEYS = (
    "full_name",
    "id_number",
    "birth_date",
    "phone",
    "email",
    "address",
    "commune_code",
    "commune_name",
    "province_code",
)
TYPES = (
    "text",
    "textarea",
    "number",
    "date",
    "choice",
    "checkbox",
    "address",
    "id_number",
    "email",
    "phone",
    "group",
    "section",
)
COMMON_KEYS = {"name", "label", "type", "required", "help", "prefill", "show_if"}
TYPE_KEYS: dict[str, set[str]] = {
    "text": {"max_length", "pattern", "pattern_message"},
    "textarea": {"max_length"},
    "number": {"min", "max", "integer"},
    "date": {"min", "max", "past_only"},
    "choice": {"options", "widget", "multiple"},
    "checkbox": set(),
    "address": {"street", "default_province"},
    "id_number": {"birth_date_field"},
    "email": set(),
    "phone": set(),
    "group": {"fields", "min_rows", "max_rows", "row_label"},
}
SECTION_KEYS = {"type", "label", "help", "name", "show_if"}
# Which field types a profile key may fill ("previous" fills any field but a section).
TEXTUAL = {"text", "textarea"}
PREFILL_TYPES: dict[str, set[str]] = {
    "full_name": TEXTUAL,
    "id_number": TEXTUAL | {"id_number"},
    "birth_date": TEXTUAL | {"date"},
    "phone": TEXTUAL | {"phone"},
    "email": TEXTUAL | {"email"},
    "address": TEXTUAL | {"address"},
    "commune_code": TEXTUAL,
    "commune_name": TEXTUAL,
    "province_code": TEXTUAL,
}
# The browser's autofill hints for the fields a profile key fills.
AUTOCOMPLETE = {"full_name": "name", "phone": "tel", "email": "email", "birth_date": "bday"}
# Names the pages that embed a form use for their own inputs.
RESERVED_NAMES = {"action", "next", "step", "schema", "csrfmiddlewaretoken"}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TEXT_MAX = 255
TEXTAREA_MAX = 2000
LENGTH_LIMIT = 10000
MAX_FIELDS = 200
MAX_ROWS = 50
DEFAULT_MAX_ROWS = 20
NUMBER_LIMIT = Decimal(10) ** 15
ROW = "__i__"  # the row number placeholder of a group's template row (the script replaces it)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
TRUE = {"on", "true", "1", "yes", "co", "có"}


# Administrative units (2025) from the vietnam-provinces package: the address field's selects and the API.


def _province_key(name: str) -> str:
    # "Thành phố Hà Nội" sorts under H, as people look for it.
    return fold(name.removeprefix("Thành phố "))


@lru_cache(maxsize=1)
def _provinces() -> dict[str, str]:
    rows = sorted(Province.iter_all(), key=lambda p: _province_key(p.name))
    return {f"{int(p.code):02d}": p.name for p in rows}


@lru_cache(maxsize=64)
def _communes(code: str) -> dict[str, str]:
    rows = sorted(Ward.iter_by_province(ProvinceCode(int(code))), key=lambda w: fold(w.name))
    return {f"{int(w.code):05d}": w.name for w in rows}


def province_code(value: Any) -> str | None:
    """A province's code as the forms store it ("91", "01"), from an int or a string; None if no such province."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 3:
        return None
    code = f"{int(text):02d}"
    return code if code in _provinces() else None


def commune_code(value: Any) -> str:
    """A commune-level unit's code as the forms store it ("30307", "00004"); "" if not a code."""
    text = str(value).strip() if value is not None else ""
    return f"{int(text):05d}" if text.isdigit() and len(text) <= 6 else ""


def province_options() -> list[dict[str, str]]:
    """Every province and centrally-run city (34 since 2025), by name."""
    return [{"code": code, "name": name} for code, name in _provinces().items()]


def commune_options(province: Any) -> list[dict[str, str]]:
    """The communes, wards and special zones of a province, by name; empty for an unknown province."""
    code = province_code(province)
    return [{"code": c, "name": n} for c, n in _communes(code).items()] if code else []


def _default_province(f: Mapping[str, Any]) -> str:
    return province_code(f.get("default_province", settings.PROVINCE_CODE)) or ""


# Schema checks


def _fields(schema: Any) -> list[dict[str, Any]]:
    if not isinstance(schema, Mapping):
        return []
    fields = schema.get("fields")
    return [f for f in fields if isinstance(f, Mapping)] if isinstance(fields, list) else []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _iso_or_today(value: Any) -> bool:
    if value == "today":
        return True
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def schema_errors(schema: dict) -> list[str]:  # type: ignore[type-arg]
    """What is wrong with a form schema, one message per problem; empty when it can be saved."""
    if not isinstance(schema, Mapping):
        return [_("The form must be a JSON object.")]
    if not schema:
        return []
    errors: list[str] = []
    unknown = sorted(set(schema) - {"version", "fields"})
    if unknown:
        errors.append(_("Unknown key at the top of the form: %(keys)s.") % {"keys": ", ".join(unknown)})
    if schema.get("version") != VERSION:
        errors.append(_("The form must have “version”: %(version)d.") % {"version": VERSION})
    fields = schema.get("fields")
    if not isinstance(fields, list):
        errors.append(_("The form must have a list of “fields”."))
        return errors
    count = len(fields) + sum(len(f.get("fields") or []) for f in fields if isinstance(f, Mapping))
    if count > MAX_FIELDS:
        errors.append(_("A form has at most %(count)d fields.") % {"count": MAX_FIELDS})
        return errors
    _scope_errors(fields, errors, path="", nested=False)
    return errors


def _scope_errors(fields: list[Any], errors: list[str], *, path: str, nested: bool) -> None:
    seen: dict[str, Mapping[str, Any]] = {}
    for position, f in enumerate(fields, start=1):
        where = f"{path}#{position}"
        if not isinstance(f, Mapping):
            errors.append(_("Field %(field)s must be a JSON object.") % {"field": where})
            continue
        kind = f.get("type")
        name = f.get("name")
        if isinstance(name, str) and name:
            where = path + name
        if kind not in TYPES:
            errors.append(_("Field %(field)s: unknown type “%(type)s”.") % {"field": where, "type": kind})
            continue
        if nested and kind in ("group", "section"):
            errors.append(_("Field %(field)s: a group cannot contain a %(type)s.") % {"field": where, "type": kind})
            continue
        allowed = SECTION_KEYS if kind == "section" else COMMON_KEYS | TYPE_KEYS[kind]
        unknown = sorted(set(f) - allowed)
        if unknown:
            errors.append(_("Field %(field)s: unknown keys %(keys)s.") % {"field": where, "keys": ", ".join(unknown)})
        label = f.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 500:
            errors.append(_("Field %(field)s needs a label (at most 500 characters).") % {"field": where})
        if not isinstance(f.get("help", ""), str):
            errors.append(_("Field %(field)s: “help” must be text.") % {"field": where})
        if kind != "section" or name is not None:
            if not isinstance(name, str) or not NAME.match(name):
                errors.append(
                    _(
                        "Field %(field)s needs a name of lower-case letters, digits and underscores, starting with a "
                        "letter (at most 40)."
                    )
                    % {"field": where}
                )
            elif name in seen:
                errors.append(_("The name “%(name)s” is used twice.") % {"name": where})
            elif name in RESERVED_NAMES:
                errors.append(_("The name “%(name)s” is reserved; choose another.") % {"name": where})
        if kind != "section":
            if not isinstance(f.get("required", False), bool):
                errors.append(_("Field %(field)s: “required” must be true or false.") % {"field": where})
            _prefill_errors(f, kind, where, errors, nested=nested)
        if "show_if" in f:
            _show_if_errors(f["show_if"], where, seen, errors)
        _type_errors(f, kind, where, seen, fields, errors)
        if isinstance(name, str) and name and name not in seen:
            seen[name] = f


def _prefill_errors(f: Mapping[str, Any], kind: str, where: str, errors: list[str], *, nested: bool) -> None:
    if "prefill" not in f:
        return
    key = f["prefill"]
    if nested:
        errors.append(_("Field %(field)s: fields inside a group are not prefilled.") % {"field": where})
    elif key == PREVIOUS:
        return
    elif key not in PREFILL_TYPES:
        errors.append(
            _("Field %(field)s: unknown “prefill” “%(key)s”; use “previous” or one of %(keys)s.")
            % {"field": where, "key": key, "keys": ", ".join(PROFILE_KEYS)}
        )
    elif kind not in PREFILL_TYPES[key]:
        errors.append(
            _("Field %(field)s: a %(type)s field cannot be prefilled with “%(key)s”.")
            % {"field": where, "type": kind, "key": key}
        )


def _show_if_errors(cond: Any, where: str, seen: Mapping[str, Mapping[str, Any]], errors: list[str]) -> None:
    if not isinstance(cond, Mapping) or set(cond) - {"field", "equals", "in"} or ("equals" in cond) == ("in" in cond):
        errors.append(_("Field %(field)s: “show_if” needs “field” and either “equals” or “in”.") % {"field": where})
        return
    target = seen.get(cond.get("field"))  # type: ignore[arg-type]
    if target is None or target.get("type") in ("section", "group"):
        errors.append(
            _("Field %(field)s: “show_if” refers to “%(target)s”, which is not a field above it.")
            % {"field": where, "target": cond.get("field")}
        )
        return
    wanted = [cond["equals"]] if "equals" in cond else cond["in"]
    if not isinstance(wanted, list) or not wanted:
        errors.append(_("Field %(field)s: “in” must be a non-empty list.") % {"field": where})
        return
    if target.get("type") == "choice":
        values = {o.get("value") for o in target.get("options") or [] if isinstance(o, Mapping)}
        for value in wanted:
            if value not in values:
                errors.append(
                    _("Field %(field)s: “show_if” compares with “%(value)s”, which is not an option of “%(target)s”.")
                    % {"field": where, "value": value, "target": cond["field"]}
                )
    elif target.get("type") == "checkbox" and not all(isinstance(v, bool) for v in wanted):
        errors.append(_("Field %(field)s: a tick box is compared with true or false.") % {"field": where})


def _type_errors(
    f: Mapping[str, Any],
    kind: str,
    where: str,
    seen: Mapping[str, Mapping[str, Any]],
    fields: list[Any],
    errors: list[str],
) -> None:
    def bad(key: str) -> None:
        errors.append(_("Field %(field)s: “%(key)s” is not valid.") % {"field": where, "key": key})

    if kind in ("text", "textarea") and "max_length" in f:
        value = f["max_length"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= LENGTH_LIMIT:
            bad("max_length")
    if kind == "text" and "pattern" in f:
        try:
            if not isinstance(f["pattern"], str) or len(f["pattern"]) > 200:
                raise re.error("")
            re.compile(f["pattern"])
        except re.error:
            bad("pattern")
    if kind == "text" and not isinstance(f.get("pattern_message", ""), str):
        bad("pattern_message")
    if kind == "number":
        for key in ("min", "max"):
            if key in f and not _is_number(f[key]):
                bad(key)
        if _is_number(f.get("min")) and _is_number(f.get("max")) and f["min"] > f["max"]:
            errors.append(_("Field %(field)s: “min” is above “max”.") % {"field": where})
        if not isinstance(f.get("integer", False), bool):
            bad("integer")
    if kind == "date":
        for key in ("min", "max"):
            if key in f and not _iso_or_today(f[key]):
                bad(key)
        if not isinstance(f.get("past_only", False), bool):
            bad("past_only")
    if kind == "choice":
        options = f.get("options")
        values = [o.get("value") for o in options if isinstance(o, Mapping)] if isinstance(options, list) else []
        if (
            not isinstance(options, list)
            or not options
            or len(values) != len(options)
            or not all(
                isinstance(o.get("value"), str)
                and o["value"].strip()
                and isinstance(o.get("label"), str)
                and o["label"].strip()
                and set(o) == {"value", "label"}
                for o in options
            )
        ):
            errors.append(
                _("Field %(field)s: “options” must be a list of {“value”, “label”} with text in both.")
                % {"field": where}
            )
        elif len(set(values)) != len(values):
            errors.append(_("Field %(field)s: two options have the same value.") % {"field": where})
        if f.get("widget", "radio") not in ("radio", "select"):
            bad("widget")
        if not isinstance(f.get("multiple", False), bool):
            bad("multiple")
    if kind == "address":
        if not isinstance(f.get("street", True), bool):
            bad("street")
        if "default_province" in f and province_code(f["default_province"]) is None:
            bad("default_province")
    if kind == "id_number" and "birth_date_field" in f:
        others = {o.get("name"): o for o in fields if isinstance(o, Mapping)}
        if (others.get(f["birth_date_field"]) or {}).get("type") != "date":
            errors.append(
                _("Field %(field)s: “birth_date_field” must name a date field of the same form or group.")
                % {"field": where}
            )
    if kind == "group":
        nested = f.get("fields")
        if not isinstance(nested, list) or not nested:
            errors.append(_("Field %(field)s: a group needs a list of “fields”.") % {"field": where})
        else:
            _scope_errors(nested, errors, path=f"{where}.", nested=True)
        low, high = f.get("min_rows", 0), f.get("max_rows", DEFAULT_MAX_ROWS)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or not (
            0 <= low <= high and 1 <= high <= MAX_ROWS
        ):
            errors.append(
                _("Field %(field)s: rows must satisfy 0 ≤ min_rows ≤ max_rows ≤ %(max)d.")
                % {"field": where, "max": MAX_ROWS}
            )
        if not isinstance(f.get("row_label", ""), str):
            bad("row_label")


# Conditions (show_if)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if a is None or b is None:
        return False
    return str(a) == str(b)


def condition_met(cond: Mapping[str, Any] | None, scope: Mapping[str, Any]) -> bool:
    """Whether a ``show_if`` holds for the values of its form (or group row); a field that is itself hidden or
    empty matches nothing but ``equals: false`` of an unticked box."""
    if not cond:
        return True
    wanted = [cond["equals"]] if "equals" in cond else list(cond.get("in") or [])
    value = scope.get(cond.get("field"))  # type: ignore[arg-type]
    got = value if isinstance(value, list) else [value]
    return any(_same(g, w) for g in got for w in wanted)


# Parsing posted data


def _raw(data: Any, key: str) -> str:
    value = data.get(key) if hasattr(data, "get") else None
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def _raw_list(data: Any, key: str) -> list[str]:
    if hasattr(data, "getlist"):
        values = data.getlist(key)
    else:
        value = data.get(key) if hasattr(data, "get") else None
        values = [] if value is None else value if isinstance(value, list | tuple) else [value]
    return [unicodedata.normalize("NFC", str(v)).strip() for v in values if v is not None and str(v).strip()]


def _today() -> dt.date:
    return timezone.localdate()


def _parse_date(text: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _bound_date(value: Any) -> dt.date:
    return _today() if value == "today" else dt.date.fromisoformat(value)


def _show_date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def _parse_number(text: str) -> Decimal | None:
    compact = text.replace(" ", "").replace("\u00a0", "")
    if "," in compact:  # Vietnamese writing: 1.234,5
        compact = compact.replace(".", "").replace(",", ".")
    try:
        number = Decimal(compact)
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < NUMBER_LIMIT else None


def _number_text(value: int | float) -> str:
    """1234567.5 as the language writes it: "1.234.567,5" in Vietnamese."""
    return numberformat.format(
        value,
        formats.get_format("DECIMAL_SEPARATOR"),
        grouping=3,
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )


def _json_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _clean_value(f: Mapping[str, Any], data: Any, key: str, *, required: bool) -> tuple[Any, str]:
    """One field's typed value (or, when invalid, what was typed) and its error message."""
    kind = f["type"]
    if kind == "checkbox":
        ticked = _raw(data, key).lower() in TRUE
        return ticked, (_("Tick this box to continue.") if required and not ticked else "")
    if kind == "address":
        return _clean_address(f, data, key, required=required)
    if kind == "choice" and f.get("multiple"):
        chosen = set(_raw_list(data, key))
        values = [o["value"] for o in f["options"] if o["value"] in chosen]
        if len(values) != len(chosen):
            return sorted(chosen), _("Choose among the options shown.")
        return values, (_("Choose at least one option.") if required and not values else "")
    text = _raw(data, key)
    if not text:
        return (None if kind in ("number", "date", "choice") else ""), (
            _("This field is required.") if required else ""
        )
    if kind in ("text", "textarea"):
        if kind == "textarea":
            text = text.replace("\r\n", "\n")
        limit = f.get("max_length", TEXT_MAX if kind == "text" else TEXTAREA_MAX)
        if len(text) > limit:
            return text, ngettext("At most %(count)d character.", "At most %(count)d characters.", limit) % {
                "count": limit
            }
        if kind == "text" and f.get("pattern") and not re.fullmatch(f["pattern"], text):
            return text, f.get("pattern_message") or _("This is not in the expected format.")
        return text, ""
    if kind == "number":
        number = _parse_number(text)
        if number is None:
            return text, _("Enter a number.")
        if f.get("integer") and number != number.to_integral_value():
            return text, _("Enter a whole number.")
        if "min" in f and number < Decimal(str(f["min"])):
            return text, _("Enter %(min)s or more.") % {"min": _number_text(f["min"])}
        if "max" in f and number > Decimal(str(f["max"])):
            return text, _("Enter %(max)s or less.") % {"max": _number_text(f["max"])}
        return _json_number(number), ""
    if kind == "date":
        day = _parse_date(text)
        if day is None or day.year < 1800:
            return text, _("Enter a valid date (day/month/year).")
        if f.get("past_only") and day > _today():
            return text, _("The date cannot be in the future.")
        if "min" in f and day < _bound_date(f["min"]):
            return text, _("The date must be on or after %(date)s.") % {"date": _show_date(_bound_date(f["min"]))}
        if "max" in f and day > _bound_date(f["max"]):
            return text, _("The date must be on or before %(date)s.") % {"date": _show_date(_bound_date(f["max"]))}
        return day.isoformat(), ""
    if kind == "choice":
        if text not in {o["value"] for o in f["options"]}:
            return text, _("Choose one of the options shown.")
        return text, ""
    if kind == "id_number":
        number = re.sub(r"[\s.\-]", "", text)
        problems = personal_id_errors(number)
        return number, (problems[0] if problems else "")
    if kind == "email":
        try:
            validate_email(text)
        except ValidationError:
            return text, _("Enter a valid email address.")
        return text, ""
    if kind == "phone":
        return vietnamese_phone(text)
    raise ValueError(kind)


def _clean_address(f: Mapping[str, Any], data: Any, key: str, *, required: bool) -> tuple[Any, str]:
    with_street = f.get("street", True)
    street = _raw(data, f"{key}.street") if with_street else ""
    province_raw = _raw(data, f"{key}.province")
    commune_raw = _raw(data, f"{key}.commune")
    raw = {"street": street, "province_code": province_raw, "province_name": "", "commune_code": commune_raw,
           "commune_name": ""}  # fmt: skip
    if not street and not commune_raw:  # the province alone is preselected: nothing was entered
        return None, (_("Enter the address.") if required else "")
    if len(street) > TEXT_MAX:
        return raw, ngettext("At most %(count)d character.", "At most %(count)d characters.", TEXT_MAX) % {
            "count": TEXT_MAX
        }
    province = province_code(province_raw)
    if province is None:
        return raw, _("Choose the province or city.")
    if not commune_raw:
        return raw, _("Choose the commune, ward or special zone.")
    communes = _communes(province)
    commune = commune_code(commune_raw)
    if commune not in communes:
        # Without the script the commune list did not follow a change of province: the page shows the new list.
        return raw, _("Choose the commune, ward or special zone again: it is not in the chosen province.")
    if required and with_street and not street:
        return raw, _("Enter the house number and street (or hamlet).")
    return {
        "street": street,
        "province_code": province,
        "province_name": _provinces()[province],
        "commune_code": commune,
        "commune_name": communes[commune],
    }, ""


def _row_indices(data: Any, path: str) -> list[int]:
    keys = data.keys() if hasattr(data, "keys") else []
    found = set()
    for key in keys:
        if isinstance(key, str) and key.startswith(f"{path}."):
            index = key[len(path) + 1 :].partition(".")[0]
            if index.isdigit() and len(index) <= 3:
                found.add(int(index))
    return sorted(found)


def _row_blank(data: Any, prefix: str) -> bool:
    for key in data.keys() if hasattr(data, "keys") else []:
        # A preselected province alone is not something the citizen entered.
        if isinstance(key, str) and key.startswith(prefix) and not key.endswith(".province") and _raw_list(data, key):
            return False
    return True


def clean(schema: dict, data: Any, *, partial: bool = False) -> tuple[dict, dict[str, str]]:  # type: ignore[type-arg]
    """The posted form (``QueryDict`` or a dict of the same names) as typed, JSON-able values, and the errors by
    field path.

    Fields hidden by a false ``show_if`` are dropped and never required. With ``partial`` (saving a draft) nothing
    is required, but values are still checked. Where a value is invalid the values hold what was typed, so the form
    can be shown again as it was: store the values only when there are no errors (or as a draft, with ``partial``).
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    _clean_scope(_fields(schema), data, values, errors, read="", write="", partial=partial)
    return values, errors


def _clean_scope(
    fields: list[Mapping[str, Any]],
    data: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    read: str,
    write: str,
    partial: bool,
) -> None:
    for f in fields:
        kind = f["type"]
        if kind == "section" or not condition_met(f.get("show_if"), values):
            continue
        name = f["name"]
        required = bool(f.get("required")) and not partial
        if kind == "group":
            values[name] = _clean_group(f, data, errors, read=read + name, write=write + name, partial=partial)
            continue
        value, error = _clean_value(f, data, read + name, required=required)
        values[name] = value
        if error:
            errors[write + name] = error
    # An identification number checked against the date of birth entered with it (same form or row).
    for f in fields:
        name = f.get("name")
        if f["type"] == "id_number" and f.get("birth_date_field") and name in values and values[name]:
            born = values.get(f["birth_date_field"])
            if write + name not in errors and isinstance(born, str) and write + f["birth_date_field"] not in errors:
                problems = personal_id_errors(values[name], birth_date=dt.date.fromisoformat(born))
                if problems:
                    errors[write + name] = problems[0]


def _clean_group(
    f: Mapping[str, Any], data: Any, errors: dict[str, str], *, read: str, write: str, partial: bool
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for index in _row_indices(data, read):
        prefix = f"{read}.{index}."
        if _row_blank(data, prefix):
            continue
        row: dict[str, Any] = {}
        _clean_scope(f["fields"], data, row, errors, read=prefix, write=f"{write}.{len(rows)}.", partial=partial)
        rows.append(row)
    low = max(f.get("min_rows", 0), 1 if f.get("required") else 0)
    high = f.get("max_rows", DEFAULT_MAX_ROWS)
    if len(rows) > high:
        errors[write] = ngettext("At most %(count)d row.", "At most %(count)d rows.", high) % {"count": high}
    elif not partial and len(rows) < low:
        errors[write] = ngettext("Fill in at least %(count)d row.", "Fill in at least %(count)d rows.", low) % {
            "count": low
        }
    return rows


# Prefill


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _profile_value(f: Mapping[str, Any], key: str, profile: Mapping[str, Any]) -> Any:
    kind = f["type"]
    if key == "address":
        street = str(profile.get("address") or "").strip()
        commune = commune_code(profile.get("commune_code"))
        province = province_code(profile.get("province_code"))
        if province is None and commune:
            province = _province_of(commune)
        commune_name = _communes(province).get(commune, "") if province else ""
        commune_name = commune_name or str(profile.get("commune_name") or "")
        if kind == "address":
            if not street and not commune_name:
                return None
            return {
                "street": street,
                "province_code": province or "",
                "province_name": _provinces().get(province or "", ""),
                "commune_code": commune if commune_name else "",
                "commune_name": commune_name,
            }
        parts = [street, commune_name, _provinces().get(province or "", "")]
        return ", ".join(p for p in parts if p)
    value = profile.get(key)
    if isinstance(value, dt.date):
        return value.isoformat() if kind == "date" else _show_date(value)
    return "" if value is None else str(value)


@lru_cache(maxsize=512)
def _province_of(commune: str) -> str | None:
    for code in _provinces():
        if commune in _communes(code):
            return code
    return None


def prefill(schema: dict, *, profile: dict, previous: list[dict]) -> dict:  # type: ignore[type-arg]
    """Initial values: ``prefill: "<profile key>"`` from the citizen's profile, ``prefill: "previous"`` from the
    newest earlier dossier's form data (``previous``, newest first) that has a value under the same name."""
    values: dict[str, Any] = {}
    for f in _fields(schema):
        key, name = f.get("prefill"), f.get("name")
        if not key or not name or f.get("type") == "section":
            continue
        if key == PREVIOUS:
            for earlier in previous:
                if isinstance(earlier, Mapping) and _present(earlier.get(name)):
                    values[name] = copy.deepcopy(earlier[name])
                    break
        elif key in PREFILL_TYPES:
            value = _profile_value(f, key, profile)
            if _present(value):
                values[name] = value
    return values


# Rendering


@dataclass
class Bound:
    """One field as the template renders it (templates/portal/eform/)."""

    name: str  # the HTML name (path)
    id: str
    label: str
    type: str
    widget: str
    value: Any = ""
    error: str = ""
    help: str = ""
    required: bool = False
    options: list[dict[str, Any]] = field(default_factory=list)
    show_if: dict[str, Any] | None = None
    condition: str = ""  # the show_if in words, for pages without the script
    attrs: dict[str, Any] = field(default_factory=dict)
    # address
    street: dict[str, Any] | None = None
    province: dict[str, Any] | None = None
    commune: dict[str, Any] | None = None
    # group
    rows: list["Row"] = field(default_factory=list)
    template_row: "Row | None" = None
    min_rows: int = 0
    max_rows: int = 0
    row_label: str = ""

    @property
    def show_if_json(self) -> str:
        return json.dumps(self.show_if, ensure_ascii=False) if self.show_if else ""

    @property
    def describedby(self) -> str:
        ids = [f"{self.id}-help"] if self.help else []
        if self.condition:
            ids.append(f"{self.id}-when")
        if self.error:
            ids.append(f"{self.id}-error")
        return " ".join(ids)

    @property
    def anchor(self) -> str:
        """The id the error summary links to: the first input of the field."""
        if self.options and self.widget in ("radio", "checkboxes"):
            return self.options[0]["id"]
        if self.widget == "address":
            return (self.street or self.province or {}).get("id", self.id)
        return self.id


@dataclass
class Row:
    number: str  # 1-based, as shown; the template row's is empty
    index: str
    fields: list[Bound]
    spare: bool = False  # a blank row offered to pages without the script (which removes it)


def _html_id(path: str) -> str:
    return "ef-" + path.replace(".", "-")


def _widget(f: Mapping[str, Any]) -> str:
    kind = f["type"]
    if kind == "choice":
        if f.get("widget", "radio") == "select":
            return "select_multiple" if f.get("multiple") else "select"
        return "checkboxes" if f.get("multiple") else "radio"
    return {"text": "text", "id_number": "text", "email": "email", "phone": "tel", "number": "text"}.get(kind, kind)


def _attrs(f: Mapping[str, Any]) -> dict[str, Any]:
    kind = f["type"]
    attrs: dict[str, Any] = {}
    if kind in ("text", "textarea"):
        attrs["maxlength"] = f.get("max_length", TEXT_MAX if kind == "text" else TEXTAREA_MAX)
    elif kind == "id_number":
        attrs.update(inputmode="numeric", maxlength=12, autocomplete="off")
    elif kind == "number":
        attrs["inputmode"] = "numeric" if f.get("integer") else "decimal"
    elif kind == "email":
        attrs.update(autocomplete="email", maxlength=254)
    elif kind == "phone":
        attrs.update(autocomplete="tel", maxlength=20)
    if f.get("prefill") in AUTOCOMPLETE and kind in ("text", "date"):
        attrs["autocomplete"] = AUTOCOMPLETE[f["prefill"]]
    return attrs


def _shown_value(f: Mapping[str, Any], value: Any) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if f.get("type") == "choice":
        labels = {o["value"]: o["label"] for o in f.get("options") or []}
        return labels.get(value, str(value))
    return str(value)


def _condition_text(cond: Mapping[str, Any], scope_fields: Iterable[Mapping[str, Any]]) -> str:
    target = next((o for o in scope_fields if o.get("name") == cond["field"]), {})
    wanted = [cond["equals"]] if "equals" in cond else list(cond["in"])
    shown = ", ".join(f"“{_shown_value(target, w)}”" for w in wanted)
    label = target.get("label", cond["field"])
    if len(wanted) == 1:
        return _("Only when “%(field)s” is %(value)s.") % {"field": label, "value": shown}
    return _("Only when “%(field)s” is one of %(values)s.") % {"field": label, "values": shown}


class BoundFields(list):  # type: ignore[type-arg]
    """The bound fields, and what the form shows above them: the error summary, the note on required fields."""

    @property
    def summary(self) -> list[dict[str, str]]:
        items: list[dict[str, str]] = []
        for bound in self:
            _summarise(bound, items, prefix="")
        return items

    @property
    def any_required(self) -> bool:
        return any(b.required or b.min_rows for b in self)


def _summarise(bound: Bound, items: list[dict[str, str]], *, prefix: str) -> None:
    if bound.error:
        items.append({"anchor": bound.anchor, "label": prefix + bound.label.rstrip(". "), "message": bound.error})
    for row in bound.rows:
        for nested in row.fields:
            _summarise(nested, items, prefix=f"{bound.row_label} {row.number}: ")


def bound_fields(schema: dict, values: dict, errors: dict) -> list:  # type: ignore[type-arg]
    """What templates/portal/eform/form.html renders: one ``Bound`` per field, in order (a ``BoundFields``, whose
    ``summary`` lists the errors with the ids to link to)."""
    fields = _fields(schema)
    return BoundFields(_bind(f, fields, values or {}, errors or {}, prefix="") for f in fields)


def _bind(
    f: Mapping[str, Any],
    scope_fields: list[Mapping[str, Any]],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    prefix: str,
) -> Bound:
    kind = f["type"]
    name = f.get("name") or ""
    path = prefix + name if name else f"{prefix}section-{scope_fields.index(f)}"
    value = values.get(name) if name else None
    bound = Bound(
        name=path,
        id=_html_id(path),
        label=f.get("label", ""),
        type=kind,
        widget=_widget(f),
        error=errors.get(path, ""),
        help=f.get("help", ""),
        required=bool(f.get("required")),
        attrs=_attrs(f),
    )
    cond = f.get("show_if")
    if cond:
        bound.show_if = {**cond, "field": prefix + cond["field"]}
        bound.condition = _condition_text(cond, scope_fields)
    if kind == "section":
        return bound
    if kind == "checkbox":
        bound.value = value is True
    elif kind == "choice":
        chosen = value if isinstance(value, list) else [value]
        bound.value = value
        bound.options = [
            {"value": o["value"], "label": o["label"], "id": f"{bound.id}-{i}", "selected": o["value"] in chosen}
            for i, o in enumerate(f["options"])
        ]
    elif kind == "address":
        _bind_address(bound, f, value)
    elif kind == "group":
        _bind_group(bound, f, value, errors)
    elif kind == "date":
        if isinstance(value, str) and _parse_date(value) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            bound.value = value
        else:
            bound.value = "" if value is None else str(value)
            bound.widget = "text" if bound.value else "date"  # what was typed stays visible to correct it
    else:
        bound.value = "" if value is None else str(value)
    return bound


def _bind_address(bound: Bound, f: Mapping[str, Any], value: Any) -> None:
    value = value if isinstance(value, Mapping) else {}
    province = province_code(value.get("province_code")) or _default_province(f)
    commune = commune_code(value.get("commune_code"))
    if f.get("street", True):
        bound.street = {"name": f"{bound.name}.street", "id": f"{bound.id}-street", "value": value.get("street", "")}
    bound.province = {
        "name": f"{bound.name}.province",
        "id": f"{bound.id}-province",
        "options": [
            {"value": p["code"], "label": p["name"], "selected": p["code"] == province} for p in province_options()
        ],
    }
    bound.commune = {
        "name": f"{bound.name}.commune",
        "id": f"{bound.id}-commune",
        "options": [
            {"value": c["code"], "label": c["name"], "selected": c["code"] == commune}
            for c in commune_options(province)
        ],
    }


def _bind_group(bound: Bound, f: Mapping[str, Any], value: Any, errors: Mapping[str, str]) -> None:
    rows = [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []
    bound.min_rows = max(f.get("min_rows", 0), 1 if f.get("required") else 0)
    bound.max_rows = f.get("max_rows", DEFAULT_MAX_ROWS)
    bound.row_label = f.get("row_label") or f["label"]
    nested = f["fields"]
    shown = list(rows) + [{}] * max(bound.min_rows - len(rows), 0)
    spare = len(shown) < bound.max_rows
    if spare:
        shown.append({})
    for index, row in enumerate(shown):
        prefix = f"{bound.name}.{index}."
        bound.rows.append(
            Row(
                number=str(index + 1),
                index=str(index),
                fields=[_bind(n, nested, row, errors, prefix=prefix) for n in nested],
                spare=spare and index == len(shown) - 1,
            )
        )
    template_prefix = f"{bound.name}.{ROW}."
    bound.template_row = Row(
        number="", index=ROW, fields=[_bind(n, nested, {}, {}, prefix=template_prefix) for n in nested]
    )


# Display (review page, officers' dossier page, receipts)


def display_rows(schema: dict, values: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """(label, value) pairs of what the applicant entered, for reading. A section is a heading: (label, "").
    Empty answers and fields hidden by their condition are left out; a group's rows come as
    ("<row label> <n>: <field label>", value)."""
    rows: list[tuple[str, str]] = []
    _display_scope(_fields(schema), values or {}, rows, prefix="")
    # A heading with nothing under it (every answer of its section empty) is left out too.
    return [row for i, row in enumerate(rows) if row[1] or (i + 1 < len(rows) and rows[i + 1][1])]


def _display_scope(
    fields: list[Mapping[str, Any]], values: Mapping[str, Any], rows: list[tuple[str, str]], *, prefix: str
) -> None:
    for f in fields:
        if not condition_met(f.get("show_if"), values):
            continue
        label = prefix + f["label"]
        if f["type"] == "section":
            if not prefix:
                rows.append((f["label"], ""))
            continue
        value = values.get(f["name"])
        if f["type"] == "group":
            row_label = f.get("row_label") or f["label"]
            for number, row in enumerate(value if isinstance(value, list) else [], start=1):
                _display_scope(f["fields"], row, rows, prefix=f"{row_label} {number}: ")
            continue
        if f["type"] == "checkbox":
            rows.append((label, _("Yes") if value is True else _("No")))
            continue
        if not _present(value):
            continue
        rows.append((label, _display_value(f, value)))


def _display_value(f: Mapping[str, Any], value: Any) -> str:
    kind = f["type"]
    if kind == "choice":
        labels = {o["value"]: o["label"] for o in f["options"]}
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, str(v)) for v in chosen)
    if kind == "address" and isinstance(value, Mapping):
        parts = [value.get("street"), value.get("commune_name"), value.get("province_name")]
        return ", ".join(str(p) for p in parts if p)
    if kind == "date" and isinstance(value, str):
        try:
            return _show_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    if kind == "number" and _is_number(value):
        return _number_text(value)
    return str(value)


KEY_ORDER = ["name", "label", "type", "required", "help", "prefill", "show_if", "widget", "multiple", "options",
             "max_length", "pattern", "pattern_message", "min", "max", "integer", "past_only", "street",
             "default_province", "birth_date_field", "row_label", "min_rows", "max_rows", "fields"]  # fmt: skip


def ordered(schema: dict) -> dict:  # type: ignore[type-arg]
    """The schema with each field's keys in reading order (name, label, type first): PostgreSQL's jsonb keeps keys
    in its own order, which is not the one an administrator wants to edit."""
    if not isinstance(schema, Mapping):
        return schema

    def field(f: Any) -> Any:
        if not isinstance(f, Mapping):
            return f
        keys = sorted(f, key=lambda k: (KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER), k))
        return {k: [field(n) for n in f[k]] if k == "fields" and isinstance(f[k], list) else f[k] for k in keys}

    out = {key: value for key, value in schema.items() if key not in ("version", "fields")}
    if "version" in schema:
        out = {"version": schema["version"], **out}
    if "fields" in schema:
        out["fields"] = [field(f) for f in schema["fields"]] if isinstance(schema["fields"], list) else schema["fields"]
    return out


@lru_cache(maxsize=1)
def _snippets() -> dict[str, dict[str, Any]]:
    return json.loads((DATA_DIR / "_snippets.json").read_text(encoding="utf-8"))


def field_snippets() -> dict[str, dict[str, Any]]:
    """Ready-made fields the back-office editor inserts (full name, ID number, address, members...), by key."""
    return copy.deepcopy(_snippets())


# Who edits forms (the service and the back office ask the same question)

EDITOR_ROLES = {Role.PROVINCE_ADMIN, Role.AGENCY_ADMIN}


def procedures_for_form_editor(*, actor: Staff) -> QuerySet[Procedure]:
    """The procedures whose online form an administrator may edit.

    A province administrator edits every form. An agency administrator edits the forms of the province-level
    procedures their agency is competent for today; a commune-level procedure's form is shared by every commune, so
    only the province edits it.
    """
    if actor.role == Role.PROVINCE_ADMIN:
        return Procedure.objects.all()
    if actor.role == Role.AGENCY_ADMIN:
        return Procedure.objects.filter(
            level=Procedure.Level.PROVINCE,
            pk__in=Competence.objects.valid_on(timezone.localdate())
            .filter(agency_id=actor.agency_id)
            .values("procedure_id"),
        )
    return Procedure.objects.none()
