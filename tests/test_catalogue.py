import json
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import NotFound
from core.text import fold
from organizations.models import Agency
from organizations.services import LoadReport
from procedures.models import Competence, Component, Procedure
from procedures.selectors import procedure_get, procedure_search
from procedures.services import DATA_DIR, catalogue_load

from .factories import ProcedureFactory

pytestmark = pytest.mark.django_db
BIRTH = "Đăng ký khai sinh"


def test_fold_matches_postgres_unaccent():
    samples = ["Đăng ký KHAI SINH", "Chứng thực bản sao", "Giấy phép xây dựng", "Ủy ban nhân dân đặc khu Phú Quốc"]
    with connection.cursor() as cur:
        for text in samples:
            cur.execute("SELECT unaccent(lower(%s))", [text])
            assert cur.fetchone()[0] == fold(text)


def test_demo_catalogue_is_large_and_complete():
    data = json.loads((DATA_DIR / "procedures.json").read_text(encoding="utf-8"))
    assert len(data) >= 60
    procedures = Procedure.objects.published()
    assert procedures.count() == len(data)
    levels = Counter(procedures.values_list("level", flat=True))
    assert levels["commune"] >= 25 and levels["province"] >= 25
    assert not Procedure.objects.filter(components__isnull=True).exists()
    assert not Procedure.objects.filter(competences__isnull=True).exists()
    assert Procedure.objects.filter(target_time__isnull=False).exists()
    assert Procedure.objects.filter(time_unit="hours").exists()
    assert Procedure.objects.filter(after_15h_rule=True).exists()


def test_commune_procedures_are_competent_in_every_commune_with_its_own_counter():
    birth = Procedure.objects.get(name=BIRTH)
    competences = Competence.objects.filter(procedure=birth).select_related("agency")
    assert competences.count() == 102
    for competence in competences.prefetch_related("counters"):
        assert [c.agency_id for c in competence.counters.all()] == [competence.agency_id]


def test_provincial_procedures_are_received_at_the_service_centre():
    competence = Competence.objects.filter(agency__level=Agency.Level.PROVINCE).exclude(agency__key="ubnd_tinh").first()
    assert competence is not None
    assert {c.agency.key for c in competence.counters.all()} == {"ttpvhcc"}


@pytest.mark.parametrize("query", ["khai sinh", "KHAI SINH", "dang ky khai sinh", "Đăng ký khai sinh", "dăng KÝ khai"])
def test_search_ignores_case_and_diacritics_and_ranks_the_exact_procedure_first(query):
    results = list(procedure_search(q=query)[:5])
    assert results and results[0].name == BIRTH
    assert results[0].rank >= results[-1].rank


def test_search_by_code_and_by_prefix():
    assert procedure_search(q="1.001193").first().name == BIRTH
    assert BIRTH in [p.name for p in procedure_search(q="khai si")]


def test_search_excludes_closed_procedures_and_filters():
    ProcedureFactory(name="Đăng ký khai sinh cho công dân thử", closed=True)
    assert "Đăng ký khai sinh cho công dân thử" not in [p.name for p in procedure_search(q="khai sinh")]
    province = procedure_search(level="province")
    assert province.exists() and not province.exclude(level="province").exists()
    full = procedure_search(online_level="full")
    assert full.exists() and not full.exclude(online_level="full").exists()
    stp = Agency.objects.get(key="stp")
    by_agency = procedure_search(agency=stp.identifier)
    assert by_agency.exists()
    assert set(by_agency.values_list("competences__agency", flat=True)) == {stp.pk}
    field = Procedure.objects.get(name=BIRTH).field
    assert set(procedure_search(field=field.code).values_list("field", flat=True)) == {field.pk}


def test_search_vector_follows_renames_through_the_trigger():
    procedure = ProcedureFactory(name="Thủ tục cũ")
    procedure.name = "Cấp giấy phép nuôi chim yến"
    procedure.save()
    assert procedure_search(q="chim yen").first() == procedure
    procedure.field.name = "Lĩnh vực Yến sào"
    procedure.field.save()
    assert procedure_search(q="yen sao").first() == procedure


def test_procedure_get_unknown_code():
    with pytest.raises(NotFound):
        procedure_get(code="0.000000")


def test_catalogue_load_twice_adds_nothing():
    counts = (Procedure.objects.count(), Component.objects.count(), Competence.objects.count())
    report = LoadReport()
    catalogue_load(report=report, render_templates=False)
    assert set(report.created.values()) == {0}
    assert (Procedure.objects.count(), Component.objects.count(), Competence.objects.count()) == counts


def test_seed_demo_command_is_idempotent(call):
    call("seed_demo", "--no-templates", "--password=Mat-khau-demo-2025")
    counts = [Agency.objects.count(), Procedure.objects.count(), Component.objects.count()]
    out = call("seed_demo", "--no-templates", "--password=Mat-khau-demo-2025")
    assert "Demo data ready (11 demo accounts)" in out
    assert [Agency.objects.count(), Procedure.objects.count(), Component.objects.count()] == counts
    assert all(line.endswith(": 0 new") for line in out.splitlines() if "new" in line)


def test_form_templates_render_as_pdf():
    from procedures.services import component_template_render

    component = Component.objects.exclude(form_name="").select_related("procedure").first()
    component_template_render(component=component)
    component.refresh_from_db()
    with component.template.open("rb") as fh:
        assert fh.read(5) == b"%PDF-"
    component.template.delete()


def _queries(fn) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_search_selector_query_count_does_not_grow():
    def run():  # type: ignore[no-untyped-def]
        return [(p.name, p.field.name) for p in procedure_search(q="thu nghiem")[:50]]

    ProcedureFactory.create_batch(5, name="Thủ tục thử nghiệm")
    small = _queries(run)
    ProcedureFactory.create_batch(40, name="Thủ tục thử nghiệm")
    assert _queries(run) == small == 1
