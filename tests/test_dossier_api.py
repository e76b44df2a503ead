import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from dossiers.models import Dossier, Event
from organizations.models import Agency
from procedures.models import Procedure

from .conftest import PASSWORD
from .dossier_helpers import ID_NUMBER, officer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


def token_client(username: str) -> APIClient:
    api = APIClient()
    response = api.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return api


def payload(**changes):  # type: ignore[no-untyped-def]
    procedure = Procedure.objects.get(code="1.001193")
    body = {
        "procedure": procedure.code,
        "agency": Agency.objects.get(key="ubnd_30307").identifier,
        "applicant": {"name": "Lê Văn Thành", "id_number": ID_NUMBER, "birth_date": "1995-03-14", "commune": 30307},
        "components": [{"component": c.pk} for c in procedure.components.all()],
    }
    body.update(changes)
    return body


def test_officer_receives_reads_and_prints_through_the_api():
    officer()
    api = token_client("motcua.test")
    created = api.post("/api/v1/dossiers/", payload(), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == 2 and body["code"].startswith("000.") and body["appointment_at"]
    code = body["code"]
    assert api.get(f"/api/v1/dossiers/{code}/").json()["applicant_name"] == "Lê Văn Thành"
    pdf = api.get(f"/api/v1/dossiers/{code}/receipt.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]).startswith(b"%PDF-")


def test_bad_intake_is_structured_json_and_changes_nothing():
    officer()
    api = token_client("motcua.test")
    before = (Dossier.objects.count(), Event.objects.count())
    bad = api.post("/api/v1/dossiers/", payload(applicant={"name": "A", "id_number": "123"}), format="json")
    assert bad.status_code == 400
    body = bad.json()
    assert set(body) == {"code", "message", "detail"} and "applicant_id_number" in body["detail"]
    missing = api.post("/api/v1/dossiers/", payload(components=[]), format="json")
    assert missing.status_code == 400 and any(k.startswith("component_") for k in missing.json()["detail"])
    assert (Dossier.objects.count(), Event.objects.count()) == before


def test_officers_of_other_agencies_get_404():
    officer()
    code = token_client("motcua.test").post("/api/v1/dossiers/", payload(), format="json").json()["code"]
    officer(agency_key="ubnd_31078", username="motcua.phuquoc")
    other = token_client("motcua.phuquoc")
    assert other.get(f"/api/v1/dossiers/{code}/").status_code == 404
    assert other.get(f"/api/v1/dossiers/{code}/receipt.pdf").status_code == 404


def test_the_receiving_counter_sees_a_cross_boundary_dossier():
    officer()
    api = token_client("motcua.test")
    code = api.post(
        "/api/v1/dossiers/", payload(agency=Agency.objects.get(key="ubnd_31078").identifier), format="json"
    ).json()["code"]
    assert api.get(f"/api/v1/dossiers/{code}/").status_code == 200
    officer(agency_key="ubnd_31078", username="motcua.phuquoc")
    assert token_client("motcua.phuquoc").get(f"/api/v1/dossiers/{code}/").status_code == 200


def test_anonymous_and_wrong_password():
    assert APIClient().post("/api/v1/dossiers/", payload(), format="json").status_code == 401
    bad = APIClient().post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_schema_lists_the_dossier_endpoints(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert {
        "/api/v1/auth/token/",
        "/api/v1/dossiers/",
        "/api/v1/dossiers/{code}/",
        "/api/v1/dossiers/{code}/receipt.pdf",
        "/api/v1/lookup/{code}/",
        "/api/v1/calendar/due-date/",
    } <= set(paths)
