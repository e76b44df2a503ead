import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dossiers.models import Dossier, Status
from organizations.models import Agency
from procedures.models import Procedure

from .conftest import PASSWORD
from .dossier_helpers import ID_NUMBER, PDF, officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client):
    clerk = officer()
    assert client.login(username=clerk.user.username, password=PASSWORD)
    return client


def form_data(**changes):  # type: ignore[no-untyped-def]
    procedure = Procedure.objects.get(code="1.001193")
    data = {
        "agency": Agency.objects.get(key="ubnd_30307").identifier,
        "applicant_type": "1",
        "applicant_name": "Trần Văn Bình",
        "applicant_id_number": ID_NUMBER,
        "applicant_birth_date": "1995-03-14",
        "applicant_commune": "30307",
        "language": "vi",
        "sets": "1",
        "delivery": "counter",
        "action": "accept",
    }
    for component in procedure.components.all():
        data[f"component_{component.pk}"] = "on"
        data[f"component_{component.pk}_originals"] = "1"
        data[f"component_{component.pk}_copies"] = "0"
    for index, fee in enumerate(procedure.fees.all()):
        data[f"fee_{index}_amount"] = str(fee.amount)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_sign_in_is_required(client):
    assert client.get("/mot-cua/tiep-nhan/").url.startswith("/mot-cua/dang-nhap/")


def test_search_procedure_then_accept_with_a_scan(clerk_client):
    html = clerk_client.get("/mot-cua/tiep-nhan/", {"q": "khai sinh"}).content.decode()
    assert "/mot-cua/tiep-nhan/1.001193/" in html
    first = Procedure.objects.get(code="1.001193").components.first()
    response = clerk_client.post(
        "/mot-cua/tiep-nhan/1.001193/",
        {**form_data(), f"component_{first.pk}_scan": SimpleUploadedFile("giay-chung-sinh.pdf", PDF)},
    )
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response.url == f"/mot-cua/ho-so/{dossier.code}/"
    page = clerk_client.get(response.url).content.decode()
    assert "Trần Văn Bình" in page and "giay-chung-sinh.pdf" in page and "giay-tiep-nhan.pdf" in page
    receipt = clerk_client.get(f"/mot-cua/ho-so/{dossier.code}/giay-tiep-nhan.pdf")
    assert receipt["Content-Type"] == "application/pdf" and receipt.content.startswith(b"%PDF-")
    html = clerk_client.get(f"/mot-cua/ho-so/{dossier.code}/giay-tiep-nhan.html").content.decode()
    assert dossier.code in html and "data:image/png;base64," in html
    sheet = clerk_client.get(f"/mot-cua/ho-so/{dossier.code}/phieu-kiem-soat.pdf")
    assert sheet.content.startswith(b"%PDF-")


def test_errors_appear_beside_the_fields_in_vietnamese_and_nothing_is_saved(clerk_client):
    response = clerk_client.post(
        "/mot-cua/tiep-nhan/1.001193/", form_data(applicant_id_number="12345", applicant_name="")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Số định danh cá nhân gồm đúng 12 chữ số." in html
    assert "Nhập họ, chữ đệm và tên người nộp hồ sơ." in html
    assert 'value="12345"' in html  # what the officer typed is kept
    assert not Dossier.objects.exists()


def test_a_renamed_executable_is_refused(clerk_client):
    first = Procedure.objects.get(code="1.001193").components.first()
    response = clerk_client.post(
        "/mot-cua/tiep-nhan/1.001193/",
        {**form_data(), f"component_{first.pk}_scan": SimpleUploadedFile("scan.pdf", b"MZ\x90\x00\x03")},
    )
    assert response.status_code == 400 and "Bản quét phải là tệp PDF, JPEG hoặc PNG." in response.content.decode()
    assert not Dossier.objects.exists()


def test_refusal_at_intake_issues_form_3(clerk_client):
    response = clerk_client.post(
        "/mot-cua/tiep-nhan/1.001193/", form_data(action="refuse", reasons="Giấy chứng sinh không hợp lệ")
    )
    dossier = Dossier.objects.get()
    assert dossier.status == Status.REFUSED and response.url == f"/mot-cua/tu-choi/{dossier.pk}/"
    pdf = clerk_client.get(f"/mot-cua/tu-choi/{dossier.pk}/phieu.pdf")
    assert pdf.content.startswith(b"%PDF-")


def test_register_book_form_7(clerk_client):
    clerk_client.post("/mot-cua/tiep-nhan/1.001193/", form_data())
    dossier = Dossier.objects.get()
    day = timezone.localdate(dossier.received_at).isoformat()  # the register's days are Vietnam's
    params = {"field": dossier.register_field_id, "start": day, "end": day}
    html = clerk_client.get("/mot-cua/so-theo-doi/", {**params, "format": "html"}).content.decode()
    assert dossier.code in html
    pdf = clerk_client.get("/mot-cua/so-theo-doi/", {**params, "format": "pdf"})
    assert pdf.content.startswith(b"%PDF-")
    bad = clerk_client.get("/mot-cua/so-theo-doi/", {**params, "start": "2026-12-31", "format": "pdf"})
    assert bad.status_code == 400
