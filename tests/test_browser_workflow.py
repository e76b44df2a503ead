"""Browser journeys of the internal workflow: officers move a dossier through every step in Chromium."""

import re

import pytest
from playwright.sync_api import Page, expect

from dossiers.models import Dossier, Status
from organizations.models import Role

from .conftest import PASSWORD
from .dossier_helpers import ID_NUMBER, PDF, officer
from .workflow_helpers import handling_department, publish_standard, staff

pytestmark = pytest.mark.browser


def sign_in(page: Page, base: str, username: str) -> Page:
    page.goto(base + "/mot-cua/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    return page


def as_officer(page: Page, base: str, username: str) -> Page:
    context = page.context.browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    other = context.new_page()
    other.set_default_timeout(15000)
    return sign_in(other, base, username)


def do(page: Page, action: str, **fields: str) -> None:
    """Open the action's form on the dossier page (if it has one), fill it in, and submit it."""
    button = page.locator(f'button[data-action="{action}"]')
    details = page.locator(f'details:has(button[data-action="{action}"])')
    if details.count():
        details.locator("summary").click()
    for label, value in fields.items():
        details.get_by_label(label).fill(value)
    button.click()
    expect(page.get_by_role("status").first).to_contain_text("Đã thực hiện")


def test_an_officer_moves_a_dossier_through_every_step_and_the_lookup_names_the_departments(
    live_server, reseeded, page, settings, tmp_path
):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    base = live_server.url
    publish_standard()
    department = handling_department()
    clerk = officer()
    staff("cv.hotich", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng")
    staff("ld.phuong", role=Role.AGENCY_LEADER, full_name="Trương Văn Phúc")

    # The counter receives the dossier (form, code, receipt).
    sign_in(page, base, clerk.user.username)
    page.goto(base + "/mot-cua/tiep-nhan/1.001193/")
    page.get_by_label("Họ, chữ đệm và tên người nộp").fill("Trần Thị Kim Ngân")
    page.get_by_label("Số định danh cá nhân").fill(ID_NUMBER)
    page.get_by_label("Ngày sinh").fill("1995-03-14")
    page.get_by_label("Xã, phường, đặc khu").select_option(label="Phường Long Xuyên")
    page.get_by_role("button", name="Tiếp nhận và in giấy tiếp nhận").click()
    expect(page.get_by_text(re.compile(r"Đã tiếp nhận hồ sơ .+-\d{6}-0001"))).to_be_visible()
    dossier = Dossier.objects.get()
    page.goto(f"{base}/mot-cua/ho-so/{dossier.code}/")
    expect(page.get_by_role("heading", name=re.compile("Bước hiện tại: Tiếp nhận và chuyển hồ sơ"))).to_be_visible()
    do(page, "forward", **{"Ghi chú": "Hồ sơ đầy đủ"})

    # The specialist finds it in the department's queue, takes it and asks for a supplement.
    specialist = as_officer(page, base, "cv.hotich")
    specialist.goto(base + "/mot-cua/viec-cua-toi/?queue=department")
    specialist.get_by_role("link", name=dossier.code).click()
    do(specialist, "claim")
    do(
        specialist,
        "request_supplement",
        **{"Giấy tờ người nộp cần bổ sung (mỗi dòng một giấy tờ)": "Bản sao giấy chứng sinh", "Lý do": "Thiếu bản sao"},
    )
    expect(specialist.locator("[data-deadline]")).to_have_attribute("data-deadline", "paused")
    expect(specialist.get_by_role("link", name="PDF", exact=True)).to_be_visible()  # form 2 to print or send

    # The applicant brings it to the counter, which resumes the dossier; the specialist forwards it.
    page.reload()
    do(page, "resume", **{"Ghi chú": "Đã nhận bản sao giấy chứng sinh"})
    specialist.reload()
    do(specialist, "forward", **{"Ghi chú": "Đủ điều kiện đăng ký"})

    # The leader records the signed result and approves; the counter returns it.
    leader = as_officer(page, base, "ld.phuong")
    leader.goto(f"{base}/mot-cua/ho-so/{dossier.code}/")
    do(leader, "claim")
    result = tmp_path / "trich-luc-khai-sinh.pdf"
    result.write_bytes(PDF)
    leader.locator('details:has(button[data-action="record_result"]) summary').click()
    leader.locator('details:has(button[data-action="record_result"]) input[type=file]').set_input_files(str(result))
    leader.locator('button[data-action="record_result"]').click()
    expect(leader.get_by_role("link", name="trich-luc-khai-sinh.pdf")).to_be_visible()
    do(leader, "approve")
    page.reload()
    do(page, "claim")
    do(page, "return_result")
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED
    expect(page.locator("[data-deadline]")).to_have_attribute("data-deadline", re.compile("done|late"))
    steps = page.locator("table.components").last
    expect(steps).to_contain_text("Ngô Văn Hùng")

    # Anyone looking it up sees the departments that handled it.
    visitor = page.context.browser.new_page()
    visitor.goto(f"{base}/tra-cuu/{dossier.code}/")
    expect(visitor.get_by_text(department.name)).to_be_visible()
    expect(visitor.get_by_text("Trần Thị Kim Ngân")).to_be_visible()
    visitor.close()
