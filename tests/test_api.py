import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from organizations.models import Agency
from procedures.models import Procedure

from .factories import ProcedureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def assert_error(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code and body["message"]
    return body


def test_procedure_list_searches_and_paginates(api):
    body = api.get("/api/v1/procedures/", {"q": "dang ky khai sinh"}).json()
    assert body["count"] >= 1
    first = body["results"][0]
    assert first["name"] == "Đăng ký khai sinh" and first["code"] == "1.001193"
    assert first["field"]["name"] and first["url"].endswith("/api/v1/procedures/1.001193/")
    page = api.get("/api/v1/procedures/", {"page_size": 10, "page": 2}).json()
    assert len(page["results"]) == 10 and page["previous"] and page["count"] == Procedure.objects.published().count()


def test_procedure_list_filters(api):
    stp = Agency.objects.get(key="stp")
    body = api.get("/api/v1/procedures/", {"agency": stp.identifier, "level": "province", "page_size": 100}).json()
    codes = {r["code"] for r in body["results"]}
    assert codes == set(Procedure.objects.filter(competences__agency=stp).values_list("code", flat=True))
    body = api.get("/api/v1/procedures/", {"online_level": "full", "page_size": 100}).json()
    assert body["count"] and {r["online_level"] for r in body["results"]} == {"full"}


def test_procedure_detail_has_every_component(api):
    procedure = Procedure.objects.get(code="1.001193")
    body = api.get("/api/v1/procedures/1.001193/").json()
    assert body["name"] == "Đăng ký khai sinh"
    assert [c["name"] for c in body["components"]] == list(
        procedure.components.order_by("order").values_list("name", flat=True)
    )
    assert len(body["competences"]) == 102
    assert body["legal_basis"] and body["steps"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"level": "district"}, 400, "invalid"),
        ({"online_level": "x"}, 400, "invalid"),
        ({"page": 999}, 404, "not_found"),
        ({"page": "abc"}, 404, "not_found"),
        ({"q": "x" * 500}, 400, "invalid"),
    ],
)
def test_bad_input_gets_a_clear_4xx(api, params, status, code):
    body = assert_error(api.get("/api/v1/procedures/", params), status, code)
    if status == 400:
        assert set(body["detail"]) & set(params)


def test_unknown_procedure_is_404(api):
    body = assert_error(api.get("/api/v1/procedures/0.000000/"), 404, "procedure_not_found")
    assert "0.000000" in body["message"]


def test_agency_list_and_filters(api):
    body = api.get("/api/v1/agencies/", {"level": "commune", "page_size": 100}).json()
    assert body["count"] == 102
    agency = body["results"][0]
    assert set(agency) >= {"identifier", "name", "level", "commune", "parent", "valid_from", "valid_until"}
    assert agency["parent"] == "000.00.00.H01" and agency["commune"]["code"]
    body = api.get("/api/v1/agencies/", {"commune": 31078}).json()
    assert [a["name"] for a in body["results"]] == ["Ủy ban nhân dân đặc khu Phú Quốc"]
    assert_error(api.get("/api/v1/agencies/", {"level": "district"}), 400, "invalid")
    assert_error(api.get("/api/v1/agencies/", {"commune": "abc"}), 400, "invalid")


def _count(fn) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_api_list_runs_a_constant_number_of_queries(api):
    def fetch():  # type: ignore[no-untyped-def]
        assert api.get("/api/v1/procedures/", {"page_size": 100, "q": "thu nghiem"}).status_code == 200

    ProcedureFactory.create_batch(3, name="Thủ tục thử nghiệm")
    few = _count(fetch)
    ProcedureFactory.create_batch(60, name="Thủ tục thử nghiệm")
    assert _count(fetch) == few <= 2


def test_agency_list_runs_a_constant_number_of_queries(api):
    assert _count(lambda: api.get("/api/v1/agencies/", {"page_size": 5})) == _count(
        lambda: api.get("/api/v1/agencies/", {"page_size": 100})
    )


def test_openapi_schema_and_docs_without_cdn(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/procedures/", "/api/v1/procedures/{code}/", "/api/v1/agencies/"} <= set(paths)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "unpkg" not in html
    for src in [s.split('"')[0] for s in html.split('src="')[1:]]:
        assert src.startswith("/"), src
