import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procedures.models import Component

from .factories import ProcedureFactory

pytestmark = pytest.mark.django_db


def test_home_in_vietnamese(client):
    html = client.get("/").content.decode()
    assert "Tìm thủ tục hành chính" in html
    assert 'lang="vi"' in html


def test_language_switch_to_english(client):
    response = client.get("/ngon-ngu/en/", {"next": "/thu-tuc/"})
    assert response.status_code == 302 and response.url == "/thu-tuc/"
    assert client.get("/ngon-ngu/en/", {"next": "https://evil.example/"}).url == "/"
    assert client.get("/ngon-ngu/xx/").status_code == 404
    html = client.get("/thu-tuc/").content.decode()
    assert 'lang="en"' in html and "Administrative procedures" in html


def test_catalogue_search_without_diacritics(client):
    html = client.get("/thu-tuc/", {"q": "dang ky khai sinh"}).content.decode()
    first = html.index('class="procedure-name"')
    assert "Đăng ký khai sinh<" in html[first : first + 200]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"level": "district"}, 400, "Hãy chọn một lựa chọn hợp lệ"),
        ({"agency": "999.99.99.H01"}, 400, "Hãy chọn một lựa chọn hợp lệ"),
        ({"page": "999"}, 404, "Không có trang 999"),
        ({"page": "abc"}, 404, "Số trang phải là số nguyên"),
    ],
)
def test_catalogue_bad_input_is_a_clear_4xx(client, params, status, message, settings):
    settings.DEBUG = False
    response = client.get("/thu-tuc/", params)
    assert response.status_code == status
    assert message in response.content.decode()


def test_procedure_page_lists_every_component_and_a_qr_code(client):
    html = client.get("/thu-tuc/1.001193/").content.decode()
    assert "<h1>Đăng ký khai sinh</h1>" in html
    for component in Component.objects.filter(procedure__code="1.001193"):
        assert component.name in html
    assert "<svg" in html and "http://testserver/thu-tuc/1.001193/" in html
    assert "102" in html  # every commune-level UBND is competent


def test_unknown_procedure_page_is_404_in_vietnamese(client, settings):
    settings.DEBUG = False
    response = client.get("/thu-tuc/0.000000/")
    assert response.status_code == 404
    assert "Không có thủ tục nào có mã “0.000000”" in response.content.decode()


def test_catalogue_page_runs_a_constant_number_of_queries(client):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/thu-tuc/", {"q": "thu nghiem"}).status_code == 200
        return len(ctx.captured_queries)

    ProcedureFactory.create_batch(2, name="Thủ tục thử nghiệm")
    few = count()
    ProcedureFactory.create_batch(30, name="Thủ tục thử nghiệm")
    assert count() == few


def test_pages_use_no_external_assets(client):
    for url in ["/", "/thu-tuc/", "/thu-tuc/1.001193/"]:
        html = client.get(url).content.decode()
        for attr in ('src="', 'href="'):
            for value in [s.split('"')[0] for s in html.split(attr)[1:]]:
                assert not value.startswith(("http://", "https://", "//")) or value.startswith("http://testserver"), (
                    value
                )


def test_admin_in_vietnamese_with_search_and_filters(client, province_admin):
    client.force_login(province_admin.user)
    html = client.get("/quan-tri/procedures/procedure/", {"q": "khai sinh"}).content.decode()
    assert "Đăng ký khai sinh" in html and "Bộ lọc" in html
    html = client.get("/quan-tri/organizations/agency/", {"level__exact": "commune"}).content.decode()
    assert "102 cơ quan" in html


def test_agency_admin_sees_only_own_agency(client, commune_agency):
    from organizations.services import staff_create

    from .conftest import PASSWORD

    admin = staff_create(
        username="qt.lx", password=PASSWORD, agency_identifier=commune_agency.identifier, role="agency_admin"
    )
    client.force_login(admin.user)
    html = client.get("/quan-tri/organizations/department/").content.decode()
    assert "Phòng Văn hóa - Xã hội" in html and "Sở Tư pháp" not in html


def test_vietnamese_first_whatever_the_browser_language(client):
    html = client.get("/thu-tuc/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="vi"' in html and "Thủ tục hành chính" in html
