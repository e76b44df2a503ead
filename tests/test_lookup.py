import datetime as dt

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from dossiers.models import Channel, Dossier, Status
from dossiers.services import dossier_receive

from .dossier_helpers import intake, officer

pytestmark = pytest.mark.django_db
PUBLIC_FIELDS = {"code", "qr", "valid", "receiving_agency", "handling_departments", "applicant_name", "received_at",
                 "appointment_at"}  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def dossier():
    return dossier_receive(officer=officer(), intake=intake(organisation_name=""))


def test_api_shows_exactly_the_public_fields(dossier):
    body = APIClient().get(f"/api/v1/lookup/{dossier.code}/").json()
    assert set(body) == PUBLIC_FIELDS
    assert body["applicant_name"] == "Nguyễn Thị Hồng Nhung"
    assert body["receiving_agency"] == "Ủy ban nhân dân phường Long Xuyên"
    assert body["handling_departments"] == ["Văn phòng Hội đồng nhân dân và Ủy ban nhân dân"]
    assert body["qr"].endswith(f"/tra-cuu/{dossier.code}/qr.svg")
    text = str(body)
    for secret in ("089195000123", "0912345678", "Trần Hưng Đạo"):
        assert secret not in text


def test_an_organisation_name_is_public(dossier):
    Dossier.objects.filter(pk=dossier.pk).update(organisation_name="Công ty TNHH Mekong")
    assert APIClient().get(f"/api/v1/lookup/{dossier.code}/").json()["organisation_name"] == "Công ty TNHH Mekong"


def test_online_dossier_not_yet_accepted_shows_less(dossier):
    Dossier.objects.filter(pk=dossier.pk).update(status=Status.SUBMITTED, channel=Channel.ONLINE)
    body = APIClient().get(f"/api/v1/lookup/{dossier.code}/").json()
    assert set(body) == {"code", "qr", "valid", "receiving_agency", "applicant_name", "received_at"}
    assert body["valid"] is False


def test_page_and_qr_target(client, dossier):
    html = client.get(f"/tra-cuu/{dossier.code}/").content.decode()
    assert dossier.code in html and "Nguyễn Thị Hồng Nhung" in html
    assert f'src="/tra-cuu/{dossier.code}/qr.svg"' in html
    assert "089195000123" not in html and "0912345678" not in html
    assert client.get("/tra-cuu/", {"code": dossier.code.lower()}).url == f"/tra-cuu/{dossier.code}/"
    svg = client.get(f"/tra-cuu/{dossier.code}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert "immutable" in svg["Cache-Control"]


@pytest.mark.parametrize("code", ["000.01.51.H01-261120-9999", "not-a-code", "x" * 80])
def test_unknown_or_malformed_code_is_a_clear_404(client, code):
    response = client.get(f"/tra-cuu/{code}/")
    assert response.status_code == 404
    assert "mã" in response.content.decode()
    body = APIClient().get(f"/api/v1/lookup/{code}/")
    assert body.status_code == 404
    assert body.json()["code"] in {"dossier_not_found", "malformed_code"}


def test_refused_dossiers_cannot_be_looked_up(client):
    from dossiers.services import dossier_refuse_at_intake

    refused = dossier_refuse_at_intake(officer=officer(), intake=intake(), reasons="Thiếu giấy tờ")
    assert refused.code is None


@override_settings(LOOKUP_RATE_PER_MINUTE=5)
def test_heavy_use_gets_429_with_retry_after_on_page_and_api(client, dossier):
    api = APIClient()
    statuses = [api.get(f"/api/v1/lookup/{dossier.code}/").status_code for _ in range(3)]
    statuses += [client.get(f"/tra-cuu/{dossier.code}/").status_code for _ in range(2)]
    assert statuses == [200] * 5
    page = client.get("/tra-cuu/000.01.51.H01-261120-9999/")
    assert page.status_code == 429 and 1 <= int(page["Retry-After"]) <= 60
    limited = api.get(f"/api/v1/lookup/{dossier.code}/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["code"] == "throttled"
    other = APIClient(REMOTE_ADDR="10.1.2.3").get(f"/api/v1/lookup/{dossier.code}/")
    assert other.status_code == 200  # the budget is per client


def test_lookup_received_at_is_the_receipt_time(dossier):
    body = APIClient().get(f"/api/v1/lookup/{dossier.code}/").json()
    received = dt.datetime.fromisoformat(body["received_at"])
    assert received == dossier.received_at
