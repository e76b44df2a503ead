"""The WSGI entry point answers the public lookup itself; its answers must equal the DRF view's."""

import io
import json
import sys

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from config.wsgi import application
from dossiers.services import dossier_receive

from .dossier_helpers import intake, officer

pytestmark = pytest.mark.django_db(transaction=True)


def call(path: str, *, method: str = "GET", host: str = "testserver", cookie: str = "") -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "HTTP_COOKIE": cookie,
        "REMOTE_ADDR": "127.0.0.9",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    seen = {}

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture(autouse=True)
def fresh_rate_limits(reseeded):  # type: ignore[no-untyped-def]
    cache.clear()


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_the_fast_path_answers_exactly_like_the_view():
    dossier = dossier_receive(officer=officer(), intake=intake())
    status, headers, body = call(f"/api/v1/lookup/{dossier.code}/")
    assert status == "200 OK"
    assert headers["Content-Type"] == "application/json" and headers["X-Content-Type-Options"] == "nosniff"
    reference = APIClient(REMOTE_ADDR="127.0.0.8").get(f"/api/v1/lookup/{dossier.code}/")
    assert json.loads(body) == reference.json()

    status, _headers, body = call("/api/v1/lookup/000.01.51.H01-261120-9999/")
    missing = APIClient(REMOTE_ADDR="127.0.0.8").get("/api/v1/lookup/000.01.51.H01-261120-9999/")
    assert status.startswith("404") and json.loads(body) == missing.json()
    assert json.loads(body)["message"] == "Không có hồ sơ nào có mã “000.01.51.H01-261120-9999”."
    status, _headers, body = call("/api/v1/lookup/000.01.51.H01-261120-9999/", cookie="django_language=en")
    assert json.loads(body)["message"] == "No dossier has the code “000.01.51.H01-261120-9999”."


@override_settings(ALLOWED_HOSTS=["testserver"], LOOKUP_RATE_PER_MINUTE=2)
def test_the_fast_path_keeps_the_rate_limit():
    dossier = dossier_receive(officer=officer(), intake=intake())
    assert [call(f"/api/v1/lookup/{dossier.code}/")[0] for _ in range(2)] == ["200 OK", "200 OK"]
    status, headers, body = call(f"/api/v1/lookup/{dossier.code}/")
    assert status.startswith("429") and int(headers["Retry-After"]) >= 1
    assert json.loads(body)["code"] == "throttled"


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_anything_unusual_goes_to_django():
    assert call("/api/v1/lookup/x/", host="evil.example")[0].startswith("400")  # host outside ALLOWED_HOSTS
    assert call("/api/v1/lookup/x/", method="POST")[0].startswith("405")
    assert call("/api/v1/agencies/")[0] == "200 OK"
