"""eForms: the schema format and its checks, parsing posted forms, prefill, rendering, the communes endpoint and the
back-office editor (procedures/eforms.py, templates/portal/eform/, api/units.py, backoffice/eforms.py)."""

import copy
import datetime as dt
import json
import re
from html.parser import HTMLParser

import pytest
import time_machine
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.translation import gettext

from core.errors import PermissionDenied, ValidationFailed
from organizations.models import Agency, Role
from organizations.services import staff_create
from procedures import eforms
from procedures.models import Procedure
from procedures.services import eforms_load_demo, procedure_form_set

from .conftest import PASSWORD
from .dossier_helpers import ID_NUMBER, officer

pytestmark = pytest.mark.django_db

BIRTH = "1.001193"  # Đăng ký khai sinh (commune level)
HOUSEHOLD = "1.001612"  # Đăng ký thành lập hộ kinh doanh (commune level)
NOTARY = "1.013805"  # Đăng ký hoạt động Văn phòng công chứng (province level, Sở Tư pháp)
TODAY = dt.date(2025, 9, 15)
MOTHER_ID = ID_NUMBER  # born in 1995
REQUIRED = "This field is required."


def demo(code: str) -> dict:  # type: ignore[type-arg]
    return json.loads((eforms.DATA_DIR / f"{code}.json").read_text(encoding="utf-8"))


def schema(*fields: dict) -> dict:  # type: ignore[type-arg]
    return {"version": 1, "fields": list(fields)}


def text(name: str, **extra) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"name": name, "label": f"Nhãn {name}", "type": "text", **extra}


YES_NO = [{"value": "co", "label": "Có"}, {"value": "khong", "label": "Không"}]


# schema_errors


@pytest.mark.parametrize("code", ["1.001193", "1.001612", "1.000656", "1.004873", "2.000635"])
def test_demo_forms_are_valid(code):
    assert eforms.schema_errors(demo(code)) == []


def test_no_form_and_the_snippets_are_valid():
    assert eforms.schema_errors({}) == []
    assert eforms.schema_errors(schema(*eforms.field_snippets().values())) == []


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        (schema({"name": "a", "label": "A", "type": "colour"}), "colour"),
        (schema(text("a"), text("a")), "“a”"),
        (schema(text("b", show_if={"field": "nobody", "equals": "x"})), "nobody"),
        # A condition on a field below it is refused too (conditions read the fields above).
        (schema(text("b", show_if={"field": "c", "equals": "x"}), text("c")), "“c”"),
        (schema({"name": "c", "label": "C", "type": "choice", "options": []}), "options"),
        (schema({"name": "c", "label": "C", "type": "choice", "options": [{"value": "x"}]}), "options"),
        (schema({"name": "c", "label": "C", "type": "choice", "options": [{"value": "x", "label": "X"}] * 2}), "c"),
        (
            schema(
                {"name": "c", "label": "C", "type": "choice", "options": YES_NO},
                text("d", show_if={"field": "c", "equals": "maybe"}),
            ),
            "maybe",
        ),
        (schema(text("a", requried=True)), "requried"),
        (schema(text("a", prefill="passport")), "passport"),
        (schema({"name": "a", "label": "A", "type": "number", "prefill": "full_name"}), "full_name"),
        (schema(text("a", pattern="([")), "pattern"),
        (schema(text("Ho ten")), "Ho ten"),
        (schema(text("action")), "action"),
        (schema(text("a", label="")), "a"),
        (schema({"name": "n", "label": "N", "type": "number", "min": 5, "max": 1}), "min"),
        (schema({"name": "d", "label": "D", "type": "date", "min": "15/09/2025"}), "min"),
        (schema({"name": "i", "label": "I", "type": "id_number", "birth_date_field": "a"}, text("a")), "birth_date"),
        (
            schema({"name": "g", "label": "G", "type": "group", "fields": [text("x")], "min_rows": 3, "max_rows": 2}),
            "g",
        ),
        (schema({"name": "g", "label": "G", "type": "group", "fields": []}), "g"),
        (
            schema({"name": "g", "label": "G", "type": "group", "fields": [{"type": "section", "label": "S"}]}),
            "section",
        ),
        (schema({"name": "a", "label": "A", "type": "address", "default_province": 99}), "default_province"),
        ({"fields": [text("a")]}, "version"),
        ({"version": 1, "fields": "a"}, "fields"),
        ({"version": 1, "fields": [], "title": "x"}, "title"),
    ],
)
def test_schema_errors_name_the_problem(bad, needle):
    errors = eforms.schema_errors(bad)
    assert errors, bad
    assert any(needle in e for e in errors), errors


def test_schema_errors_on_something_else_than_an_object():
    assert eforms.schema_errors([]) == [gettext("The form must be a JSON object.")]  # type: ignore[arg-type]


# clean(): each type


def test_text_required_length_pattern_and_unicode_normalisation():
    form = schema(
        text("ho_ten", required=True, max_length=10),
        text("ma", pattern=r"\d{3}", pattern_message="Ba chữ số."),
        text("tuy_chon"),
    )
    values, errors = eforms.clean(form, {"ho_ten": "", "ma": "12a"})
    assert errors == {"ho_ten": gettext(REQUIRED), "ma": "Ba chữ số."}
    assert values["ma"] == "12a"  # kept as typed, to show again

    decomposed = "Nguye\u0302\u0303n"  # "Nguyễn" typed with combining marks
    values, errors = eforms.clean(form, {"ho_ten": f"  {decomposed} ", "ma": "123"})
    assert errors == {}
    assert values == {"ho_ten": "Nguyễn", "ma": "123", "tuy_chon": ""}

    _values, errors = eforms.clean(form, {"ho_ten": "x" * 11})
    assert "10" in errors["ho_ten"]


def test_textarea_keeps_lines():
    form = schema({"name": "ghi_chu", "label": "Ghi chú", "type": "textarea", "max_length": 20})
    assert eforms.clean(form, {"ghi_chu": "dòng 1\r\ndòng 2"}) == ({"ghi_chu": "dòng 1\ndòng 2"}, {})
    assert "ghi_chu" in eforms.clean(form, {"ghi_chu": "x" * 21})[1]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1.234.567,5", 1234567.5), ("2500000", 2500000), ("12,0", 12), ("3.5", 3.5), ("-1", -1), (" 7 ", 7)],
)
def test_number_reads_vietnamese_and_plain_writing(typed, expected):
    form = schema({"name": "so", "label": "Số", "type": "number"})
    values, errors = eforms.clean(form, {"so": typed})
    assert errors == {}
    assert values["so"] == expected
    assert isinstance(values["so"], int) == isinstance(expected, int)


@pytest.mark.parametrize("typed", ["abc", "NaN", "Infinity", "1e400", "1,5", "11", "-2"])
def test_number_refuses_bad_input(typed):
    form = schema({"name": "so", "label": "Số", "type": "number", "integer": True, "min": 0, "max": 10})
    values, errors = eforms.clean(form, {"so": typed})
    assert "so" in errors
    assert values["so"] == typed


@time_machine.travel(dt.datetime(2025, 9, 15, 9, 0, tzinfo=dt.UTC))
def test_date_formats_past_only_and_bounds():
    form = schema(
        {"name": "sinh", "label": "Ngày sinh", "type": "date", "required": True, "past_only": True},
        {"name": "hen", "label": "Ngày hẹn", "type": "date", "min": "today", "max": "2025-12-31"},
    )
    assert eforms.clean(form, {"sinh": "2025-09-14"}) == ({"sinh": "2025-09-14", "hen": None}, {})
    assert eforms.clean(form, {"sinh": "14/09/2025"})[0]["sinh"] == "2025-09-14"

    values, errors = eforms.clean(form, {"sinh": "31/02/2025", "hen": "2025-09-14"})
    assert errors["sinh"] == gettext("Enter a valid date (day/month/year).")
    assert values["sinh"] == "31/02/2025"
    assert errors["hen"] == gettext("The date must be on or after %(date)s.") % {"date": "15/09/2025"}

    _values, errors = eforms.clean(form, {"sinh": "2025-09-16", "hen": "2026-01-01"})
    assert errors["sinh"] == gettext("The date cannot be in the future.")
    assert errors["hen"] == gettext("The date must be on or before %(date)s.") % {"date": "31/12/2025"}


def test_choice_single_and_multiple():
    options = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "c", "label": "C"}]
    form = schema(
        {"name": "mot", "label": "Một", "type": "choice", "required": True, "options": options},
        {"name": "nhieu", "label": "Nhiều", "type": "choice", "multiple": True, "widget": "select", "options": options},
    )
    data = QueryDict(mutable=True)
    data["mot"] = "b"
    data.setlist("nhieu", ["c", "a"])
    assert eforms.clean(form, data) == ({"mot": "b", "nhieu": ["a", "c"]}, {})

    values, errors = eforms.clean(form, {"mot": "z", "nhieu": ["a", "zz"]})
    assert set(errors) == {"mot", "nhieu"}
    assert values["mot"] == "z"

    _values, errors = eforms.clean(form, {})
    assert errors == {"mot": gettext(REQUIRED)}


def test_checkbox():
    form = schema({"name": "cam_doan", "label": "Tôi cam đoan", "type": "checkbox", "required": True})
    assert eforms.clean(form, {"cam_doan": "on"}) == ({"cam_doan": True}, {})
    values, errors = eforms.clean(form, {})
    assert values == {"cam_doan": False}
    assert errors == {"cam_doan": gettext("Tick this box to continue.")}


def test_address_values_and_errors():
    form = schema(
        {"name": "noi_o", "label": "Nơi ở", "type": "address", "required": True},
        {"name": "noi_khac", "label": "Nơi khác", "type": "address"},
    )
    data = {"noi_o.street": "12 Trần Hưng Đạo", "noi_o.province": "91", "noi_o.commune": "30307",
            "noi_khac.province": "91", "noi_khac.street": "", "noi_khac.commune": ""}  # fmt: skip
    values, errors = eforms.clean(form, data)
    assert errors == {}
    assert values == {
        "noi_o": {
            "street": "12 Trần Hưng Đạo",
            "province_code": "91",
            "province_name": "An Giang",
            "commune_code": "30307",
            "commune_name": "Phường Long Xuyên",
        },
        "noi_khac": None,  # the preselected province alone is not an address
    }

    # Hà Nội chosen but the commune list still An Giang's (a page without the script): asked again.
    values, errors = eforms.clean(form, {**data, "noi_o.province": "1"})
    assert errors["noi_o"] == gettext(
        "Choose the commune, ward or special zone again: it is not in the chosen province."
    )
    assert values["noi_o"]["commune_code"] == "30307"

    _values, errors = eforms.clean(form, {"noi_o.province": "91"})
    assert errors == {"noi_o": gettext("Enter the address.")}
    _values, errors = eforms.clean(form, {**data, "noi_o.street": ""})
    assert errors == {"noi_o": gettext("Enter the house number and street (or hamlet).")}
    _values, errors = eforms.clean(form, {**data, "noi_o.province": "99"})
    assert errors == {"noi_o": gettext("Choose the province or city.")}


def test_id_number_email_and_phone():
    form = schema(
        {"name": "sinh", "label": "Ngày sinh", "type": "date"},
        {"name": "cccd", "label": "Số định danh", "type": "id_number", "birth_date_field": "sinh"},
        {"name": "thu", "label": "Thư", "type": "email"},
        {"name": "dt", "label": "Điện thoại", "type": "phone"},
    )
    values, errors = eforms.clean(
        form, {"sinh": "1995-03-14", "cccd": "089 195 000 123", "thu": "a@b.vn", "dt": "+84 912 345 678"}
    )
    assert errors == {}
    assert values == {"sinh": "1995-03-14", "cccd": ID_NUMBER, "thu": "a@b.vn", "dt": "0912345678"}
    assert eforms.clean(form, {"dt": "0296 3852 222"})[0]["dt"] == "02963852222"  # An Giang landline

    values, errors = eforms.clean(form, {"sinh": "1990-01-01", "cccd": ID_NUMBER, "thu": "a@", "dt": "0123456789"})
    assert errors["cccd"] == gettext("The number does not match the date of birth (year %(year)s).") % {"year": 1990}
    assert set(errors) == {"cccd", "thu", "dt"}
    assert values["dt"] == "0123456789"

    _values, errors = eforms.clean(form, {"cccd": "12345"})
    assert errors == {"cccd": gettext("A personal identification number has exactly 12 digits.")}


def test_group_rows_are_compacted_and_checked_row_by_row():
    form = demo(HOUSEHOLD)
    members = {
        "thanh_vien.0.ho_ten": "Trần Văn Bình",
        "thanh_vien.0.ngay_sinh": "1995-03-14",
        "thanh_vien.0.so_dinh_danh": ID_NUMBER,
        "thanh_vien.0.quan_he": "Con",
        # row 1 removed in the browser; row 2 blank (the spare row); row 3 filled but with a bad number
        "thanh_vien.2.ho_ten": "",
        "thanh_vien.3.ho_ten": "Trần Thị Cúc",
        "thanh_vien.3.ngay_sinh": "2001-05-02",
        "thanh_vien.3.so_dinh_danh": "123",
        "thanh_vien.3.quan_he": "Con",
    }
    values, errors = eforms.clean(form, {"ho_gia_dinh": "co", **members}, partial=True)
    assert [row["ho_ten"] for row in values["thanh_vien"]] == ["Trần Văn Bình", "Trần Thị Cúc"]
    assert values["thanh_vien"][0]["so_dinh_danh"] == ID_NUMBER
    assert errors == {"thanh_vien.1.so_dinh_danh": gettext("A personal identification number has exactly 12 digits.")}

    # Not partial: at least one member when the household registers together, and at most ten.
    _values, errors = eforms.clean(form, {"ho_gia_dinh": "co"})
    assert "thanh_vien" in errors
    many = {f"thanh_vien.{i}.ho_ten": f"Người {i}" for i in range(11)}
    _values, errors = eforms.clean(form, {"ho_gia_dinh": "co", **many}, partial=True)
    assert "thanh_vien" in errors

    # The group is hidden when the household does not register together: its rows are dropped, nothing required.
    values, errors = eforms.clean(form, {"ho_gia_dinh": "khong", **members})
    assert "thanh_vien" not in values
    assert not any(key.startswith("thanh_vien") for key in errors)


def test_show_if_hidden_required_field_is_dropped_and_not_required():
    form = demo(BIRTH)
    values, errors = eforms.clean(form, {"cha_me_ket_hon": "khong", "so_giay_ket_hon": "123/2020"})
    assert "so_giay_ket_hon" not in values
    assert "so_giay_ket_hon" not in errors
    values, errors = eforms.clean(form, {"cha_me_ket_hon": "co"})
    assert errors["so_giay_ket_hon"] == gettext(REQUIRED)
    values, errors = eforms.clean(form, {"cha_me_ket_hon": "co", "so_giay_ket_hon": "123/2020"})
    assert values["so_giay_ket_hon"] == "123/2020"
    assert "so_giay_ket_hon" not in errors


def test_show_if_in_chains_and_ticks():
    form = schema(
        {"name": "quan_he", "label": "Quan hệ", "type": "choice",
         "options": [{"value": "con", "label": "Con"}, {"value": "khac", "label": "Khác"},
                     {"value": "dai_dien", "label": "Đại diện"}]},
        text("ghi_ro", required=True, show_if={"field": "quan_he", "in": ["khac", "dai_dien"]}),
        text("chi_tiet", required=True, show_if={"field": "ghi_ro", "equals": "tổ chức"}),
        {"name": "khong_tick", "label": "Không đánh dấu", "type": "checkbox"},
        text("khi_khong_tick", required=True, show_if={"field": "khong_tick", "equals": False}),
    )  # fmt: skip
    _values, errors = eforms.clean(form, {"quan_he": "con", "khong_tick": "on"})
    assert errors == {}
    _values, errors = eforms.clean(form, {"quan_he": "dai_dien", "ghi_ro": "tổ chức", "khong_tick": "on"})
    assert set(errors) == {"chi_tiet"}
    _values, errors = eforms.clean(form, {"quan_he": "con"})
    assert set(errors) == {"khi_khong_tick"}


def test_partial_keeps_values_skips_required_but_still_checks_formats():
    form = demo(BIRTH)
    values, errors = eforms.clean(form, {"ho_ten": "Nguyễn Minh An", "ngay_sinh": "không nhớ"}, partial=True)
    assert values["ho_ten"] == "Nguyễn Minh An"
    assert values["ngay_sinh"] == "không nhớ"
    assert errors == {"ngay_sinh": gettext("Enter a valid date (day/month/year).")}
    values, errors = eforms.clean(form, {"ho_ten": "Nguyễn Minh An"}, partial=True)
    assert errors == {}


def test_a_complete_birth_registration_is_clean():
    data = {
        "ho_ten": "Nguyễn Minh An", "ngay_sinh": "2025-08-01", "gioi_tinh": "nam", "dan_toc": "Kinh",
        "quoc_tich": "Việt Nam", "noi_sinh.street": "Bệnh viện Đa khoa Trung tâm An Giang", "noi_sinh.province": "91",
        "noi_sinh.commune": "30307", "ho_ten_me": "Trần Thị Hoa", "ngay_sinh_me": "1995-03-14",
        "so_dinh_danh_me": MOTHER_ID, "noi_cu_tru_me.street": "12 Trần Hưng Đạo", "noi_cu_tru_me.province": "91",
        "noi_cu_tru_me.commune": "30307", "cha_me_ket_hon": "co", "so_giay_ket_hon": "15/2020",
        "quan_he": "me", "so_ban_sao": "2", "cam_doan": "on",
    }  # fmt: skip
    values, errors = eforms.clean(demo(BIRTH), data)
    assert errors == {}
    assert values["so_ban_sao"] == 2
    assert values["noi_sinh"]["commune_name"] == "Phường Long Xuyên"
    json.dumps(values)  # JSON-able as it is


# prefill


def test_prefill_from_profile():
    form = demo("1.004873")
    profile = {"full_name": "Lê Thị Thu", "id_number": ID_NUMBER, "birth_date": dt.date(1995, 3, 14),
               "phone": "0912345678", "email": "thu@example.vn", "address": "12 Trần Hưng Đạo",
               "commune_code": 30307, "commune_name": "Phường Long Xuyên", "province_code": 91}  # fmt: skip
    values = eforms.prefill(form, profile=profile, previous=[])
    assert values == {
        "ho_ten": "Lê Thị Thu",
        "ngay_sinh": "1995-03-14",
        "so_dinh_danh": ID_NUMBER,
        "noi_cu_tru": {
            "street": "12 Trần Hưng Đạo",
            "province_code": "91",
            "province_name": "An Giang",
            "commune_code": "30307",
            "commune_name": "Phường Long Xuyên",
        },
    }
    # A text field filled with the address reads as one line; missing profile values fill nothing.
    text_form = schema(text("dia_chi", prefill="address"), text("thu", prefill="email"))
    assert eforms.prefill(text_form, profile=profile, previous=[]) == {
        "dia_chi": "12 Trần Hưng Đạo, Phường Long Xuyên, An Giang",
        "thu": "thu@example.vn",
    }
    assert eforms.prefill(text_form, profile={"full_name": "X"}, previous=[]) == {}


def test_prefill_from_the_newest_previous_dossier_with_the_field():
    form = demo(BIRTH)
    previous = [
        {"ho_ten_me": "", "ho_ten": "Con thứ hai"},  # newest: no mother's name
        {"ho_ten_me": "Trần Thị Hoa", "so_dinh_danh_me": MOTHER_ID, "ho_ten_cha": "Nguyễn Văn Nam"},
        {"ho_ten_me": "Người cũ hơn"},
    ]
    values = eforms.prefill(form, profile={"full_name": "Trần Thị Hoa"}, previous=previous)
    assert values == {"ho_ten_me": "Trần Thị Hoa", "so_dinh_danh_me": MOTHER_ID, "ho_ten_cha": "Nguyễn Văn Nam"}
    assert "ho_ten" not in values  # the child's name is never carried over
    values["ho_ten_me"] = "changed"
    assert previous[1]["ho_ten_me"] == "Trần Thị Hoa"  # a copy, not the earlier dossier's data


# Rendering


class _Tags(HTMLParser):
    """Every element outside <template>, with its attributes and the ids of its enclosing elements."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.template_depth = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag == "template":
            self.template_depth += 1
        elif not self.template_depth:
            self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "template":
            self.template_depth -= 1


def _render(form: dict, values: dict, errors: dict) -> str:  # type: ignore[type-arg]
    return render_to_string("portal/eform/form.html", {"fields": eforms.bound_fields(form, values, errors)})


@pytest.mark.parametrize("code", ["1.001193", "1.001612", "1.004873"])
def test_every_input_has_a_label_and_every_error_is_described(code):
    form = demo(code)
    values, errors = eforms.clean(form, {"ho_gia_dinh": "co", "da_tung_cu_tru_noi_khac": "on"})
    assert errors
    html = _render(form, values, errors)
    parser = _Tags()
    parser.feed(html)
    labelled = {a["for"] for tag, a in parser.elements if tag == "label"}
    inputs = [(t, a) for t, a in parser.elements if t in ("input", "select", "textarea") and a.get("type") != "hidden"]
    assert inputs
    for tag, attrs in inputs:
        assert attrs.get("id") in labelled, (tag, attrs)
    described = " ".join(a.get("aria-describedby", "") for _t, a in parser.elements).split()
    error_ids = [a["id"] for _t, a in parser.elements if "error" in a.get("class", "").split() and "id" in a]
    assert len(error_ids) == len(errors)
    for error_id in error_ids:
        assert error_id in described
    groups = {f["name"] for f in form["fields"] if f["type"] == "group"}
    for path in set(errors) - groups:
        controls = [a for _t, a in inputs if a["name"] == path or a["name"].startswith(path + ".")]
        assert controls, path
        assert all(a.get("aria-invalid") == "true" for a in controls), path
    # The summary links to the fields.
    ids = {a.get("id") for _t, a in parser.elements}
    links = re.findall(r'href="#([^"]+)"', html)
    assert len(links) == len(errors)
    assert set(links) <= ids


def test_rendering_keeps_what_was_typed_and_marks_conditions():
    form = demo(BIRTH)
    values, errors = eforms.clean(form, {"ho_ten": "Nguyễn <An>", "ngay_sinh": "31/02/2025", "cha_me_ket_hon": "co"})
    html = _render(form, values, errors)
    assert 'value="Nguyễn &lt;An&gt;"' in html
    assert 'name="ngay_sinh" value="31/02/2025"' in html  # shown as text, to correct it
    assert 'value="co" checked' in html
    assert "data-show-if=" in html and "&quot;cha_me_ket_hon&quot;" in html
    when = gettext("Only when “%(field)s” is %(value)s.") % {
        "field": "Cha, mẹ của trẻ đã đăng ký kết hôn?",
        "value": "“Có”",
    }
    assert when in html


def test_group_rendering_has_rows_a_spare_row_and_a_template():
    form = demo(HOUSEHOLD)
    values = {"ho_gia_dinh": "co", "thanh_vien": [{"ho_ten": "Trần Văn Bình"}, {"ho_ten": "Trần Thị Cúc"}]}
    fields = eforms.bound_fields(form, values, {"thanh_vien.1.ho_ten": "Sai"})
    group = next(f for f in fields if f.name == "thanh_vien")
    assert [row.index for row in group.rows] == ["0", "1", "2"]
    assert [row.spare for row in group.rows] == [False, False, True]
    assert group.rows[1].fields[0].name == "thanh_vien.1.ho_ten"
    assert group.rows[1].fields[0].error == "Sai"
    assert group.template_row.fields[0].name == "thanh_vien.__i__.ho_ten"
    html = _render(form, values, {})
    assert 'name="thanh_vien.1.ho_ten" value="Trần Thị Cúc"' in html
    assert "<template data-eform-template>" in html
    # the spare row posted blank is dropped again
    posted = {"ho_gia_dinh": "co", "thanh_vien.0.ho_ten": "Trần Văn Bình", "thanh_vien.2.ho_ten": ""}
    assert len(eforms.clean(form, posted, partial=True)[0]["thanh_vien"]) == 1


def test_address_selects_list_provinces_and_the_chosen_provinces_communes():
    form = schema({"name": "dc", "label": "Địa chỉ", "type": "address"})
    (field,) = eforms.bound_fields(form, {}, {})
    assert len(field.province["options"]) == 34
    assert [o["label"] for o in field.province["options"] if o["selected"]] == ["An Giang"]
    assert len(field.commune["options"]) == 102
    (field,) = eforms.bound_fields(form, {"dc": {"province_code": "01", "commune_code": "00004"}}, {})
    assert [o["label"] for o in field.province["options"] if o["selected"]] == ["Thành phố Hà Nội"]
    assert [o["value"] for o in field.commune["options"] if o["selected"]] == ["00004"]


def test_display_rows():
    form = demo(HOUSEHOLD)
    values = {
        "ten_ho_kinh_doanh": "Hộ kinh doanh Minh Phát",
        "dia_diem_kinh_doanh": {"street": "5 Lê Lợi", "province_code": "91", "province_name": "An Giang",
                                "commune_code": "30307", "commune_name": "Phường Long Xuyên"},
        "von_kinh_doanh": 150000000,
        "ngay_sinh_chu_ho": "1990-01-31",
        "ho_gia_dinh": "co",
        "thanh_vien": [{"ho_ten": "Trần Văn Bình", "quan_he": "Con"}],
        "cam_doan": True,
    }  # fmt: skip
    rows = eforms.display_rows(form, values)
    assert ("Tên hộ kinh doanh", "Hộ kinh doanh Minh Phát") in rows
    assert ("Địa điểm kinh doanh", "5 Lê Lợi, Phường Long Xuyên, An Giang") in rows
    assert ("Vốn kinh doanh (đồng)", "150.000.000") in rows
    assert ("Ngày sinh", "31/01/1990") in rows
    assert ("Hộ kinh doanh do các thành viên hộ gia đình cùng đăng ký thành lập?", "Có") in rows
    assert ("Thành viên 1: Họ, chữ đệm, tên", "Trần Văn Bình") in rows
    assert (form["fields"][-1]["label"], gettext("Yes")) in rows
    assert rows[0] == ("Hộ kinh doanh", "")  # a section is a heading row
    assert not any(label == "Thư điện tử" for label, _v in rows)  # empty answers left out
    hidden = eforms.display_rows(form, {**values, "ho_gia_dinh": "khong"})
    assert not any(label.startswith("Thành viên 1") for label, _v in hidden)
    assert ("Thành viên hộ gia đình", "") in rows


# The communes endpoint


def test_communes_endpoint(client):
    response = client.get("/api/v1/units/communes/", {"province": "91"})
    assert response.status_code == 200
    units = response.json()
    assert len(units) == 102
    assert {"code": "30307", "name": "Phường Long Xuyên"} in units
    assert {"code": "31078", "name": "Đặc khu Phú Quốc"} in units
    assert "max-age=86400" in response["Cache-Control"]
    assert client.get("/api/v1/units/communes/", {"province": "1"}).json()[0]["code"].startswith("0")
    assert client.get("/api/v1/units/communes/", {"province": "99"}).status_code == 404
    assert client.get("/api/v1/units/communes/").status_code == 400
    assert client.get("/api/v1/units/communes/", {"province": "an-giang"}).status_code == 400


# The service and the demo data


def admin(*, key: str = "vp_ubnd", role: str = Role.PROVINCE_ADMIN, username: str = "qt.bieumau"):  # type: ignore[no-untyped-def]
    return staff_create(
        username=username,
        password=PASSWORD,
        agency_identifier=Agency.objects.get(key=key).identifier,
        role=role,
        full_name="Phạm Quản Trị",
    )


def test_procedure_form_set_saves_a_valid_form_only():
    by = admin()
    procedure = Procedure.objects.get(code=BIRTH)
    saved = procedure_form_set(procedure=procedure, schema=demo(BIRTH), by=by)
    assert Procedure.objects.get(code=BIRTH).form_schema == demo(BIRTH) == saved.form_schema

    bad = schema({"name": "x", "label": "X", "type": "colour"})
    with pytest.raises(ValidationFailed) as caught:
        procedure_form_set(procedure=procedure, schema=bad, by=by)
    assert caught.value.detail["form_schema"]
    assert Procedure.objects.get(code=BIRTH).form_schema == demo(BIRTH)


def test_who_may_set_a_form():
    procedure = Procedure.objects.get(code=NOTARY)
    clerk = officer(agency_key="stp")
    with pytest.raises(PermissionDenied):
        procedure_form_set(procedure=procedure, schema=demo(BIRTH), by=clerk)
    # The Department of Justice's administrator edits its own province-level procedure...
    justice = admin(key="stp", role=Role.AGENCY_ADMIN, username="qt.stp")
    procedure_form_set(procedure=procedure, schema=demo(BIRTH), by=justice)
    assert Procedure.objects.get(code=NOTARY).form_schema == demo(BIRTH)
    # ...not another department's, nor a commune-level one (shared by every commune: the province's).
    for code in ("2.001610", BIRTH):
        with pytest.raises(PermissionDenied):
            procedure_form_set(procedure=Procedure.objects.get(code=code), schema=demo(BIRTH), by=justice)
        assert Procedure.objects.get(code=code).form_schema == {}
    commune_admin = admin(key="ubnd_30307", role=Role.AGENCY_ADMIN, username="qt.xa")
    with pytest.raises(PermissionDenied):
        procedure_form_set(procedure=Procedure.objects.get(code=BIRTH), schema=demo(BIRTH), by=commune_admin)
    assert Procedure.objects.get(code=BIRTH).form_schema == {}


def test_eforms_load_demo_is_idempotent_and_keeps_edited_forms():
    assert eforms_load_demo() == 5
    assert Procedure.objects.get(code=BIRTH).form_schema == demo(BIRTH)
    assert eforms_load_demo() == 0
    edited = copy.deepcopy(demo(BIRTH))
    edited["fields"].pop()
    Procedure.objects.filter(code=BIRTH).update(form_schema=edited)
    assert eforms_load_demo() == 0
    assert Procedure.objects.get(code=BIRTH).form_schema == edited
    assert eforms_load_demo(overwrite=True) == 1
    assert Procedure.objects.get(code=BIRTH).form_schema == demo(BIRTH)


# The back-office editor


def signed_in(client, staff):  # type: ignore[no-untyped-def]
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def test_editor_list_search_and_filter(client, django_assert_max_num_queries):
    signed_in(client, admin())
    eforms_load_demo()
    with django_assert_max_num_queries(8):
        response = client.get("/mot-cua/bieu-mau/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == Procedure.objects.published().count()
    assert len(response.context["page"]) == 50
    with_form = client.get("/mot-cua/bieu-mau/", {"bieu-mau": "co"}).content.decode()
    assert BIRTH in with_form and NOTARY not in with_form
    without = client.get("/mot-cua/bieu-mau/", {"bieu-mau": "chua", "q": "đăng ký"}).content.decode()
    assert NOTARY in without and BIRTH not in without
    found = client.get("/mot-cua/bieu-mau/", {"q": "khai sinh"}).content.decode()
    assert BIRTH in found and HOUSEHOLD not in found


def test_admin_saves_a_valid_form(client):
    signed_in(client, admin())
    page = client.get(f"/mot-cua/bieu-mau/{BIRTH}/")
    assert page.status_code == 200
    assert 'id="eform-schema"' in page.content.decode()
    text_ = json.dumps(demo(HOUSEHOLD), ensure_ascii=False)
    response = client.post(f"/mot-cua/bieu-mau/{BIRTH}/", {"schema": text_})
    assert response.status_code == 302
    assert response["Location"] == f"/mot-cua/bieu-mau/{BIRTH}/"
    assert Procedure.objects.get(code=BIRTH).form_schema == demo(HOUSEHOLD)
    # and shows it back, with its preview
    page = client.get(f"/mot-cua/bieu-mau/{BIRTH}/").content.decode()
    assert "ten_ho_kinh_doanh" in page and 'name="ten_ho_kinh_doanh"' in page
    # an empty text removes the form
    assert client.post(f"/mot-cua/bieu-mau/{BIRTH}/", {"schema": "  "}).status_code == 302
    assert Procedure.objects.get(code=BIRTH).form_schema == {}


def near_line(line: int) -> str:
    """The start of the "not valid JSON" message up to its line number, in the page's language."""
    text = gettext("The text is not valid JSON: look near line %(line)d, column %(column)d.")
    return text.split("%(line)d")[0] + str(line)


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ('{"version": 1, "fields": [', "LINE 1"),
        (json.dumps(schema({"name": "x", "label": "X", "type": "colour"})), "colour"),
        ("[1, 2]", None),
    ],
)
def test_invalid_json_or_schema_shows_errors_and_saves_nothing(client, posted, message):
    signed_in(client, admin())
    Procedure.objects.filter(code=BIRTH).update(form_schema=demo(BIRTH))
    response = client.post(f"/mot-cua/bieu-mau/{BIRTH}/", {"schema": posted})
    assert response.status_code == 400
    html = response.content.decode()
    assert gettext("The online form has errors; nothing was saved.") in html
    if message == "LINE 1":
        assert near_line(1) in html
    elif message:
        assert message in html
    assert 'aria-invalid="true"' in html
    assert Procedure.objects.get(code=BIRTH).form_schema == demo(BIRTH)


@pytest.mark.parametrize("role", [Role.ONE_STOP_OFFICER, Role.SPECIALIST, Role.AGENCY_LEADER])
def test_officers_without_an_admin_role_are_refused(client, role):
    signed_in(client, officer(role=role))
    assert client.get("/mot-cua/bieu-mau/").status_code == 403
    assert client.get(f"/mot-cua/bieu-mau/{BIRTH}/").status_code == 403
    response = client.post(f"/mot-cua/bieu-mau/{BIRTH}/", {"schema": json.dumps(demo(BIRTH))})
    assert response.status_code == 403
    assert client.post(f"/mot-cua/bieu-mau/{BIRTH}/xem-truoc/", {"schema": "{}"}).status_code == 403
    assert Procedure.objects.get(code=BIRTH).form_schema == {}


def test_agency_admins_reach_only_their_procedures(client):
    signed_in(client, admin(key="ubnd_30307", role=Role.AGENCY_ADMIN, username="qt.xa"))
    assert client.get(f"/mot-cua/bieu-mau/{BIRTH}/").status_code == 404
    response = client.post(f"/mot-cua/bieu-mau/{BIRTH}/", {"schema": json.dumps(demo(BIRTH))})
    assert response.status_code == 404
    assert Procedure.objects.get(code=BIRTH).form_schema == {}
    assert BIRTH not in client.get("/mot-cua/bieu-mau/").content.decode()


def test_signed_out_goes_to_the_sign_in_page(client):
    response = client.get("/mot-cua/bieu-mau/")
    assert response.status_code == 302
    assert response["Location"].startswith("/mot-cua/dang-nhap/")


def test_preview_renders_the_posted_form_and_checks_sample_answers(client):
    signed_in(client, admin())
    posted = json.dumps(demo(BIRTH), ensure_ascii=False)
    response = client.post(f"/mot-cua/bieu-mau/{BIRTH}/xem-truoc/", {"schema": posted}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'name="so_dinh_danh_me"' in html
    assert 'hx-swap-oob="true"' in html
    assert gettext("The form is valid.") in html

    answers = {"schema": posted, "_answers": "1", "so_dinh_danh_me": "12345"}
    html = client.post(f"/mot-cua/bieu-mau/{BIRTH}/xem-truoc/", answers, headers={"HX-Request": "true"}).content
    assert gettext("A personal identification number has exactly 12 digits.") in html.decode()

    bad = client.post(
        f"/mot-cua/bieu-mau/{BIRTH}/xem-truoc/", {"schema": "{oops"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert near_line(1) in bad and 'name="ho_ten"' not in bad
    # Without htmx the whole page comes back with the preview; nothing is saved either way.
    page = client.post(f"/mot-cua/bieu-mau/{BIRTH}/xem-truoc/", {"schema": posted})
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert Procedure.objects.get(code=BIRTH).form_schema == {}


def test_back_office_home_links_the_editor_for_administrators_only(client):
    signed_in(client, admin())
    assert "/mot-cua/bieu-mau/" in client.get("/mot-cua/").content.decode()
    client.logout()
    signed_in(client, officer())
    assert "/mot-cua/bieu-mau/" not in client.get("/mot-cua/").content.decode()


# The editor and the script in a browser (Chromium): conditions, communes, group rows, snippets, saving.


@pytest.mark.browser
def test_admin_edits_a_form_with_the_live_preview(live_server, reseeded, page):
    from playwright.sync_api import expect

    eforms_load_demo()
    staff = admin()
    page.goto(f"{live_server.url}/mot-cua/dang-nhap/?next=/mot-cua/bieu-mau/{BIRTH}/")
    page.get_by_label("Tên đăng nhập").fill(staff.user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    preview = page.locator("#eform-preview")
    expect(preview.get_by_role("textbox", name="Họ, chữ đệm, tên", exact=True)).to_be_visible()

    # A condition: the marriage certificate is asked only when the parents are married.
    certificate = preview.get_by_role("textbox", name="Số Giấy chứng nhận kết hôn")
    expect(certificate).to_be_hidden()
    preview.get_by_role("radiogroup", name="Cha, mẹ của trẻ đã đăng ký kết hôn?").get_by_label("Có").check()
    expect(certificate).to_be_visible()
    preview.get_by_role("radiogroup", name="Cha, mẹ của trẻ đã đăng ký kết hôn?").get_by_label("Không").check()
    expect(certificate).to_be_hidden()

    # The commune list follows the province.
    birth_place = preview.locator("#ef-noi_sinh")
    communes = birth_place.locator("select[data-eform-commune]")
    expect(communes.locator("option", has_text="Phường Long Xuyên")).to_have_count(1)
    birth_place.locator("select[data-eform-province]").select_option(label="Thành phố Hà Nội")
    expect(communes.locator("option", has_text="Phường Ba Đình")).to_have_count(1)
    expect(communes.locator("option", has_text="Phường Long Xuyên")).to_have_count(0)

    # A ready-made group of members, inserted into the JSON: the preview follows; rows are added and removed.
    page.get_by_role("button", name=gettext("List of members")).click()
    group = preview.locator("[data-eform-group=thanh_vien]")
    expect(group).to_be_visible()
    rows = group.locator(".eform-row")
    expect(rows).to_have_count(1)  # the minimum; the spare row of pages without the script is gone
    group.locator("[data-eform-add]").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("legend")).to_have_text("Thành viên 2")
    expect(rows.nth(1).locator("input").first).to_be_focused()
    assert rows.nth(1).locator("input").first.get_attribute("name") == "thanh_vien.1.ho_ten"
    rows.nth(0).locator("[data-eform-remove]").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0).locator("legend")).to_have_text("Thành viên 1")
    expect(rows.nth(0).locator("[data-eform-remove]")).to_be_hidden()

    page.get_by_role("button", name=gettext("Save"), exact=True).click()
    expect(page.get_by_text(gettext("The online form of %(code)s was saved.") % {"code": BIRTH})).to_be_visible()
    saved = Procedure.objects.get(code=BIRTH).form_schema
    assert saved["fields"][-1]["name"] == "thanh_vien"
    assert eforms.schema_errors(saved) == []


def test_ordered_puts_name_label_and_type_first():
    stored = {"fields": [{"type": "group", "label": "G", "name": "g", "fields": [{"type": "text", "label": "X",
              "name": "x"}]}], "version": 1}  # fmt: skip
    shown = eforms.ordered(stored)
    assert list(shown) == ["version", "fields"]
    assert list(shown["fields"][0]) == ["name", "label", "type", "fields"]
    assert list(shown["fields"][0]["fields"][0]) == ["name", "label", "type"]
    assert shown == stored
