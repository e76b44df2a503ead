import re

import pytest
from playwright.sync_api import expect

from citizens.models import Citizen

from .test_accounts import SIM_PAGE_TITLE, id_number, vi

pytestmark = pytest.mark.browser


def test_a_citizen_signs_in_with_the_electronic_identity_and_out_again(live_server, transactional_db, idp, page):  # type: ignore[no-untyped-def]
    khoi = idp.add_user(
        name="Đỗ Minh Khôi",
        id_number=id_number(year=1996),
        birthdate="1996-11-02",
        phone="+84909123456",
        email="khoi.do@example.vn",
    )
    page.goto(live_server.url + "/tai-khoan/")
    # Citizen pages send an anonymous visitor to sign in, and back afterwards.
    expect(page).to_have_url(re.compile(r"/dang-nhap/\?next=/tai-khoan/$"))
    page.get_by_role("link", name=vi("Sign in with the electronic identity account")).click()

    # The identity provider's own page (the simulator, another process): pick the person.
    expect(page.get_by_role("heading", level=1)).to_have_text(SIM_PAGE_TITLE)
    page.get_by_role("button", name=re.compile("Đỗ Minh Khôi")).click()

    expect(page).to_have_url(live_server.url + "/tai-khoan/")
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("My account"))
    menu = page.get_by_role("navigation", name=vi("Main menu"))
    expect(menu.get_by_role("link", name="Đỗ Minh Khôi")).to_be_visible()
    expect(page.get_by_text(khoi["id_number"])).to_be_visible()
    citizen = Citizen.objects.get(subject=khoi["sub"])
    assert citizen.identity_verified and citizen.phone == "0909123456"

    # Signing out passes by the provider's end-session endpoint and comes back to the home page, signed out.
    menu.get_by_role("button", name=vi("Sign out")).click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("navigation", name=vi("Main menu")).get_by_role("link", name=vi("Sign in"))).to_be_visible()
    assert idp.state()["logouts"] == 1
