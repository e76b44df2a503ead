import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_citizen_searches_the_catalogue_and_opens_a_procedure(live_server, reseeded, page):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tìm thủ tục hành chính")
    page.get_by_label("Tìm kiếm thủ tục").fill("dang ky khai sinh")
    page.get_by_role("button", name="Tìm kiếm").click()
    expect(page).to_have_url(re.compile(r"/thu-tuc/\?q=dang\+ky\+khai\+sinh"))
    first = page.locator(".procedure-name").first
    expect(first).to_have_text("Đăng ký khai sinh")

    # Filtering narrows the list in place (htmx) and keeps the URL shareable.
    page.get_by_label("Cấp thực hiện").select_option("province")
    expect(page.locator(".result-count")).to_have_text("Tìm thấy 0 thủ tục")
    expect(page.get_by_text("Không tìm thấy thủ tục phù hợp")).to_be_visible()
    page.get_by_label("Cấp thực hiện").select_option("commune")
    expect(page.locator(".procedure-name").first).to_have_text("Đăng ký khai sinh")
    expect(page).to_have_url(re.compile(r"level=commune"))

    page.locator(".procedure-name").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng ký khai sinh")
    expect(page.locator(".components tbody tr").first).to_be_visible()
    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] > 80
