"""Notices issued while processing (forms 2, 4, 5 and the refusal to resolve): contents, language, PDF text, QR,
and who may print them.

PDF text is read back with ``pdftotext`` (Debian's poppler-utils), so Vietnamese diacritics are checked as a reader
of the PDF gets them.
"""

import datetime as dt
import re
import shutil
import subprocess
import tempfile
import unicodedata
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.utils.translation import gettext

from dossiers import selectors
from dossiers.models import Dossier, Notice
from dossiers.services import dossier_receive
from organizations.models import Staff
from receipts import services as receipts

from .conftest import PASSWORD
from .dossier_helpers import intake, officer

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = dt.datetime(2026, 11, 5, 8, 30, tzinfo=VN)
ISSUED = dt.datetime(2026, 11, 5, 14, 10, tzinfo=VN)
APPLICANT = "Nguyễn Thị Hồng Nhung"
CLERK = "Đặng Thị Mai"
SUMMARY = "Đăng ký khai sinh cho con: Trần Gia Hân"


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as a reader extracts it, whitespace collapsed, NFC."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.fail("pdftotext is missing: install Debian's poppler-utils (apt-get install -y poppler-utils)")
    out = subprocess.run([exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return unicodedata.normalize("NFC", " ".join(out.decode().split()))


def pdf_images(pdf: bytes) -> int:
    exe = shutil.which("pdfimages")
    if exe is None:
        pytest.fail("pdfimages is missing: install Debian's poppler-utils (apt-get install -y poppler-utils)")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:  # pdfimages reads no standard input
        file.write(pdf)
        file.flush()
        out = subprocess.run([exe, "-list", file.name], capture_output=True, check=True).stdout.decode()
    return len(out.splitlines()) - 2  # two header lines, then one line per image


def vi(msgid: str) -> str:
    with translation.override("vi"):
        return gettext(msgid)


@pytest.fixture
def vi_translations() -> None:
    """The Vietnamese catalogue is compiled (scripts/bootstrap.sh); without it these tests must fail, not pass."""
    assert vi("Dossier code") != "Dossier code", "compile the Vietnamese catalogue: manage.py compilemessages"


@pytest.fixture
def clerk() -> Staff:
    return officer()  # Bộ phận Một cửa of Phường Long Xuyên (ubnd_30307), "Đặng Thị Mai"


@pytest.fixture
def dossier(clerk) -> Dossier:  # type: ignore[no-untyped-def]
    data = intake()
    data.summary = SUMMARY
    return dossier_receive(officer=clerk, intake=data, now=RECEIVED)


@pytest.fixture
def make_notice(dossier, clerk):  # type: ignore[no-untyped-def]
    def make(kind: str, *, on: Dossier | None = None, **fields) -> Notice:  # type: ignore[no-untyped-def]
        values = {"dossier": on or dossier, "kind": kind, "issued_at": ISSUED, "issued_by": clerk, **fields}
        created = Notice.objects.create(**values)
        target = on or dossier
        # As the view gets it: the dossier through the officer's access, the notice through the dossier.
        fetched = selectors.access_dossier_for_officer(officer=clerk, code=target.code)
        return selectors.notice_for_dossier(dossier=fetched, pk=created.pk)

    return make


def supplement(make_notice, **fields) -> Notice:  # type: ignore[no-untyped-def]
    return make_notice(
        Notice.Kind.SUPPLEMENT,
        items=["Bản sao Giấy chứng nhận kết hôn của cha mẹ", "  ", "Tờ khai có chữ ký của người đi đăng ký"],
        reason="Hồ sơ thiếu giấy tờ chứng minh quan hệ hôn nhân",
        **fields,
    )


def apology(make_notice, dossier) -> Notice:  # type: ignore[no-untyped-def]
    return make_notice(
        Notice.Kind.APOLOGY,
        reason="Cần xác minh thông tin tại nơi cư trú trước đây của người mẹ",
        old_appointment_at=dossier.appointment_at,
        new_appointment_at=dt.datetime(2026, 11, 12, 16, 0, tzinfo=VN),
    )


# --- Form 2: supplement and payment -----------------------------------------------------------------------------


def test_form2_lists_the_items_and_carries_the_code_and_qr(make_notice, dossier):
    notice = supplement(make_notice)
    html = receipts.notice_html(notice=notice)
    assert re.findall(r"<li>(.*?)</li>", html) == [
        "Bản sao Giấy chứng nhận kết hôn của cha mẹ",
        "Tờ khai có chữ ký của người đi đăng ký",
    ]
    assert receipts.lookup_qr_data_uri(dossier.code) in html and receipts.lookup_url(dossier.code) in html
    pdf = receipts.notice_pdf(notice=notice)
    assert pdf.startswith(b"%PDF-") and pdf_images(pdf) == 1  # the QR code
    text = pdf_text(pdf)
    for phrase in (
        "ỦY BAN NHÂN DÂN PHƯỜNG LONG XUYÊN",
        dossier.code,
        APPLICANT,
        SUMMARY,
        "1. Bản sao Giấy chứng nhận kết hôn của cha mẹ 2. Tờ khai có chữ ký của người đi đăng ký",
        "Hồ sơ thiếu giấy tờ chứng minh quan hệ hôn nhân",
        CLERK,
    ):
        assert phrase in text, phrase


def test_form2_in_vietnamese(make_notice, dossier, vi_translations):
    text = pdf_text(receipts.notice_pdf(notice=supplement(make_notice)))
    for phrase in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Long Xuyên, ngày 05 tháng 11 năm 2026",
        vi("Request to supplement and complete the dossier").upper(),
        f"Mã hồ sơ: {dossier.code}",
        f"Họ và tên: {APPLICANT}",
        f"{vi('Request')}: {SUMMARY}",
        f"{vi('Procedure')}: Đăng ký khai sinh",
        f"{vi('Reason')}: Hồ sơ thiếu giấy tờ chứng minh quan hệ hôn nhân",
    ):
        assert phrase in text, phrase


def test_form2_in_english_with_the_contact_phone(make_notice, dossier, clerk):
    Dossier.objects.filter(pk=dossier.pk).update(language="en")
    clerk.phone = "0296 3852 111"
    clerk.save(update_fields=["phone"])
    text = pdf_text(receipts.notice_pdf(notice=supplement(make_notice)))
    assert "REQUEST TO SUPPLEMENT AND COMPLETE THE DOSSIER" in text
    assert f"please contact {CLERK}, phone 0296 3852 111, for guidance" in text
    assert "OFFICER GIVING THE GUIDANCE" in text


def test_form2_another_contact_person_without_the_officers_phone(make_notice, clerk):
    clerk.phone = "0296 3852 111"
    clerk.save(update_fields=["phone"])
    html = receipts.notice_html(notice=supplement(make_notice, contact="Lê Văn Khánh (Phòng Văn hóa - Xã hội)"))
    assert "Lê Văn Khánh (Phòng Văn hóa - Xã hội)" in html and "0296 3852 111" not in html


def test_payment_is_form2_with_its_own_title(make_notice, dossier):
    Dossier.objects.filter(pk=dossier.pk).update(language="en")
    notice = make_notice(Notice.Kind.PAYMENT, items=["Lệ phí đăng ký khai sinh: 8.000 đồng"], reason="Chưa nộp lệ phí")
    text = pdf_text(receipts.notice_pdf(notice=notice))
    assert "NOTICE TO FULFIL FINANCIAL OBLIGATIONS" in text and "SUPPLEMENT" not in text
    assert "financial obligations: 1. Lệ phí đăng ký khai sinh: 8.000 đồng" in text


# --- Form 4: apology and new appointment ------------------------------------------------------------------------


def test_form4_apologises_and_gives_the_new_appointment(make_notice, dossier):
    Dossier.objects.filter(pk=dossier.pk).update(language="en")
    notice = apology(make_notice, dossier)
    html = receipts.notice_html(notice=notice)
    assert receipts.lookup_qr_data_uri(dossier.code) in html
    text = pdf_text(receipts.notice_pdf(notice=notice))
    old = timezone_moment(dossier.appointment_at)
    for phrase in (
        "APOLOGY AND REQUEST TO EXTEND THE PROCESSING TIME",
        f"Addressed to: {APPLICANT}",
        "On 05/11/2026, ",
        f"Dossier code: {dossier.code}",
        f"Appointment for the result: {old}",
        "Reason: Cần xác minh thông tin tại nơi cư trú trước đây của người mẹ",
        "apologises to you and will return the result of the dossier at: 16:00 on 12/11/2026.",
        "HEAD OF THE AGENCY",
    ):
        assert phrase in text, phrase


def timezone_moment(value: dt.datetime) -> str:
    local = value.astimezone(VN)
    return f"{local:%H}:{local:%M} on {local:%d}/{local:%m}/{local:%Y}"


def test_form4_in_vietnamese(make_notice, dossier, vi_translations):
    text = pdf_text(receipts.notice_pdf(notice=apology(make_notice, dossier)))
    for phrase in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        vi("Apology and request to extend the processing time").upper(),
        vi("Head of the agency").upper(),
        f"Mã hồ sơ: {dossier.code}",
        APPLICANT,
        "Cần xác minh thông tin tại nơi cư trú trước đây của người mẹ",
        "16 giờ 00 phút, ngày 12 tháng 11 năm 2026",
    ):
        assert phrase in text, phrase


# --- Form 5 and the refusal to resolve --------------------------------------------------------------------------


def test_form5_stops_at_the_applicants_request(make_notice, dossier, vi_translations):
    notice = make_notice(Notice.Kind.STOP, reason="Người yêu cầu xin rút hồ sơ để bổ sung giấy tờ")
    pdf = receipts.notice_pdf(notice=notice)
    assert pdf_images(pdf) == 1
    text = pdf_text(pdf)
    for phrase in (
        vi("Notice of stopping the processing of the dossier").upper(),
        f"Mã hồ sơ: {dossier.code}",
        f"Họ và tên: {APPLICANT}",
        "Người yêu cầu xin rút hồ sơ để bổ sung giấy tờ",
        vi("Head of the agency").upper(),
    ):
        assert phrase in text, phrase

    Dossier.objects.filter(pk=dossier.pk).update(language="en")
    notice.dossier.language = "en"
    text = pdf_text(receipts.notice_pdf(notice=notice))
    assert "NOTICE OF STOPPING THE PROCESSING OF THE DOSSIER" in text
    assert "The applicant has asked to stop the processing of the dossier. As the dossier has no result yet" in text


def test_refusal_lists_its_reasons_one_per_line(make_notice, dossier, vi_translations):
    notice = make_notice(
        Notice.Kind.REFUSAL,
        reason="Người được khai sinh đã được đăng ký khai sinh trước đó\n\n- Giấy chứng sinh không hợp lệ\n",
    )
    html = receipts.notice_html(notice=notice)
    assert re.findall(r"<li>(.*?)</li>", html) == [
        "Người được khai sinh đã được đăng ký khai sinh trước đó",
        "Giấy chứng sinh không hợp lệ",
    ]
    text = pdf_text(receipts.notice_pdf(notice=notice))
    assert vi("Notice of refusal to resolve the dossier").upper() in text
    assert "1. Người được khai sinh đã được đăng ký khai sinh trước đó 2. Giấy chứng sinh không hợp lệ" in text
    assert f"Mã hồ sơ: {dossier.code}" in text


def test_notices_need_no_query_once_selected(make_notice, dossier, django_assert_num_queries):
    notices = [
        supplement(make_notice),
        apology(make_notice, dossier),
        make_notice(Notice.Kind.STOP, reason="Theo đề nghị"),
        make_notice(Notice.Kind.REFUSAL, reason="Không đủ điều kiện"),
    ]
    with django_assert_num_queries(0):
        for notice in notices:
            receipts.notice_html(notice=notice)


# --- The view ---------------------------------------------------------------------------------------------------


def test_the_view_serves_the_agencys_officers_only(client, make_notice, dossier, clerk):
    notice = supplement(make_notice)
    url = f"/mot-cua/ho-so/{dossier.code}/phieu/{notice.pk}"
    assert client.get(f"{url}.pdf").url.startswith("/mot-cua/dang-nhap/")

    assert client.login(username=clerk.user.username, password=PASSWORD)
    html = client.get(f"{url}.html")
    assert html.status_code == 200
    assert APPLICANT in html.content.decode() and "data:image/png;base64," in html.content.decode()
    pdf = client.get(f"{url}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert f"{dossier.code}-{notice.pk}.pdf" in pdf["Content-Disposition"]

    # A notice of another dossier, asked for under this dossier's code.
    other = dossier_receive(officer=clerk, intake=intake(), now=RECEIVED)
    foreign = make_notice(Notice.Kind.STOP, on=other, reason="Theo đề nghị")
    assert client.get(f"/mot-cua/ho-so/{dossier.code}/phieu/{foreign.pk}.html").status_code == 404
    assert client.get(f"/mot-cua/ho-so/{other.code}/phieu/{foreign.pk}.html").status_code == 200

    # An officer of another agency sees neither.
    client.logout()
    outsider = officer(agency_key="stp", username="cb.stp")
    assert client.login(username=outsider.user.username, password=PASSWORD)
    assert client.get(f"{url}.html").status_code == 404
    assert client.get(f"{url}.pdf").status_code == 404
