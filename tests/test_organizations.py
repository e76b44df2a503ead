import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.errors import NotFound, ValidationFailed
from organizations.models import AdministrativeUnit, Agency, Department, Role, Staff
from organizations.services import LoadReport, agencies_load, agency_identifier, staff_create

from .conftest import PASSWORD

IDENTIFIER = re.compile(r"^[0-9A-Z]+(\.[0-9A-Z]+)*$")
pytestmark = pytest.mark.django_db


def test_province_has_the_102_units_of_2025_from_the_package():
    province = AdministrativeUnit.objects.get(kind="province")
    assert (province.code, province.name) == (91, "Tỉnh An Giang")
    units = AdministrativeUnit.objects.filter(parent=province)
    assert Counter(units.values_list("kind", flat=True)) == {"xa": 85, "phuong": 14, "dac_khu": 3}
    named = dict(units.values_list("code", "name"))
    assert named[30307] == "Phường Long Xuyên"
    assert named[30742] == "Phường Rạch Giá"
    assert named[31078] == "Đặc khu Phú Quốc"


def test_every_commune_has_its_ubnd_with_departments_and_a_counter():
    communes = Agency.objects.filter(level=Agency.Level.COMMUNE)
    assert communes.count() == 102
    assert communes.values("unit").distinct().count() == 102
    phu_quoc = communes.get(unit__code=31078)
    assert phu_quoc.name == "Ủy ban nhân dân đặc khu Phú Quốc"
    assert communes.get(unit__code=30307).name == "Ủy ban nhân dân phường Long Xuyên"
    for agency in communes.prefetch_related("departments", "counters"):
        assert {d.kind for d in agency.departments.all()} == {"van_phong", "kinh_te", "van_hoa_xa_hoi", "mot_cua"}
        assert len(agency.counters.all()) == 1
    ward_economy = Department.objects.get(agency__unit__code=30307, kind="kinh_te")
    assert ward_economy.name == "Phòng Kinh tế, Hạ tầng và Đô thị"


def test_provincial_agencies_after_the_2025_mergers():
    names = set(Agency.objects.filter(level=Agency.Level.PROVINCE).values_list("name", flat=True))
    for expected in [
        "Ủy ban nhân dân tỉnh An Giang",
        "Văn phòng Ủy ban nhân dân tỉnh An Giang",
        "Sở Nông nghiệp và Môi trường tỉnh An Giang",
        "Sở Khoa học và Công nghệ tỉnh An Giang",
        "Sở Tư pháp tỉnh An Giang",
        "Sở Tài chính tỉnh An Giang",
        "Sở Nội vụ tỉnh An Giang",
        "Sở Xây dựng tỉnh An Giang",
        "Sở Y tế tỉnh An Giang",
        "Sở Giáo dục và Đào tạo tỉnh An Giang",
        "Sở Công Thương tỉnh An Giang",
        "Sở Văn hóa, Thể thao và Du lịch tỉnh An Giang",
        "Sở Dân tộc và Tôn giáo tỉnh An Giang",
        "Trung tâm Phục vụ hành chính công tỉnh An Giang",
    ]:
        assert expected in names
    assert not any("Tài nguyên" in n or "Thông tin và Truyền thông" in n for n in names)


def test_identifiers_are_unique_dotted_and_carry_the_province_group():
    identifiers = list(Agency.objects.values_list("identifier", flat=True))
    assert len(identifiers) == len(set(identifiers)) == 117
    for identifier in identifiers:
        assert IDENTIFIER.match(identifier) and len(identifier) <= 35
        assert identifier.endswith(".H01")
    assert Agency.objects.get(key="ubnd_tinh").identifier == "000.00.00.H01"


def test_agencies_have_validity_dates():
    agency = Agency.objects.get(key="stp")
    assert str(agency.valid_from) == "2025-07-01" and agency.valid_until is None
    assert Agency.objects.valid_on("2025-06-30").count() == 0
    assert Agency.objects.valid_on("2026-11-22").count() == 117


@override_settings(PROVINCE_AGENCY_GROUP="H49")
def test_province_group_is_a_setting():
    assert agency_identifier("000.00.00") == "000.00.00.H49"


def test_loading_twice_adds_nothing():
    before = (Agency.objects.count(), Department.objects.count(), AdministrativeUnit.objects.count())
    report = LoadReport()
    agencies_load(report=report)
    assert set(report.created.values()) == {0}
    assert (Agency.objects.count(), Department.objects.count(), AdministrativeUnit.objects.count()) == before


def test_staff_create_links_agency_department_and_role():
    stp = Agency.objects.get(key="stp")
    staff = staff_create(
        username="cv.hanhchinh",
        password=PASSWORD,
        agency_identifier=stp.identifier,
        role=Role.SPECIALIST,
        department_code="hanh_chinh_tu_phap",
        full_name="Lê Văn Tư",
    )
    assert staff.agency == stp and staff.department.code == "hanh_chinh_tu_phap"
    assert staff.user.check_password(PASSWORD)
    assert list(staff.user.groups.values_list("name", flat=True)) == ["specialist"]
    assert not staff.user.is_staff  # only administrators enter the admin site


def test_admin_roles_enter_the_admin_site(province_admin):
    assert province_admin.user.is_staff
    assert province_admin.user.has_perm("procedures.change_procedure")
    assert not province_admin.user.is_superuser


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "mayor"}, "role"),
        ({"department_code": "khong_co"}, "department"),
        ({"department_code": "kinh_te"}, "department"),  # a commune's department, not the Sở's
        ({"password": "123"}, "password"),
    ],
)
def test_staff_create_refuses_bad_input_and_changes_nothing(kwargs, field):
    args = {
        "username": "sai",
        "password": PASSWORD,
        "agency_identifier": Agency.objects.get(key="stp").identifier,
        "role": Role.SPECIALIST,
        **kwargs,
    }
    with pytest.raises(ValidationFailed) as exc:
        staff_create(**args)
    assert field in exc.value.detail
    assert not get_user_model().objects.filter(username="sai").exists()


def test_staff_create_refuses_an_unknown_agency():
    with pytest.raises(NotFound):
        staff_create(username="x", password=PASSWORD, agency_identifier="999.99.99.H01", role=Role.SPECIALIST)


def test_create_staff_command(call):
    agency = Agency.objects.get(unit__code=30307)
    out = call(
        "create_staff",
        "--username=motcua.lx2",
        f"--password={PASSWORD}",
        f"--agency={agency.identifier}",
        "--role=one_stop_officer",
        "--department=ttpvhcc",
    )
    assert "motcua.lx2" in out
    staff = Staff.objects.get(user__username="motcua.lx2")
    assert (staff.agency, staff.role, staff.department.kind) == (agency, "one_stop_officer", "mot_cua")


def test_create_staff_command_reports_errors_in_plain_words():
    with pytest.raises(CommandError, match=r"999\.99\.99\.H01"):
        call_command(
            "create_staff", "--username=x", f"--password={PASSWORD}", "--agency=999.99.99.H01", "--role=specialist"
        )
    assert not get_user_model().objects.filter(username="x").exists()
