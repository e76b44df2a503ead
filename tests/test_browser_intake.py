import re

import pytest
from playwright.sync_api import expect

from dossiers.models import Dossier

from .conftest import PASSWORD
from .dossier_helpers import ID_NUMBER, officer

pytestmark = pytest.mark.browser


def test_officer_receives_at_the_counter_and_anyone_looks_it_up(live_server, reseeded, page, settings):
    settings.SITE_URL = live_server.url
    clerk = officer()
    page.goto(live_server.url + "/mot-cua/tiep-nhan/")
    page.get_by_label("Tên đăng nhập").fill(clerk.user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    page.get_by_label("Tìm thủ tục theo tên hoặc mã").fill("dang ky khai sinh")
    page.get_by_role("link", name="Đăng ký khai sinh", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng ký khai sinh")

    # A wrong identification number is refused beside the field, and what was typed stays.
    page.get_by_label("Họ, chữ đệm và tên người nộp").fill("Trần Thị Kim Ngân")
    page.get_by_label("Số định danh cá nhân").fill("12345")
    page.get_by_role("button", name="Tiếp nhận và in giấy tiếp nhận").click()
    expect(page.get_by_text("Số định danh cá nhân gồm đúng 12 chữ số.")).to_be_visible()
    expect(page.get_by_label("Họ, chữ đệm và tên người nộp")).to_have_value("Trần Thị Kim Ngân")
    assert not Dossier.objects.exists()

    page.get_by_label("Số định danh cá nhân").fill(ID_NUMBER)
    page.get_by_label("Ngày sinh").fill("1995-03-14")
    page.get_by_label("Xã, phường, đặc khu").select_option(label="Phường Long Xuyên")
    page.get_by_role("button", name="Tiếp nhận và in giấy tiếp nhận").click()
    expect(page.get_by_text(re.compile(r"Đã tiếp nhận hồ sơ .+-\d{6}-0001"))).to_be_visible()
    dossier = Dossier.objects.get()
    expect(page.get_by_role("link", name="Giấy tiếp nhận (PDF)")).to_have_attribute(
        "href", f"/mot-cua/ho-so/{dossier.code}/giay-tiep-nhan.pdf"
    )

    # Anyone, signed in or not, looks the dossier up by its code (the QR code on the receipt points here).
    visitor = page.context.browser.new_page()
    visitor.goto(live_server.url + "/tra-cuu/")
    visitor.get_by_label("Mã hồ sơ (in trên giấy tiếp nhận)").fill(dossier.code)
    visitor.get_by_role("button", name="Tra cứu").click()
    expect(visitor).to_have_url(f"{live_server.url}/tra-cuu/{dossier.code}/")
    expect(visitor.get_by_text("Trần Thị Kim Ngân")).to_be_visible()
    qr = visitor.locator("figure.qr img")
    expect(qr).to_be_visible()
    visitor.wait_for_function("() => document.querySelector('figure.qr img').naturalWidth > 0")
    assert ID_NUMBER not in visitor.content()
    visitor.close()
