"""Citizens' sign-in: single sign-on against the identity provider simulator (its own process, the real protocol),
local accounts, the separation of staff and citizens, throttling of failed sign-ins, the profile."""

import random
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from citizens.models import Citizen
from citizens.oidc import PROVIDER
from organizations.models import AdministrativeUnit

from .conftest import PASSWORD
from .dossier_helpers import officer

User = get_user_model()
SIM_PAGE_TITLE = "Đăng nhập bằng tài khoản định danh điện tử"


def vi(message: str) -> str:
    """The Vietnamese the page shows (the English msgid until the catalogue has the string)."""
    with translation.override("vi"):
        return gettext(message)


STAFF_REFUSED = vi("This is a staff account. Staff sign in at the one-stop back office: %(url)s") % {
    "url": "/mot-cua/dang-nhap/"
}


def id_number(*, year: int, female: bool = False, province: str = "089") -> str:
    """A personal identification number consistent with the birth year (core/identity.py), random otherwise."""
    digit = 2 * ((year - 1900) // 100) + int(female)
    return f"{province}{digit}{year % 100:02d}{random.randrange(10**6):06d}"


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    # Each test its own client address: failed-sign-in counters live in the shared Redis, and other test runs sign
    # in from 127.0.0.1.
    return Client(REMOTE_ADDR=f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}")


def sso(client: Client, idp, *, sub: str, next_url: str = ""):  # type: ignore[no-untyped-def]
    """The authorization-code flow: our /oidc/authenticate/ → the simulator's page (a user picked there) →
    our /oidc/callback/. Returns the callback's response."""
    start = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{idp.url}/authorize?")
    params = dict(parse_qsl(urlsplit(authorize).query))
    assert params["client_id"] == idp.client_id and params["response_type"] == "code"
    assert params["redirect_uri"] == "http://testserver/oidc/callback/" and params["state"] and params["nonce"]
    page = httpx.get(authorize)
    assert page.status_code == 200 and SIM_PAGE_TITLE in page.text
    back = httpx.post(f"{idp.url}/authorize", data={**params, "action": "pick", "user": sub})
    assert back.status_code == 302, back.text
    location = back.headers["location"]
    assert location.startswith("http://testserver/oidc/callback/?")
    returned = dict(parse_qsl(urlsplit(location).query))
    assert returned["state"] == params["state"] and returned["code"]
    return client.get(location.removeprefix("http://testserver"))


def signed_in_as(client: Client):  # type: ignore[no-untyped-def]
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def person(idp, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "name": "Võ Thị Kim Yến",
        "id_number": id_number(year=1990, female=True),
        "birthdate": "1990-05-17",
        "phone": "+84912000111",
        "email": f"yen.{random.randrange(10**9)}@example.vn",
    }
    return idp.add_user(**{**fields, **overrides})


def register(client: Client, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "full_name": "Huỳnh Văn Tâm",
        "id_number": id_number(year=1988),
        "birth_date": "1988-02-03",
        "phone": "0913 456 789",
        "email": f"tam.{random.randrange(10**9)}@example.vn",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post("/dang-ky/", data), data


def login(client: Client, identifier: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post("/dang-nhap/", {"identifier": identifier, "password": password, **extra})


# -- single sign-on ------------------------------------------------------------------------------------------------


def test_single_sign_on_opens_a_verified_citizen_account_and_signs_in(client, idp, db):  # type: ignore[no-untyped-def]
    yen = person(idp)
    response = sso(client, idp, sub=yen["sub"], next_url="/tai-khoan/")
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"

    citizen = Citizen.objects.select_related("user").get(subject=yen["sub"])
    assert (citizen.provider, citizen.identity_verified) == (PROVIDER, True)
    assert citizen.full_name == "Võ Thị Kim Yến"
    assert citizen.id_number == yen["id_number"]
    assert citizen.birth_date.isoformat() == "1990-05-17"
    assert citizen.phone == "0912000111"  # +84 as Vietnamese forms write it
    assert citizen.email == yen["email"] == citizen.user.email
    assert not citizen.user.has_usable_password()
    assert signed_in_as(client) == citizen.user
    assert idp.state()["tokens"] == 1 and idp.state()["userinfo"] == 1

    profile = client.get("/tai-khoan/").content.decode()
    assert "Võ Thị Kim Yến" in profile and yen["id_number"] in profile
    assert 'name="phone"' not in profile  # the provider's claims are read-only
    assert "Võ Thị Kim Yến" in client.get("/").content.decode()  # in the menu


def test_a_second_sign_on_updates_the_account_instead_of_opening_another(client, idp, db):  # type: ignore[no-untyped-def]
    first = person(idp)
    sso(client, idp, sub=first["sub"])
    users = User.objects.count()

    idp.add_user(**{**first, "name": "Võ Thị Kim Yến Nhi", "phone": "+84987000222"})
    other = Client(REMOTE_ADDR="10.0.0.2")
    response = sso(other, idp, sub=first["sub"])
    assert response.status_code == 302
    assert User.objects.count() == users
    citizen = Citizen.objects.get(subject=first["sub"])
    assert (citizen.full_name, citizen.phone) == ("Võ Thị Kim Yến Nhi", "0987000222")
    assert signed_in_as(other) == citizen.user == signed_in_as(client)


def test_a_tampered_state_is_refused(client, idp, db):  # type: ignore[no-untyped-def]
    yen = person(idp)
    start = client.get("/oidc/authenticate/")
    params = dict(parse_qsl(urlsplit(start["Location"]).query))
    back = httpx.post(f"{idp.url}/authorize", data={**params, "action": "pick", "user": yen["sub"]})
    returned = dict(parse_qsl(urlsplit(back.headers["location"]).query))

    response = client.get("/oidc/callback/", {"code": returned["code"], "state": returned["state"] + "x"})
    assert response.status_code == 302 and response["Location"] == "/dang-nhap/"
    assert signed_in_as(client) is None
    assert not Citizen.objects.filter(subject=yen["sub"]).exists()
    assert idp.state()["tokens"] == 0  # refused before the code was exchanged
    page = client.get("/dang-nhap/").content.decode()
    assert vi("Sign-in with the electronic identity did not succeed. Please try again.") in page


def test_an_id_token_with_a_bad_signature_is_refused(client, idp, db):  # type: ignore[no-untyped-def]
    yen = person(idp)
    idp.mode(bad_signature=True)
    response = sso(client, idp, sub=yen["sub"])
    assert response.status_code == 302 and response["Location"] == "/dang-nhap/"
    assert idp.state()["tokens"] == 1  # the code was exchanged; the id_token did not verify
    assert signed_in_as(client) is None
    assert not Citizen.objects.filter(subject=yen["sub"]).exists()


def test_the_token_endpoint_takes_basic_client_authentication(client, idp, db, settings):  # type: ignore[no-untyped-def]
    settings.OIDC_TOKEN_USE_BASIC_AUTH = True
    yen = person(idp)
    assert sso(client, idp, sub=yen["sub"]).status_code == 302
    assert signed_in_as(client) == Citizen.objects.get(subject=yen["sub"]).user


@pytest.mark.parametrize(
    "number, birthdate",
    [("12345", "1990-05-17"), ("", "1990-05-17"), ("089195000123", "1990-05-17")],  # too short, none, wrong year
)
def test_claims_without_a_valid_id_number_are_refused(client, idp, db, number, birthdate):  # type: ignore[no-untyped-def]
    # Without a number the simulator leaves the claim out altogether.
    someone = person(idp, id_number=number, birthdate=birthdate, sub=f"sub-{random.randrange(10**9)}")
    users = User.objects.count()
    response = sso(client, idp, sub=someone["sub"])
    assert response.status_code == 302 and response["Location"] == "/dang-nhap/"
    assert signed_in_as(client) is None
    assert User.objects.count() == users and not Citizen.objects.filter(subject=someone["sub"]).exists()
    message = vi(
        "The identity provider did not send a valid personal identification number, so the portal cannot "
        "open your account. Please contact the public-administration service centre."
    )
    assert message in client.get("/dang-nhap/").content.decode()


def test_a_staff_account_cannot_come_in_through_citizen_single_sign_on(client, idp, db):  # type: ignore[no-untyped-def]
    clerk = officer()
    yen = person(idp)
    # However it happened (data fixed by hand, say), a staff user linked to the subject is refused.
    Citizen.objects.create(
        user=clerk.user, full_name="Đặng Thị Mai", provider=PROVIDER, subject=yen["sub"], identity_verified=True
    )
    response = sso(client, idp, sub=yen["sub"])
    assert response.status_code == 302 and response["Location"] == "/dang-nhap/"
    assert signed_in_as(client) is None
    assert STAFF_REFUSED in client.get("/dang-nhap/").content.decode()
    assert Citizen.objects.get(subject=yen["sub"]).full_name == "Đặng Thị Mai"  # nothing was updated


def test_sign_out_ends_the_session_here_and_at_the_provider(client, idp, db):  # type: ignore[no-untyped-def]
    yen = person(idp)
    sso(client, idp, sub=yen["sub"])
    assert client.get("/dang-xuat/").status_code == 405  # a link cannot sign anyone out
    assert signed_in_as(client) is not None
    response = client.post("/dang-xuat/")
    assert signed_in_as(client) is None
    assert response["Location"].startswith(f"{idp.url}/logout?")
    query = dict(parse_qsl(urlsplit(response["Location"]).query))
    assert query["post_logout_redirect_uri"] == "http://testserver/" and query["id_token_hint"]
    back = httpx.get(response["Location"])
    assert back.status_code == 302 and back.headers["location"] == "http://testserver/"
    assert idp.state()["logouts"] == 1


def test_the_simulator_codes_are_single_use_and_clients_must_authenticate(idp):  # type: ignore[no-untyped-def]
    user = idp.users()[0]
    params = {
        "client_id": idp.client_id,
        "redirect_uri": "http://testserver/oidc/callback/",
        "response_type": "code",
        "scope": "openid profile",
        "state": "s",
    }
    picked = httpx.post(f"{idp.url}/authorize", data={**params, "action": "pick", "user": user["sub"]})
    code = dict(parse_qsl(urlsplit(picked.headers["location"]).query))["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"]}
    wrong = httpx.post(f"{idp.url}/token", data=exchange, auth=(idp.client_id, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    first = httpx.post(f"{idp.url}/token", data=exchange, auth=(idp.client_id, idp.client_secret))
    assert first.status_code == 200 and first.json()["token_type"] == "Bearer"
    token = first.json()["access_token"]
    userinfo = httpx.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert userinfo.json()["so_dinh_danh"] == user["id_number"]
    again = httpx.post(
        f"{idp.url}/token", data={**exchange, "client_id": idp.client_id, "client_secret": idp.client_secret}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # The replay revoked the access token the code gave.
    assert httpx.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# -- local accounts ----------------------------------------------------------------------------------------------


def test_register_signs_in_and_the_account_signs_in_by_number_or_email(client, db):  # type: ignore[no-untyped-def]
    response, data = register(client)
    assert response.status_code == 302 and response["Location"] == "/tai-khoan/"
    citizen = Citizen.objects.select_related("user").get(id_number=data["id_number"])
    assert citizen.user.username == data["id_number"]
    assert (citizen.full_name, citizen.phone, citizen.email) == ("Huỳnh Văn Tâm", "0913456789", data["email"])
    assert not citizen.identity_verified and citizen.provider == ""
    assert signed_in_as(client) == citizen.user

    client.post("/dang-xuat/")
    assert signed_in_as(client) is None
    assert login(client, data["id_number"], next="/thu-tuc/")["Location"] == "/thu-tuc/"
    assert signed_in_as(client) == citizen.user
    client.post("/dang-xuat/")
    assert login(client, data["email"].upper())["Location"] == "/"
    assert signed_in_as(client) == citizen.user
    client.post("/dang-xuat/")
    # An outside "next" is not followed.
    assert login(client, data["id_number"], next="https://example.com/")["Location"] == "/"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("id_number", "12345", "A personal identification number has exactly 12 digits."),
        ("id_number", "089195000123", "The number does not match the date of birth (year %(year)s)."),
        ("password2", "Khac-mat-khau-2025", "The two passwords differ."),
        ("phone", "12345", "Enter a Vietnamese phone number of 10 or 11 digits, starting with 0 (or +84)."),
    ],
)
def test_register_refuses_bad_details_and_creates_nothing(client, db, field, value, message):  # type: ignore[no-untyped-def]
    users = User.objects.count()
    response, data = register(client, **{field: value})
    assert response.status_code == 400
    page = response.content.decode()
    expected = vi(message) % {"year": 1988} if "%(year)s" in message else vi(message)
    assert expected in page
    assert 'aria-invalid="true"' in page and f'id="id_{field}_error"' in page
    assert User.objects.count() == users and not Citizen.objects.filter(id_number=data["id_number"]).exists()
    assert signed_in_as(client) is None


def test_register_refuses_a_number_that_already_has_an_account(client, db):  # type: ignore[no-untyped-def]
    _, data = register(client)
    client.post("/dang-xuat/")
    response, _ = register(client, id_number=data["id_number"], email="")
    assert response.status_code == 400
    assert Citizen.objects.filter(id_number=data["id_number"]).count() == 1


def test_staff_and_citizens_each_sign_in_at_their_own_door(client, db):  # type: ignore[no-untyped-def]
    clerk = officer()
    response = login(client, clerk.user.username)
    assert response.status_code == 200 and signed_in_as(client) is None
    assert STAFF_REFUSED in response.content.decode()

    _, data = register(Client(REMOTE_ADDR="10.0.0.3"))
    response = client.post("/mot-cua/dang-nhap/", {"username": data["id_number"], "password": PASSWORD})
    assert response.status_code == 200 and signed_in_as(client) is None
    refused = vi("This account is not a staff account of an agency. Citizens sign in on the portal: %(url)s")
    assert refused % {"url": "/dang-nhap/"} in response.content.decode()

    response = client.post("/mot-cua/dang-nhap/", {"username": clerk.user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/mot-cua/"
    assert signed_in_as(client) == clerk.user


def test_citizen_pages_send_anonymous_visitors_to_sign_in_and_refuse_staff(client, db):  # type: ignore[no-untyped-def]
    response = client.get("/tai-khoan/")
    assert response.status_code == 302 and response["Location"] == "/dang-nhap/?next=/tai-khoan/"
    client.force_login(officer().user)
    response = client.get("/tai-khoan/")
    assert response.status_code == 403 and "/mot-cua/" in response.content.decode()


# -- throttling --------------------------------------------------------------------------------------------------


def test_failed_sign_ins_are_throttled_per_account_then_per_client(client, db, settings, caplog):  # type: ignore[no-untyped-def]
    settings.LOGIN_FAILURES_MAX = 5
    settings.LOGIN_FAILURES_MAX_PER_IP = 12
    accounts = []
    for year in (1970, 1971, 1972, 1973):
        _, data = register(Client(REMOTE_ADDR="10.0.0.4"), birth_date=f"{year}-01-01", id_number=id_number(year=year))
        accounts.append(data["id_number"])
    a, b, c, d = accounts

    for _ in range(5):
        response = login(client, a, "sai-mat-khau")
        assert response.status_code == 200
        assert vi("The personal identification number, email or password is not correct.") in response.content.decode()
    assert "sign-in failed portal=citizen" in caplog.text
    refused = login(client, a)  # the right password, but no more tries for this account
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert signed_in_as(client) is None

    assert login(client, b).status_code == 302  # another account from the same address is unaffected
    client.post("/dang-xuat/")
    for _ in range(4):
        login(client, b, "sai-mat-khau")
    assert login(client, b).status_code == 302  # its own failures are forgiven on success ...
    client.post("/dang-xuat/")
    for _ in range(3):
        assert login(client, c, "sai-mat-khau").status_code == 200
    # ... the address's are not: 5 + 4 + 3 failures reach its limit, and every account is refused from there.
    response = login(client, d)
    assert response.status_code == 429 and signed_in_as(client) is None
    assert client.post("/mot-cua/dang-nhap/", {"username": "ai.do", "password": "x"}).status_code == 429
    assert login(Client(REMOTE_ADDR="10.0.0.5"), d).status_code == 302  # from elsewhere it still works


def test_failed_staff_sign_ins_are_throttled(client, db):  # type: ignore[no-untyped-def]
    clerk = officer(username=f"motcua.{random.randrange(10**9)}")
    for _ in range(5):
        response = client.post("/mot-cua/dang-nhap/", {"username": clerk.user.username, "password": "sai"})
        assert response.status_code == 200
    response = client.post("/mot-cua/dang-nhap/", {"username": clerk.user.username, "password": PASSWORD})
    assert response.status_code == 429 and signed_in_as(client) is None


# -- profile and password ----------------------------------------------------------------------------------------


def test_a_citizen_edits_contact_details_and_bad_input_changes_nothing(client, db):  # type: ignore[no-untyped-def]
    _, data = register(client)
    commune = AdministrativeUnit.objects.exclude(kind=AdministrativeUnit.Kind.PROVINCE).order_by("code").first()
    form = {"phone": "0987 111 222", "email": "moi@example.vn", "address": "12 Trần Hưng Đạo", "commune": commune.code}
    assert client.post("/tai-khoan/", form)["Location"] == "/tai-khoan/"
    citizen = Citizen.objects.select_related("user").get(id_number=data["id_number"])
    assert (citizen.phone, citizen.email, citizen.address, citizen.commune) == (
        "0987111222",
        "moi@example.vn",
        "12 Trần Hưng Đạo",
        commune,
    )
    assert citizen.user.email == "moi@example.vn"
    page = client.get("/tai-khoan/").content.decode()
    assert "12 Trần Hưng Đạo" in page and f'value="{commune.code}" selected' in page

    _, other = register(Client(REMOTE_ADDR="10.0.0.6"))
    for bad in ({"commune": 999999}, {"phone": "12"}, {"email": other["email"]}):
        response = client.post("/tai-khoan/", {**form, "address": "Địa chỉ khác", **bad})
        assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
        citizen.refresh_from_db()
        assert (citizen.address, citizen.email, citizen.phone) == ("12 Trần Hưng Đạo", "moi@example.vn", "0987111222")


def test_a_verified_citizen_cannot_change_the_providers_claims(client, idp, db):  # type: ignore[no-untyped-def]
    yen = person(idp)
    sso(client, idp, sub=yen["sub"])
    response = client.post("/tai-khoan/", {"phone": "0999999999", "email": "khac@example.vn", "address": "Ấp Mỹ Hòa"})
    assert response.status_code == 302
    citizen = Citizen.objects.get(subject=yen["sub"])
    assert (citizen.phone, citizen.email, citizen.address) == ("0912000111", yen["email"], "Ấp Mỹ Hòa")
    page = client.get("/tai-khoan/mat-khau/").content.decode()
    assert vi("Your account signs in with your electronic identity account and has no password on this portal.") in page


def test_a_citizen_changes_the_password(client, db):  # type: ignore[no-untyped-def]
    _, data = register(client)
    new = "Mat-khau-moi-2026!"
    wrong = client.post("/tai-khoan/mat-khau/", {"old_password": "sai", "new_password1": new, "new_password2": new})
    assert wrong.status_code == 400
    response = client.post(
        "/tai-khoan/mat-khau/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response["Location"] == "/tai-khoan/"
    assert signed_in_as(client) is not None  # still signed in after the change
    client.post("/dang-xuat/")
    assert login(client, data["id_number"], PASSWORD).status_code == 200
    assert login(client, data["id_number"], new).status_code == 302


def test_the_menu_offers_sign_in_or_the_citizens_name(client, db):  # type: ignore[no-untyped-def]
    page = client.get("/").content.decode()
    assert 'href="/dang-nhap/"' in page and 'action="/dang-xuat/"' not in page
    register(client)
    page = client.get("/").content.decode()
    assert 'href="/tai-khoan/"' in page and "Huỳnh Văn Tâm" in page and 'action="/dang-xuat/"' in page
