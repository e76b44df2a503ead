"""The WSGI entry point answers the public lookup itself; its answers must equal the DRF view's."""

import datetime as dt
import io
import json
import sys

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from config.wsgi import application
from dossiers.selectors import dossier_public_view
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


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_the_page_is_served_from_its_cached_copy_and_forgotten_when_the_dossier_changes():
    from dossiers.models import Status
    from dossiers.services import event_record

    clerk = officer()
    dossier = dossier_receive(officer=clerk, intake=intake())
    first_status, _headers, first = call(f"/tra-cuu/{dossier.code}/")  # rendered by Django, then cached
    assert first_status == "200 OK" and "Nguyễn Thị Hồng Nhung" in first.decode()
    assert cache.get(f"lookup-page:vi:{dossier.code}") == first
    status, headers, second = call(f"/tra-cuu/{dossier.code}/")  # from the cache
    assert status == "200 OK" and second == first
    assert headers["X-Frame-Options"] == "DENY" and headers["Content-Language"] == "vi"
    # English is cached separately.
    english = call(f"/tra-cuu/{dossier.code}/", cookie="django_language=en")[2].decode()
    assert 'lang="en"' in english

    dossier.status = Status.IN_PROCESS
    dossier.save(update_fields=["status"])
    event_record(dossier=dossier, action="process", actor=clerk, status_from=Status.ACCEPTED)
    assert cache.get(f"lookup-page:vi:{dossier.code}") is None
    assert cache.get(f"lookup-page:en:{dossier.code}") is None


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_signed_in_visitors_are_never_served_a_cached_page():
    dossier = dossier_receive(officer=officer(), intake=intake())
    call(f"/tra-cuu/{dossier.code}/")
    cache.set(f"lookup-page:vi:{dossier.code}", b"cached copy")
    assert call(f"/tra-cuu/{dossier.code}/")[2] == b"cached copy"
    personal = call(f"/tra-cuu/{dossier.code}/", cookie="sessionid=abc; messages=xyz")[2]
    assert personal != b"cached copy" and dossier.code in personal.decode()


@override_settings(ALLOWED_HOSTS=["testserver"], LOOKUP_RATE_PER_MINUTE=3)
def test_the_page_counts_each_request_once_and_answers_429():
    dossier = dossier_receive(officer=officer(), intake=intake())
    statuses = [call(f"/tra-cuu/{dossier.code}/")[0] for _ in range(3)]  # a miss then two hits
    assert statuses == ["200 OK"] * 3
    status, headers, body = call(f"/tra-cuu/{dossier.code}/")
    assert status.startswith("429") and int(headers["Retry-After"]) >= 1
    assert "Có quá nhiều lượt tra cứu" in body.decode()


@override_settings(ALLOWED_HOSTS=["testserver", "other.test"])
def test_the_api_answers_from_the_database_so_a_change_shows_at_once():
    from dossiers.models import Dossier

    dossier = dossier_receive(officer=officer(), intake=intake())
    reference = APIClient(REMOTE_ADDR="127.0.0.8").get(f"/api/v1/lookup/{dossier.code}/").json()
    assert json.loads(call(f"/api/v1/lookup/{dossier.code}/")[2]) == reference
    # The QR address follows the host asked.
    other = json.loads(call(f"/api/v1/lookup/{dossier.code}/", host="other.test")[2])
    assert other["qr"] == reference["qr"].replace("testserver", "other.test")
    assert {k: v for k, v in other.items() if k != "qr"} == {k: v for k, v in reference.items() if k != "qr"}

    # Nothing is kept between requests: a new appointment is what the next request shows.
    Dossier.objects.filter(pk=dossier.pk).update(appointment_at=dossier.appointment_at + dt.timedelta(days=3))
    after = json.loads(call(f"/api/v1/lookup/{dossier.code}/")[2])
    assert after["appointment_at"] != reference["appointment_at"]
    assert after == APIClient(REMOTE_ADDR="127.0.0.8").get(f"/api/v1/lookup/{dossier.code}/").json()


def test_the_lookup_query_is_a_prepared_statement():
    """Django turns psycopg's prepared statements off; the lookup asks for one (config/settings.py), so that
    PostgreSQL plans it once per connection instead of once per request."""
    dossier = dossier_receive(officer=officer(), intake=intake())
    assert dossier_public_view(code=dossier.code).code == dossier.code
    dossier_public_view(code=dossier.code)  # the same statement again, not a second one
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert len(statements) == 1 and "public_departments" in statements[0]


@override_settings(ALLOWED_HOSTS=["testserver"], LOOKUP_RATE_PER_MINUTE=4)
def test_the_page_and_the_api_fast_paths_spend_one_budget():
    """The page counts with ``hit_and_get`` (the cache's Redis client), the API with ``hit`` (the rate limit's own):
    both under the same key, so switching between them gives no extra lookups."""
    dossier = dossier_receive(officer=officer(), intake=intake())
    statuses = [call(f"/api/v1/lookup/{dossier.code}/")[0] for _ in range(2)]
    statuses += [call(f"/tra-cuu/{dossier.code}/")[0] for _ in range(2)]
    assert statuses == ["200 OK"] * 4
    assert call(f"/api/v1/lookup/{dossier.code}/")[0].startswith("429")
    assert call(f"/tra-cuu/{dossier.code}/")[0].startswith("429")
