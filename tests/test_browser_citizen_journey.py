"""The citizen's whole journey in Chromium: sign in through the identity provider, submit online with an upload and
a payment, an officer accepts, a supplement round trip, the result, the rating. Refused uploads store nothing."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from citizens.models import Citizen, StoredDocument
from core.national import Status
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import Dossier
from feedback.models import Rating
from organizations.models import Role
from payments.models import Payment

from .dossier_helpers import PDF, officer
from .test_accounts import SIM_PAGE_TITLE, id_number, vi
from .test_browser_workflow import sign_in
from .workflow_helpers import handling_department, publish_standard, staff

pytestmark = pytest.mark.browser
PROCEDURE = "1.004873"  # Cấp Giấy xác nhận tình trạng hôn nhân: fully online, 5.000 đ, one required document
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def act(who, dossier: Dossier, action: str, **data) -> None:  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    dossier_act(officer=who, code=fresh.code, action=action, task_id=fresh.current_task_id, data=ActionInput(**data))


def test_a_citizen_does_the_whole_procedure_online(  # type: ignore[no-untyped-def]
    reseeded, live_server, idp, payment_gateway, settings, page, browser, tmp_path
):
    settings.SITE_URL = live_server.url
    settings.UPLOAD_MAX_MB = 1
    payment_gateway.config(ipn_url=live_server.url + "/thanh-toan/ipn/")
    publish_standard(procedure_code=PROCEDURE)
    department = handling_department(procedure_code=PROCEDURE)
    counter = officer()
    specialist = staff("cv.a", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng")
    leader = staff("ld.a", role=Role.AGENCY_LEADER, full_name="Trương Văn Phúc")
    person = idp.add_user(
        name="Lâm Thị Thu Hà",
        id_number=id_number(year=1994, female=True),
        birthdate="1994-05-20",
        phone="+84918111222",
        email="thuha.lam@example.vn",
    )

    # Sign in through the national identity (the simulator's own page) from the procedure's page.
    page.goto(f"{live_server.url}/thu-tuc/{PROCEDURE}/")
    page.get_by_role("link", name=vi("Submit online")).click()
    expect(page).to_have_url(re.compile(r"/dang-nhap/\?next="))
    page.get_by_role("link", name=vi("Sign in with the electronic identity account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SIM_PAGE_TITLE)
    page.get_by_role("button", name=re.compile("Lâm Thị Thu Hà")).click()
    expect(page).to_have_url(re.compile(rf"/nop-truc-tuyen/{re.escape(PROCEDURE)}/$"))
    citizen = Citizen.objects.get(subject=person["sub"])
    assert citizen.identity_verified and citizen.id_number == person["id_number"]

    # Choose the commune, then the form (this procedure has none beyond the applicant, who is known).
    page.get_by_label(vi("Agency that resolves your dossier")).select_option(str(counter.agency_id))
    page.get_by_role("button", name=vi("Start")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("tình trạng hôn nhân"))
    page.get_by_role("button", name=vi("Continue")).click()

    # Documents: a renamed program and an oversized file are refused with a clear message and nothing is stored.
    upload = page.get_by_label(vi("Upload a file")).first
    exe = tmp_path / "to-khai.pdf"
    exe.write_bytes(EXE)
    upload.set_input_files(str(exe))
    page.get_by_role("button", name=vi("Upload")).first.click()
    expect(page.get_by_role("alert").first).to_contain_text("to-khai.pdf")
    expect(page.locator(".error").first).to_contain_text("PDF, JPEG")
    big = tmp_path / "to-khai-lon.pdf"
    big.write_bytes(PDF + b"0" * (1024 * 1024 + 10))
    page.get_by_label(vi("Upload a file")).first.set_input_files(str(big))
    page.get_by_role("button", name=vi("Upload")).first.click()
    expect(page.locator(".error").first).to_contain_text("1 MB")
    assert not StoredDocument.objects.exists()
    good = tmp_path / "to-khai-xac-nhan.pdf"
    good.write_bytes(PDF + b"to khai")
    page.get_by_label(vi("Upload a file")).first.set_input_files(str(good))
    page.get_by_role("button", name=vi("Upload")).first.click()
    expect(page.locator(".document-slot li").filter(has_text="to-khai-xac-nhan.pdf")).to_be_visible()
    page.get_by_role("button", name=vi("Continue")).click()

    # Result delivery, then the fee through the payment gateway (its own page, then its signed return).
    page.get_by_label(str(vi("Online"))).check()
    page.get_by_role("button", name=vi("Continue")).click()
    page.get_by_role("button", name=vi("Pay online")).click()
    expect(page.get_by_text("5.000 đ")).to_be_visible()
    page.get_by_role("button", name="Thanh toán").click()
    expect(page.locator(".payment-result.payment-paid h1")).to_be_visible()
    assert Payment.objects.get(state=Payment.State.PAID).amount == 5000
    page.locator(".payment-result a[href*='/le-phi/']").first.click()
    page.get_by_role("button", name=vi("Continue")).click()
    page.get_by_role("button", name=vi("Submit the dossier")).click()

    dossier = Dossier.objects.get(citizen=citizen.user)
    assert dossier.status == Status.SUBMITTED and dossier.paid_online and dossier.fees.get().paid
    expect(page.get_by_text(dossier.code).first).to_be_visible()
    expect(page.get_by_text(str(Status(Status.SUBMITTED).label)).first).to_be_visible()

    # The officer accepts it at the counter, in another browser context.
    office = browser.new_context(locale="vi-VN")
    desk = office.new_page()
    sign_in(desk, live_server.url, counter.user.username)
    desk.goto(f"{live_server.url}/mot-cua/ho-so/{dossier.code}/")
    expect(desk.get_by_text("to-khai-xac-nhan.pdf")).to_be_visible()
    desk.get_by_role("button", name=vi("Accept the dossier")).click()
    expect(desk.get_by_role("status").first).to_be_visible()
    office.close()
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.appointment_at is not None

    # The department asks for a supplement; the citizen answers it on their dossier's page.
    act(counter, dossier, "forward")
    act(specialist, dossier, "claim")
    act(specialist, dossier, "request_supplement", items=["Bản sao giấy xác nhận cư trú"], reason="Thiếu giấy tờ")
    page.goto(f"{live_server.url}/ho-so-cua-toi/{dossier.code}/")
    request = page.get_by_role("region", name=vi("The agency asks you to add documents"))
    expect(request.get_by_role("listitem")).to_have_text("Bản sao giấy xác nhận cư trú")
    extra = tmp_path / "cu-tru.pdf"
    extra.write_bytes(PDF + b"cu tru")
    page.get_by_label(vi("Documents (PDF, JPEG or PNG)")).set_input_files(str(extra))
    page.get_by_label(vi("Note to the agency")).fill("Đã bổ sung giấy xác nhận cư trú.")
    page.get_by_role("button", name=vi("Send the documents")).click()
    expect(page.get_by_text(vi("Your documents were sent. Processing continues."))).to_be_visible()
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS and dossier.paused_at is None

    # The result, returned online; the citizen downloads it and rates the service.
    act(specialist, dossier, "forward")
    act(leader, dossier, "claim")
    act(leader, dossier, "record_result", files=[SimpleUploadedFile("xac-nhan.pdf", PDF + b"ket qua")])
    act(leader, dossier, "approve")
    act(counter, dossier, "claim")
    act(counter, dossier, "return_result")
    page.goto(f"{live_server.url}/ho-so-cua-toi/{dossier.code}/")
    expect(page.get_by_text(str(Status(Status.RETURNED).label)).first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="xac-nhan.pdf").click()
    assert download.value.suggested_filename == "xac-nhan.pdf"
    assert StoredDocument.objects.filter(owner=citizen.user, origin="result", dossier_code=dossier.code).exists()
    page.get_by_role("link", name=vi("Rate the service")).click()
    page.locator("input[type=radio]").first.check()
    page.get_by_role("button", name=vi("Send my rating")).click()
    expect(page.locator(".rating-done")).to_be_visible()
    assert Rating.objects.get(dossier=dossier).user == citizen.user
