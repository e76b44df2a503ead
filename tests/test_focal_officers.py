"""The register of focal officers (cán bộ đầu mối): each registered officer holds an agency-administrator account."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext
from openpyxl import Workbook

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from organizations.models import Agency, FocalOfficer, Role, Staff
from organizations.selectors import access_focal_officer_for, focal_officers_for
from organizations.services import focal_officer_end, focal_officer_register, focal_officers_import, staff_create

from .conftest import PASSWORD
from .dossier_helpers import officer as counter_officer

pytestmark = pytest.mark.django_db

User = get_user_model()
SAMPLE = Path(__file__).resolve().parent.parent / "organizations" / "data" / "focal_officers_sample.csv"
DESIGNER = "/mot-cua/quy-trinh/"
LIST = "/mot-cua/can-bo-dau-moi/"
ADD = "/mot-cua/can-bo-dau-moi/them/"
IMPORT = "/mot-cua/can-bo-dau-moi/nhap/"
HEADER = ["STT", "Họ và tên", "Chức vụ", "Số điện thoại", "Số định danh cá nhân", "Email"]


def id_number(n: int) -> str:
    """A valid personal ID number: born in An Giang (089), male, 1985."""
    return f"0890850{n:05d}"


def details(n: int = 1, **values: str) -> dict[str, str]:
    data = {
        "full_name": f"Trần Văn Minh {n}",
        "phone": f"09123456{n:02d}",
        "id_number": id_number(n),
        "email": f"dau.moi{n}@example.vn",
        "title": "Chuyên viên Văn phòng",
    }
    data.update(values)
    return data


def agency(key: str) -> Agency:
    return Agency.objects.get(key=key)


def counts() -> tuple[int, int, int]:
    return FocalOfficer.objects.count(), User.objects.count(), Staff.objects.count()


def csv_file(rows: list[list[str]], header: list[str] = HEADER, bom: bool = False) -> io.BytesIO:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    data = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
    return io.BytesIO(data.encode("utf-8"))


def row(n: int, **values: str) -> list[str]:
    d = details(n, **values)
    return [str(n), d["full_name"], d["title"], d["phone"], d["id_number"], d["email"]]


@pytest.fixture
def home(commune_agency) -> Agency:  # type: ignore[no-untyped-def]
    return commune_agency


@pytest.fixture
def agency_admin(home) -> Staff:  # type: ignore[no-untyped-def]
    return staff_create(
        username="qt.xa",
        password=PASSWORD,
        agency_identifier=home.identifier,
        role=Role.AGENCY_ADMIN,
        full_name="Lý Thị Ngọc",
    )


@pytest.fixture
def other() -> Agency:
    return agency("ubnd_30742")  # Phường Rạch Giá


# ---- Registering ---------------------------------------------------------------------------------------------


def test_register_grants_an_agency_administrator_account(province_admin, home, client):
    record = focal_officer_register(
        agency=home, by=province_admin, **details(phone="+84 912 345 601", email="  Dau.Moi1@Example.VN ")
    )

    assert record.valid_until is None and record.valid_from == timezone.localdate()
    assert record.phone == "0912345601" and record.email == "Dau.Moi1@Example.VN"
    staff = record.staff
    assert staff is not None and staff.agency == home and staff.role == Role.AGENCY_ADMIN
    user = staff.user
    assert user.username == "dau.moi1@example.vn" and user.email == "Dau.Moi1@Example.VN"
    assert (user.first_name, user.last_name) == ("Trần Văn Minh", "1")
    assert user.is_staff and user.is_active and not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == [Role.AGENCY_ADMIN]
    assert Group.objects.get(name=Role.AGENCY_ADMIN).permissions.filter(codename="change_competence").exists()

    client.force_login(user)
    assert client.get(DESIGNER).status_code == 200
    assert client.get(LIST).status_code == 200


def test_a_counter_officer_cannot_open_the_designer(client):
    """The control of the test above: the designer is closed to officers who are not administrators."""
    client.force_login(counter_officer().user)
    assert client.get(DESIGNER).status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "   "),
        ("phone", "12345"),
        ("phone", "0912 345 67"),
        ("id_number", "12345"),
        ("id_number", "999085001234"),
        ("id_number", "08908500123X"),
        ("email", "not-an-email"),
        ("email", ""),
    ],
)
def test_bad_details_are_refused_and_nothing_is_written(province_admin, home, field, value):
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        focal_officer_register(agency=home, by=province_admin, **details(**{field: value}))
    assert set(caught.value.detail) == {field}
    assert caught.value.detail[field]
    assert counts() == before


def test_the_id_number_message_is_the_identity_check(province_admin, home):
    with pytest.raises(ValidationFailed) as caught:
        focal_officer_register(agency=home, by=province_admin, **details(id_number="999085001234"))
    assert caught.value.detail["id_number"] == gettext(
        "The first three digits (%(digits)s) are not a province code."
    ) % {"digits": "999"}


def test_every_wrong_field_is_reported_at_once(province_admin, home):
    with pytest.raises(ValidationFailed) as caught:
        focal_officer_register(
            agency=home, by=province_admin, **details(full_name="", phone="1", id_number="1", email="x")
        )
    assert set(caught.value.detail) == {"full_name", "phone", "id_number", "email"}


def test_an_agency_administrator_registers_for_their_own_agency_only(agency_admin, home, other):
    mine = focal_officer_register(agency=home, by=agency_admin, **details(1))
    assert mine.staff.agency == home  # type: ignore[union-attr]

    desk = counter_officer()
    before = counts()
    with pytest.raises(PermissionDenied):
        focal_officer_register(agency=other, by=agency_admin, **details(2))
    with pytest.raises(PermissionDenied):
        focal_officer_register(agency=home, by=desk, **details(3))
    assert counts() == before


def test_an_ended_agency_takes_no_new_officer(province_admin, home):
    Agency.objects.filter(pk=home.pk).update(valid_until=timezone.localdate())
    home.refresh_from_db()
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        focal_officer_register(agency=home, by=province_admin, **details())
    assert set(caught.value.detail) == {"agency"} and counts() == before


def test_registering_the_same_id_number_again_updates_the_record(province_admin, home):
    first = focal_officer_register(agency=home, by=province_admin, **details(1))
    before = counts()
    again = focal_officer_register(
        agency=home,
        by=province_admin,
        **details(1, full_name="Trần Văn Minh Hai", phone="0987 654 321", title="Phó Chánh Văn phòng"),
    )
    assert again.pk == first.pk and counts() == before
    again.refresh_from_db()
    assert (again.full_name, again.phone, again.title) == ("Trần Văn Minh Hai", "0987654321", "Phó Chánh Văn phòng")
    assert again.staff_id == first.staff_id
    assert again.staff.user.get_full_name() == "Trần Văn Minh Hai"  # type: ignore[union-attr]


def test_the_same_person_in_another_agency_needs_another_address(province_admin, home, other):
    focal_officer_register(agency=home, by=province_admin, **details(1))
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        focal_officer_register(agency=other, by=province_admin, **details(1))
    assert "dau.moi1@example.vn" in caught.value.detail["email"] and other.name not in caught.value.detail["email"]
    assert home.name in caught.value.detail["email"]
    assert counts() == before


@pytest.mark.parametrize("case", ["other_agency", "other_role", "not_staff", "other_officer"])
def test_someone_elses_account_is_never_re_pointed(province_admin, home, other, case):
    email = "dau.moi1@example.vn"
    if case == "other_agency":
        staff_create(username=email, password=PASSWORD, agency_identifier=other.identifier, role=Role.AGENCY_ADMIN)
    elif case == "other_role":
        staff_create(username=email, password=PASSWORD, agency_identifier=home.identifier, role=Role.SPECIALIST)
    elif case == "not_staff":
        User.objects.create_user(username=email, password=PASSWORD)
    else:
        focal_officer_register(agency=home, by=province_admin, **details(2, email=email))
    user = User.objects.get(username=email)
    staff = Staff.objects.filter(user=user).values("agency_id", "role").first()
    before = counts()

    with pytest.raises(ValidationFailed) as caught:
        focal_officer_register(agency=home, by=province_admin, **details(1, email=email))

    assert set(caught.value.detail) == {"email"} and email in caught.value.detail["email"]
    assert counts() == before
    assert Staff.objects.filter(user=user).values("agency_id", "role").first() == staff
    user.refresh_from_db()
    assert user.check_password(PASSWORD) or case == "other_officer"


def test_an_administrator_account_of_the_agency_is_linked_not_duplicated(province_admin, home):
    email = "dau.moi1@example.vn"
    existing = staff_create(
        username=email, password=PASSWORD, agency_identifier=home.identifier, role=Role.AGENCY_ADMIN, title="Quản trị"
    )
    before = counts()
    record = focal_officer_register(agency=home, by=province_admin, **details(1, email=email.upper()))
    assert record.staff == existing
    assert counts() == (before[0] + 1, before[1], before[2])
    existing.user.refresh_from_db()
    assert existing.user.check_password(PASSWORD)  # the password it had is kept
    assert existing.user.get_full_name() == "Trần Văn Minh 1"


# ---- Ending ------------------------------------------------------------------------------------------------


def test_ending_a_record_revokes_the_account(province_admin, home, client):
    record = focal_officer_register(agency=home, by=province_admin, **details())
    user = record.staff.user  # type: ignore[union-attr]
    client.force_login(user)
    assert client.get(DESIGNER).status_code == 200

    focal_officer_end(officer=record, by=province_admin)

    record.refresh_from_db()
    user.refresh_from_db()
    assert record.valid_until == timezone.localdate() and not user.is_active
    assert not focal_officers_for(actor=province_admin).filter(pk=record.pk).exists()
    assert client.get(DESIGNER).status_code == 302  # the session no longer signs in
    with pytest.raises(Conflict):
        focal_officer_end(officer=record, by=province_admin)

    # Named again: a new record, and the same account opened again.
    again = focal_officer_register(agency=home, by=province_admin, **details())
    user.refresh_from_db()
    assert again.pk != record.pk and again.staff_id == record.staff_id and user.is_active
    assert FocalOfficer.objects.filter(agency=home, id_number=id_number(1)).count() == 2


def test_ending_is_for_the_agencys_keepers(agency_admin, province_admin, home, other):
    theirs = focal_officer_register(agency=other, by=province_admin, **details(1))
    with pytest.raises(PermissionDenied):
        focal_officer_end(officer=theirs, by=agency_admin)
    with pytest.raises(PermissionDenied):
        focal_officer_end(officer=theirs, by=counter_officer(agency_key="ubnd_30742"))
    theirs.refresh_from_db()
    assert theirs.valid_until is None and theirs.staff.user.is_active  # type: ignore[union-attr]


def test_an_end_date_in_the_future_or_before_the_record_is_refused(province_admin, home):
    record = focal_officer_register(agency=home, by=province_admin, **details())
    today = timezone.localdate()
    for day in (today + dt.timedelta(days=1), today - dt.timedelta(days=1)):
        with pytest.raises(ValidationFailed) as caught:
            focal_officer_end(officer=record, by=province_admin, on=day)
        assert set(caught.value.detail) == {"on"}
    record.refresh_from_db()
    assert record.valid_until is None and record.staff.user.is_active  # type: ignore[union-attr]


def test_an_agency_administrator_cannot_end_their_own_record(province_admin, home):
    record = focal_officer_register(agency=home, by=province_admin, **details())
    with pytest.raises(PermissionDenied):
        focal_officer_end(officer=record, by=record.staff)  # type: ignore[arg-type]
    record.refresh_from_db()
    assert record.valid_until is None


# ---- Selectors ---------------------------------------------------------------------------------------------


def test_who_sees_which_officers(agency_admin, province_admin, home, other):
    mine = focal_officer_register(agency=home, by=province_admin, **details(1))
    theirs = focal_officer_register(agency=other, by=province_admin, **details(2))

    assert set(focal_officers_for(actor=province_admin)) == {mine, theirs}
    assert list(focal_officers_for(actor=province_admin, agency_id=other.pk)) == [theirs]
    assert list(focal_officers_for(actor=agency_admin)) == [mine]
    assert list(focal_officers_for(actor=agency_admin, agency_id=other.pk)) == []
    assert list(focal_officers_for(actor=counter_officer())) == []

    assert access_focal_officer_for(actor=agency_admin, pk=mine.pk) == mine
    assert access_focal_officer_for(actor=province_admin, pk=theirs.pk) == theirs
    for actor, pk in ((agency_admin, theirs.pk), (counter_officer(), mine.pk)):
        with pytest.raises(NotFound):
            access_focal_officer_for(actor=actor, pk=pk)


# ---- Importing ---------------------------------------------------------------------------------------------


def xlsx_file(rows: list[list[object]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(values)
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    return data


def test_import_an_xlsx_workbook(province_admin, home):
    """A title row above the header, column names in capitals without diacritics, and ID numbers typed as numbers
    (which drops their leading zeros)."""
    data = xlsx_file(
        [
            ["DANH SÁCH CÁN BỘ ĐẦU MỐI"],
            ["STT", "HO VA TEN", "SDT", "CCCD", "E-mail", "Chức danh"],
            [1, "Trần Văn Minh", 912345601, 89085000001, "minh@example.vn", "Chuyên viên"],
            [],
            [2, "Nguyễn Thị Thu Hà", "0987 654 321", "089190004567", "ha@example.vn", None],
        ]
    )
    report = focal_officers_import(agency=home, file=data, file_name="Danh sach.XLSX", by=province_admin)

    assert report.errors == [] and (report.created, report.updated) == (2, 0)
    rows = {o.full_name: o for o in focal_officers_for(actor=province_admin, agency_id=home.pk)}
    assert set(rows) == {"Trần Văn Minh", "Nguyễn Thị Thu Hà"}
    assert rows["Trần Văn Minh"].id_number == "089085000001" and rows["Trần Văn Minh"].phone == "0912345601"
    assert rows["Trần Văn Minh"].title == "Chuyên viên" and rows["Nguyễn Thị Thu Hà"].title == ""
    assert all(o.staff.role == Role.AGENCY_ADMIN and o.staff.agency == home for o in rows.values())  # type: ignore[union-attr]


@pytest.mark.parametrize("bom", [True, False])
def test_import_the_sample_csv_for_the_whole_province(province_admin, bom):
    data = SAMPLE.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    report = focal_officers_import(
        agency=None, file=io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data), file_name="mau.csv", by=province_admin
    )
    assert report.errors == [] and (report.created, report.updated) == (4, 0)
    by_agency = {o.full_name: o.agency.key for o in focal_officers_for(actor=province_admin)}
    assert by_agency == {
        "Trần Văn Minh": "ubnd_30307",
        "Nguyễn Thị Thu Hà": "ubnd_30307",
        "Lê Hoàng Phúc": "stp",
        "Phạm Thị Kim Ngân": "ubnd_30742",
    }

    again = focal_officers_import(agency=None, file=io.BytesIO(data), file_name="mau.csv", by=province_admin)
    assert again.errors == [] and (again.created, again.updated) == (0, 4)
    assert FocalOfficer.objects.count() == 4


def test_a_sheet_with_one_bad_row_writes_nothing_and_names_every_problem(province_admin, home, other):
    staff_create(
        username="dau.moi5@example.vn", password=PASSWORD, agency_identifier=other.identifier, role=Role.AGENCY_ADMIN
    )
    before = counts()
    data = csv_file(
        [
            row(1),
            row(2, phone="12345"),
            row(3),
            row(4, id_number=id_number(1)),  # the officer of row 2 again
            row(5),  # the address of another agency's account
            row(6, full_name="", email="x"),
        ]
    )
    report = focal_officers_import(agency=home, file=data, file_name="ds.csv", by=province_admin)

    assert (report.created, report.updated) == (0, 0)
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "Số điện thoại"),
        (5, "Số định danh cá nhân"),
        (6, "Email"),
        (7, "Họ và tên"),
        (7, "Email"),
    ]
    assert report.errors[0].message == gettext("Enter a Vietnamese phone number (e.g. 0912 345 678 or 0296 3852 222).")
    assert report.errors[1].message == gettext("The same officer is already on row %(row)d.") % {"row": 2}
    assert "dau.moi5@example.vn" in report.errors[2].message
    assert counts() == before  # rows 2 and 4 were fine, and are not written either


def test_a_province_sheet_is_for_province_administrators(agency_admin, province_admin, home):
    with pytest.raises(PermissionDenied):
        focal_officers_import(agency=None, file=io.BytesIO(SAMPLE.read_bytes()), file_name="mau.csv", by=agency_admin)
    with pytest.raises(PermissionDenied):
        focal_officers_import(agency=agency("ubnd_30742"), file=csv_file([row(1)]), file_name="ds.csv", by=agency_admin)
    # The agency's own sheet: the rows of the sample for other agencies are refused, nothing is written.
    before = counts()
    report = focal_officers_import(
        agency=home, file=io.BytesIO(SAMPLE.read_bytes()), file_name="mau.csv", by=agency_admin
    )
    assert [(e.row, e.column) for e in report.errors] == [(4, "Mã định danh cơ quan"), (5, "Mã định danh cơ quan")]
    assert counts() == before
    # Without the agency column the province sheet cannot say whose officers they are.
    report = focal_officers_import(agency=None, file=csv_file([row(1)]), file_name="ds.csv", by=province_admin)
    assert [(e.row, e.column) for e in report.errors] == [(1, "Mã định danh cơ quan")]
    assert counts() == before


def test_a_csv_separated_by_semicolons(agency_admin, home):
    text = "Họ và tên;Số điện thoại;CCCD;Email\nTrần Văn Minh;0912 345 601;089085000001;minh@example.vn\n"
    report = focal_officers_import(agency=home, file=io.BytesIO(text.encode()), file_name="ds.csv", by=agency_admin)
    assert report.errors == [] and report.created == 1
    assert FocalOfficer.objects.get(agency=home).id_number == "089085000001"


def test_sheets_that_cannot_be_read(province_admin, home):
    with pytest.raises(ValidationFailed):
        focal_officers_import(agency=home, file=io.BytesIO(b"x"), file_name="ds.pdf", by=province_admin)
    with pytest.raises(ValidationFailed):
        focal_officers_import(agency=home, file=io.BytesIO(b"not a zip"), file_name="ds.xlsx", by=province_admin)
    with pytest.raises(ValidationFailed):
        text = "Họ và tên,Email\nTrần Văn Minh,a@example.vn\n".encode("utf-16")
        focal_officers_import(agency=home, file=io.BytesIO(text), file_name="ds.csv", by=province_admin)
    report = focal_officers_import(
        agency=home, file=csv_file([["a", "b"]], header=["Tên", "Địa chỉ"]), file_name="ds.csv", by=province_admin
    )
    assert {e.column for e in report.errors} == {"Họ và tên", "Số điện thoại", "Số định danh cá nhân", "Email"}
    assert FocalOfficer.objects.count() == 0


# ---- Pages -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, ADD, IMPORT, f"{LIST}1/ket-thuc/"])
def test_pages_are_for_administrators(client, url):
    assert client.get(url).status_code == 302  # not signed in: to the sign-in page
    client.force_login(counter_officer().user)
    response = client.get(url)
    assert response.status_code == 403
    assert gettext("Only agency and province administrators keep the focal officers.") in response.content.decode()


def test_an_agency_administrator_sees_and_ends_only_their_agency(client, agency_admin, province_admin, home, other):
    mine = focal_officer_register(agency=home, by=province_admin, **details(1))
    theirs = focal_officer_register(agency=other, by=province_admin, **details(2))
    client.force_login(agency_admin.user)

    page = client.get(LIST).content.decode()
    assert mine.full_name in page and theirs.full_name not in page
    assert 'name="agency"' not in page  # no agency filter: their own agency only
    assert client.get(f"{LIST}{theirs.pk}/ket-thuc/").status_code == 404
    assert client.post(f"{LIST}{theirs.pk}/ket-thuc/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.valid_until is None

    confirm = client.get(f"{LIST}{mine.pk}/ket-thuc/")
    assert confirm.status_code == 200 and 'method="post"' in confirm.content.decode()
    mine.refresh_from_db()
    assert mine.valid_until is None  # GET only asks
    response = client.post(f"{LIST}{mine.pk}/ket-thuc/")
    assert response.status_code == 302 and response["Location"] == LIST
    mine.refresh_from_db()
    assert mine.valid_until == timezone.localdate() and not mine.staff.user.is_active  # type: ignore[union-attr]


def test_the_province_filters_by_agency(client, province_admin, home, other):
    mine = focal_officer_register(agency=home, by=province_admin, **details(1))
    theirs = focal_officer_register(agency=other, by=province_admin, **details(2))
    client.force_login(province_admin.user)
    both = client.get(LIST).content.decode()
    assert mine.full_name in both and theirs.full_name in both
    one = client.get(LIST, {"agency": other.pk}).content.decode()
    assert mine.full_name not in one and theirs.full_name in one


def test_the_add_page(client, agency_admin, home):
    client.force_login(agency_admin.user)
    assert client.get(ADD).status_code == 200
    before = counts()
    bad = client.post(ADD, details(phone="12345"))
    html = bad.content.decode()
    assert bad.status_code == 400 and counts() == before
    assert 'aria-describedby="id_phone_error"' in html and 'id="id_phone_error"' in html
    assert escape(gettext("Enter a Vietnamese phone number (e.g. 0912 345 678 or 0296 3852 222).")) in html

    good = client.post(ADD, details())
    assert good.status_code == 302 and good["Location"] == LIST
    record = FocalOfficer.objects.get(agency=home, id_number=id_number(1))
    assert record.staff.user.username == "dau.moi1@example.vn"  # type: ignore[union-attr]


def test_the_province_adds_for_any_agency(client, province_admin, other):
    client.force_login(province_admin.user)
    response = client.post(ADD, {"agency": other.pk, **details()})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?agency={other.pk}"
    assert FocalOfficer.objects.get(id_number=id_number(1)).agency == other


def test_the_import_page_shows_the_problems_and_imports_nothing(client, agency_admin, home):
    client.force_login(agency_admin.user)
    assert client.get(IMPORT).status_code == 200
    before = counts()
    upload = SimpleUploadedFile("ds.csv", csv_file([row(1), row(2, id_number="12345")]).getvalue(), "text/csv")
    response = client.post(IMPORT, {"file": upload})
    html = response.content.decode()
    assert response.status_code == 400 and counts() == before
    assert "<td>3</td><td>Số định danh cá nhân</td>" in html
    assert escape(gettext("A personal identification number has exactly 12 digits.")) in html

    upload = SimpleUploadedFile("ds.xlsx", xlsx_file([HEADER, row(1), row(2)]).getvalue())
    response = client.post(IMPORT, {"file": upload})
    assert response.status_code == 302 and response["Location"] == LIST
    assert focal_officers_for(actor=agency_admin).count() == 2


def test_the_list_page_has_a_fixed_number_of_queries(client, province_admin, django_assert_num_queries):
    keys = ["ubnd_30307", "ubnd_30742", "stp", "ubnd_31078", "snv", "syt"]
    for n, key in enumerate(keys[:3], start=1):
        focal_officer_register(agency=agency(key), by=province_admin, **details(n))
    client.force_login(province_admin.user)
    assert client.get(LIST).status_code == 200
    # the user, their staff record; the agencies of the filter; the count and the page of officers (with agencies and
    # accounts joined)
    with django_assert_num_queries(5):
        three = client.get(LIST)
    assert three.content.decode().count("/ket-thuc/") == 3
    for n, key in enumerate(keys[3:], start=4):
        focal_officer_register(agency=agency(key), by=province_admin, **details(n))
    with django_assert_num_queries(5):
        six = client.get(LIST)
    assert six.content.decode().count("/ket-thuc/") == 6
