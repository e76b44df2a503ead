"""The forms the one-stop counter issues (receipts): contents, language, time zone, A4 pages, PDF text.

PDF text is read back with ``pdftotext`` (Debian's poppler-utils), so what is asserted is what a reader of the PDF
gets: Vietnamese diacritics included.
"""

import base64
import datetime as dt
import io
import re
import shutil
import subprocess
import unicodedata
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image
from weasyprint import HTML

from dossiers.models import Channel, Delivery, Document, Dossier, DossierFee, Event, Status
from organizations.models import Agency, Counter
from procedures.models import Procedure
from receipts import services as receipts

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = dt.datetime(2026, 11, 5, 8, 30, tzinfo=VN)
# 1.001193 takes 8 working hours: 08:30–11:30 and 13:00–17:00 on Thursday, then 07:00–08:00 on Friday.
APPOINTMENT = dt.datetime(2026, 11, 6, 8, 0, tzinfo=VN)
APPLICANT = "Nguyễn Thị Hồng Nhung"
OFFICER = "Trần Văn Bình"
A4_SHORT, A4_LONG = 595.28, 841.89  # points
TITLE_MSGID = "Receipt of dossier and appointment for the result"


# --- helpers --------------------------------------------------------------------------------------------------------


def pdf_text(pdf: bytes, *, page: int | None = None) -> str:
    """The PDF's text as a reader extracts it, whitespace collapsed, NFC."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.fail("pdftotext is missing: install Debian's poppler-utils (apt-get install -y poppler-utils)")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run([exe, "-enc", "UTF-8", *pages, "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return unicodedata.normalize("NFC", " ".join(out.decode().split()))


def pages_in_points(html: str) -> list[tuple[float, float]]:
    # WeasyPrint measures pages in CSS pixels; 1 px = 0.75 pt.
    return [(page.width * 0.75, page.height * 0.75) for page in HTML(string=html).render().pages]


@pytest.fixture
def vi_translations() -> None:
    """The Vietnamese catalogue is compiled (scripts/bootstrap.sh); without it these tests must fail, not pass."""
    with translation.override("vi"):
        assert gettext(TITLE_MSGID) != TITLE_MSGID, "compile the Vietnamese catalogue: manage.py compilemessages"


@pytest.fixture
def agency() -> Agency:
    return Agency.objects.get(key="ubnd_30307")  # Phường Long Xuyên, under UBND tỉnh An Giang


@pytest.fixture
def procedure() -> Procedure:
    return Procedure.objects.select_related("field").get(code="1.001193")  # Đăng ký khai sinh, 8 working hours


@pytest.fixture
def officer():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create(username="cb.motcua", first_name="Trần Văn", last_name="Bình")


@pytest.fixture
def make_dossier(agency, procedure, officer):  # type: ignore[no-untyped-def]
    counter = Counter.objects.get(agency=agency, code="tiep_nhan")
    numbers = iter(range(1, 100))

    def make(**overrides) -> Dossier:  # type: ignore[no-untyped-def]
        number = next(numbers)
        fields = {
            "code": f"{agency.identifier}-261105-{number:04d}",
            "procedure": procedure,
            "agency": agency,
            "counter": counter,
            "received_by": officer,
            "channel": Channel.DIRECT,
            "status": Status.ACCEPTED,
            "applicant_name": APPLICANT,
            "applicant_id_number": "089186000123",
            "applicant_address": "Số 12 đường Trần Hưng Đạo, khóm Đông Thịnh 6",
            "applicant_phone": "0918123456",
            "applicant_email": "nhung.nguyen@example.vn",
            "summary": "Đăng ký khai sinh cho con: Trần Gia Hân",
            "processing_time": procedure.processing_time,
            "time_unit": procedure.time_unit,
            "received_at": RECEIVED,
            "appointment_at": APPOINTMENT,
            "register_field": procedure.field,
            "register_volume": "2026",
            "register_number": 11 + number,
        }
        fields.update(overrides)
        return Dossier.objects.create(**fields)

    return make


@pytest.fixture
def dossier(make_dossier) -> Dossier:  # type: ignore[no-untyped-def]
    dossier = make_dossier()  # code …-261105-0001, register entry 12/2026
    Document.objects.create(dossier=dossier, name="Tờ khai đăng ký khai sinh theo mẫu", originals=1)
    Document.objects.create(dossier=dossier, name="Giấy chứng sinh do cơ sở y tế cấp", originals=1, copies=1)
    DossierFee.objects.create(dossier=dossier, name="Lệ phí đăng ký khai sinh", amount=8000)
    Event.objects.create(
        dossier=dossier, at=RECEIVED, unit_name="Bộ phận Một cửa Phường Long Xuyên", action="receive", status_to=2
    )
    Event.objects.create(
        dossier=dossier,
        at=dt.datetime(2026, 11, 6, 7, 45, tzinfo=VN),
        unit_name="Phòng Văn hóa - Xã hội",
        action="transfer",
        note="Đủ điều kiện",
    )
    return dossier


def english(dossier: Dossier) -> Dossier:
    dossier.language = "en"
    return dossier


# --- QR code --------------------------------------------------------------------------------------------------------


def test_lookup_url_and_qr_png(dossier, settings):
    code = dossier.code
    assert receipts.lookup_url(code) == f"{settings.SITE_URL}/tra-cuu/{code}/"
    assert receipts.lookup_url(code).endswith(f"/tra-cuu/{code}/")

    uri = receipts.lookup_qr_data_uri(code)
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.removeprefix("data:image/png;base64,"))))
    assert image.format == "PNG" and image.width == image.height >= 150
    assert receipts.lookup_qr_data_uri("000.03.51.H01-261105-0002") != uri

    settings.SITE_URL = "https://dichvucong.angiang.gov.vn"
    assert receipts.lookup_url(code) == f"https://dichvucong.angiang.gov.vn/tra-cuu/{code}/"
    assert receipts.lookup_qr_data_uri(code) != uri  # the cache is keyed by the address, never stale


# --- Form 1 ---------------------------------------------------------------------------------------------------------


def test_form1_html_has_two_copies_with_the_qr_and_the_data(dossier):
    html = receipts.form1_html(dossier=dossier)
    assert html.count('<section class="sheet">') == 2
    assert html.count(receipts.lookup_qr_data_uri(dossier.code)) == 2
    assert html.count(receipts.lookup_url(dossier.code)) == 2
    for text in (
        APPLICANT,
        OFFICER,
        dossier.code,
        "089186000123",
        "nhung.nguyen@example.vn",
        "Đăng ký khai sinh cho con: Trần Gia Hân",
        "Bộ phận Một cửa Phường Long Xuyên",
        "Giấy chứng sinh do cơ sở y tế cấp",
        "12/2026",
    ):
        assert text in html, text
    assert "@page { size: A4; margin: 20mm 15mm 20mm 25mm; }" in html
    assert '"Liberation Serif", "Times New Roman", serif' in html


def test_form1_pdf_is_two_a4_pages_one_per_copy(dossier):
    pdf = receipts.form1_pdf(dossier=dossier)
    assert pdf.startswith(b"%PDF-")
    pages = pages_in_points(receipts.form1_html(dossier=dossier))
    assert len(pages) == 2
    for width, height in pages:
        assert width == pytest.approx(A4_SHORT, abs=0.1) and height == pytest.approx(A4_LONG, abs=0.1)
    assert pdf_text(pdf).count("Giấy chứng sinh do cơ sở y tế cấp") == 2


def test_form1_pdf_text_keeps_the_vietnamese_data(dossier):
    pdf = receipts.form1_pdf(dossier=dossier)
    for page in (1, 2):
        text = pdf_text(pdf, page=page)
        for phrase in (
            "ỦY BAN NHÂN DÂN TỈNH AN GIANG",  # the superior agency, in capitals
            "ỦY BAN NHÂN DÂN PHƯỜNG LONG XUYÊN",
            dossier.code,
            APPLICANT,
            OFFICER,
            "Số 12 đường Trần Hưng Đạo, khóm Đông Thịnh 6",
            "Tờ khai đăng ký khai sinh theo mẫu",
            "Bộ phận Một cửa Phường Long Xuyên",
        ):
            assert phrase in text, (page, phrase)


def test_form1_same_pdf_from_its_html(dossier):
    html = receipts.form1_html(dossier=dossier)
    assert pdf_text(receipts.form1_pdf_from_html(html)) == pdf_text(receipts.form1_pdf(dossier=dossier))


def test_form1_in_vietnamese(dossier, vi_translations):
    pdf = receipts.form1_pdf(dossier=dossier)
    first, second = pdf_text(pdf, page=1), pdf_text(pdf, page=2)
    assert "Liên 1: Lưu tại Bộ phận Một cửa" in first and "Liên 2" not in first
    assert "Liên 2: Giao cho công dân" in second and "Liên 1" not in second
    for text in (first, second):
        for phrase in (
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
            "Số: 12/2026",
            f"Mã hồ sơ: {dossier.code}",
            f"Họ và tên: {APPLICANT}",
            "Số định danh cá nhân: 089186000123",
            "Thời gian nhận hồ sơ: 08 giờ 30 phút, ngày 05 tháng 11 năm 2026",
            "08 giờ 00 phút, ngày 06 tháng 11 năm 2026",
            "8 giờ làm việc",
            "Số lượng hồ sơ: 1 bộ",
            "8.000 đồng",
            "Đăng ký nhận kết quả: Tại Bộ phận Một cửa Phường Long Xuyên",
            "Quyển số: 2026, Số thứ tự: 12",
            "NGƯỜI NỘP HỒ SƠ",
            "NGƯỜI TIẾP NHẬN HỒ SƠ",
        ):
            assert phrase in text, phrase
        assert re.search(r"(?<!Phường )Long Xuyên, ngày 05 tháng 11 năm 2026", text)


def test_form1_in_english_for_an_english_speaking_applicant(dossier):
    before = translation.get_language()
    pdf = receipts.form1_pdf(dossier=english(dossier))
    assert translation.get_language() == before  # the override does not leak into the request
    first, second = pdf_text(pdf, page=1), pdf_text(pdf, page=2)
    assert "Copy 1: kept at the one-stop counter" in first
    assert "Copy 2: given to the applicant" in second
    for phrase in (
        "SOCIALIST REPUBLIC OF VIET NAM",
        "RECEIPT OF DOSSIER AND APPOINTMENT FOR THE RESULT",
        "No. 12/2026",
        "Time the dossier was received: 08:30 on 05/11/2026",
        "Appointment for the result: 08:00 on 06/11/2026",
        "Statutory processing time: 8 working hours",
        "Number of sets: 1 set",
        "8,000 VND (not yet paid)",
        "volume 2026, entry no. 12",
        "PERSON SUBMITTING THE DOSSIER",
        "OFFICER RECEIVING THE DOSSIER",
    ):
        assert phrase in first, phrase
    assert "GIẤY TIẾP NHẬN" not in first
    # The place is the commune's proper name (Nghị định 30/2020), not "Phường Long Xuyên".
    assert re.search(r"(?<!Phường )Long Xuyên, 05/11/2026", first)


def test_form1_prints_vietnam_time_whatever_zone_is_active(dossier):
    with timezone.override("UTC"):
        text = pdf_text(receipts.form1_pdf(dossier=english(dossier)), page=1)
    assert "08:30 on 05/11/2026" in text and "01:30" not in text


def test_form1_organisation_by_post_with_a_representative(make_dossier):
    dossier = make_dossier(
        language="en",
        applicant_id_number="",
        organisation_name="Công ty TNHH Thương mại Mỹ Hòa Hưng",
        organisation_code="1601234567",
        representative_name="Lê Văn Khánh",
        representative_id_number="089090001234",
        representative_phone="0907000111",
        representative_authorisation="Giấy ủy quyền số 05/2026/UQ",
        delivery=Delivery.POST,
        delivery_address="Số 3 Lý Thái Tổ, phường Long Xuyên",
        sets=2,
    )
    text = pdf_text(receipts.form1_pdf(dossier=dossier), page=1)
    for phrase in (
        "Organisation: Công ty TNHH Thương mại Mỹ Hòa Hưng",
        "Organisation identification number: 1601234567",
        "Authorised representative: Lê Văn Khánh",
        "Personal identification number: 089090001234; Phone: 0907000111",
        "Letter of authorisation: Giấy ủy quyền số 05/2026/UQ",
        "The result is to be received: By public postal service, to Số 3 Lý Thái Tổ, phường Long Xuyên",
        "Number of sets: 2 sets",
    ):
        assert phrase in text, phrase
    # The representative signs for the applicant.
    assert text.index("Lê Văn Khánh", text.index("PERSON SUBMITTING THE DOSSIER")) > 0


def test_form1_queries(dossier, django_assert_num_queries):
    fetched = Dossier.objects.select_related(
        "procedure", "agency__parent", "agency__unit", "counter", "received_by"
    ).get(pk=dossier.pk)
    with django_assert_num_queries(3):  # its documents and its fees, however many, and the agency's former names
        receipts.form1_html(dossier=fetched)


# --- Form 3 ---------------------------------------------------------------------------------------------------------


def test_form3_lists_the_reasons_and_has_no_qr_without_a_code(make_dossier):
    refused = make_dossier(
        code=None,
        status=Status.REFUSED,
        appointment_at=None,
        register_field=None,
        register_volume="",
        register_number=None,
        refusal_reasons="Thiếu Giấy chứng sinh bản chính\n\n- Tờ khai chưa có chữ ký của người yêu cầu\n",
    )
    html = receipts.form3_html(dossier=refused)
    assert re.findall(r"<li>(.*?)</li>", html) == [
        "Thiếu Giấy chứng sinh bản chính",
        "Tờ khai chưa có chữ ký của người yêu cầu",
    ]
    assert "data:image/png" not in html and "/tra-cuu/" not in html
    pdf = receipts.form3_pdf(dossier=refused)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "1. Thiếu Giấy chứng sinh bản chính 2. Tờ khai chưa có chữ ký của người yêu cầu" in text
    assert APPLICANT in text and OFFICER in text
    assert len(pages_in_points(html)) == 1


def test_form3_with_a_code_carries_its_qr(make_dossier):
    refused = make_dossier(status=Status.REFUSED, refusal_reasons="Hồ sơ không thuộc thẩm quyền giải quyết")
    html = receipts.form3_html(dossier=english(refused))
    assert receipts.lookup_qr_data_uri(refused.code) in html
    text = pdf_text(receipts.form3_pdf(dossier=refused))
    assert "REFUSAL TO ACCEPT THE DOSSIER FOR PROCESSING" in text
    assert f"Dossier code: {refused.code}" in text
    assert "for the following reasons: 1. Hồ sơ không thuộc thẩm quyền giải quyết" in text


def test_form3_in_vietnamese(make_dossier, vi_translations):
    refused = make_dossier(code=None, status=Status.REFUSED, refusal_reasons="Thiếu tờ khai")
    text = pdf_text(receipts.form3_pdf(dossier=refused))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "từ chối tiếp nhận, giải quyết hồ sơ này với lý do sau: 1. Thiếu tờ khai" in text


# --- Form 6 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (dt.datetime(2026, 11, 5, 23, 59, tzinfo=VN), receipts.Timeliness.EARLY),  # the day before
        (dt.datetime(2026, 11, 6, 0, 0, tzinfo=VN), receipts.Timeliness.ON_TIME),  # the appointment's day
        (APPOINTMENT, receipts.Timeliness.ON_TIME),
        (APPOINTMENT + dt.timedelta(seconds=1), receipts.Timeliness.LATE),
        (dt.datetime(2026, 11, 5, 17, 30, tzinfo=dt.UTC), receipts.Timeliness.ON_TIME),  # 00:30 on the 6th in VN
    ],
)
def test_timeliness(at, expected):
    assert receipts.timeliness(at=at, appointment=APPOINTMENT) == expected


def test_timeliness_without_appointment():
    assert receipts.timeliness(at=RECEIVED, appointment=None) is None


def test_form6_has_one_row_per_event_with_its_timeliness(dossier):
    Event.objects.create(
        dossier=dossier,
        at=dt.datetime(2026, 11, 6, 9, 15, tzinfo=VN),
        unit_name="Lãnh đạo UBND phường",
        step_from="Ký duyệt",
        step_to="Trả kết quả",
        action="sign",
        note="Trễ do chờ ký",
    )
    html = receipts.form6_html(dossier=english(dossier))
    assert receipts.lookup_qr_data_uri(dossier.code) in html
    rows = re.findall(r'<tr class="(early|on_time|late)">(.*?)</tr>', html, re.S)
    assert [kind for kind, _ in rows] == ["early", "on_time", "late"]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for _, row in rows]
    assert cells[0][1:6] == [
        "Bộ phận Một cửa Phường Long Xuyên",
        "Phòng Văn hóa - Xã hội",  # the next event's unit
        "08:30 05/11/2026",
        "Early",
        "",
    ]
    assert cells[1][1:6] == [
        "Phòng Văn hóa - Xã hội",
        "Lãnh đạo UBND phường",
        "07:45 06/11/2026",
        "On time",
        "Đủ điều kiện",
    ]
    assert cells[2][1:6] == ["Ký duyệt", "Trả kết quả", "09:15 06/11/2026", "Late", "Trễ do chờ ký"]

    text = pdf_text(receipts.form6_pdf(dossier=dossier))
    assert "DOSSIER PROCESSING CONTROL SHEET" in text
    assert f"Dossier code: {dossier.code}" in text
    assert "Appointment for the result: 08:00 on 06/11/2026" in text
    assert "Lãnh đạo UBND phường" in text and "Trễ do chờ ký" in text


def test_form6_without_events(make_dossier):
    html = receipts.form6_html(dossier=english(make_dossier()))
    assert "No hand-over has been recorded yet." in html


def test_form6_in_vietnamese(dossier, vi_translations):
    text = pdf_text(receipts.form6_pdf(dossier=dossier))
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    assert "Trước hạn" in text and "Đúng hạn" in text


# --- Form 7 ---------------------------------------------------------------------------------------------------------


def test_form7_lists_the_dossiers_in_the_given_order_on_landscape_a4(
    agency, procedure, make_dossier, django_assert_num_queries
):
    made = [
        make_dossier(applicant_name=name, returned_at=RECEIVED + dt.timedelta(days=1) if i == 0 else None)
        for i, name in enumerate(["Phạm Thị Út", "Võ Minh Đức", "Huỳnh Ngọc Ánh"])
    ]
    ordered = list(
        Dossier.objects.select_related("procedure", "agency")
        .filter(pk__in=[d.pk for d in made])
        .order_by("-register_number")
    )
    args = {
        "agency": agency,
        "field": procedure.field,
        "start": dt.date(2026, 11, 1),
        "end": dt.date(2026, 11, 30),
        "dossiers": ordered,
    }
    with django_assert_num_queries(2):  # the header's superior agency and unit, whatever the number of rows
        html = receipts.form7_html(**args, language="en")
    codes = [d.code for d in ordered]
    assert [html.index(code) for code in codes] == sorted(html.index(code) for code in codes)
    assert "data:image/png" not in html
    assert re.findall(r'<td class="num">(\d+)</td><td class="code">', html) == ["1", "2", "3"]

    pdf = receipts.form7_pdf(**args)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    positions = [text.index(name) for name in ("Huỳnh Ngọc Ánh", "Võ Minh Đức", "Phạm Thị Út")]
    assert positions == sorted(positions)
    assert "Hộ tịch" in text and "06/11/2026" in text
    (width, height), *more = pages_in_points(receipts.form7_html(**args))
    assert not more
    assert width == pytest.approx(A4_LONG, abs=0.1) and height == pytest.approx(A4_SHORT, abs=0.1)


def test_form7_empty_period(agency, procedure):
    html = receipts.form7_html(
        agency=agency,
        field=procedure.field,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 1, 31),
        dossiers=[],
        language="en",
    )
    assert "No dossier was received in this period." in html
    assert "From 01/01/2026 to 31/01/2026" in html


def test_form7_in_vietnamese(agency, procedure, make_dossier, vi_translations):
    html = receipts.form7_html(
        agency=agency, field=procedure.field, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30), dossiers=[]
    )
    text = pdf_text(
        receipts.form7_pdf(
            agency=agency,
            field=procedure.field,
            start=dt.date(2026, 11, 1),
            end=dt.date(2026, 11, 30),
            dossiers=[make_dossier()],
        )
    )
    assert "Từ ngày 01/11/2026 đến ngày 30/11/2026" in html
    assert "SỔ THEO DÕI HỒ SƠ" in text and "Cơ quan chủ trì giải quyết" in text
