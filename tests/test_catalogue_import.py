"""Catalogue import from the national export: counts, idempotence, formats, bad rows, the outbox, command, admin."""

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from core.models import OutboxMessage
from organizations.models import Agency
from procedures import importing
from procedures.importing import Row, catalogue_import, read_json, read_xlsx
from procedures.models import CatalogueImport, Competence, Component, Fee, Procedure
from procedures.services import DATA_DIR
from procedures.tasks import catalogue_import as catalogue_import_task

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
SAMPLE = DATA_DIR / "national_export_sample.json"
# What the sample does to the demo catalogue (its _note says the same).
CREATED = ["1.999901", "1.999902"]
UPDATED = ["1.004884", "1.001612"]
CLOSED = ["1.005461"]
UNCHANGED = ["1.001193", "2.001610", "1.999903"]
COUNTS = (2, 2, 1, 3)


@pytest.fixture(autouse=True)
def english():  # type: ignore[no-untyped-def]
    # Messages are asserted in English, whatever the Vietnamese catalogue says.
    with translation.override("en"):
        yield


@pytest.fixture
def outbox():  # type: ignore[no-untyped-def]
    """The procedure messages written since the test began, as (code, key is p<pk>, operation)."""
    since = OutboxMessage.objects.aggregate(last=Max("id"))["last"] or 0

    def written() -> list[tuple[str, bool, str]]:
        messages = OutboxMessage.objects.filter(id__gt=since, topic=OutboxMessage.Topic.PROCEDURE).order_by("id")
        codes = dict(Procedure.objects.filter(pk__in=[m.ref for m in messages]).values_list("pk", "code"))
        return [(codes[m.ref], m.key == f"p{m.ref}", m.operation) for m in messages]

    return written


def sample_rows() -> list[Row]:
    with SAMPLE.open("rb") as file:
        return read_json(file)


def sample_row(code: str) -> dict:
    return next(row.data for row in sample_rows() if row.data["MaTTHC"] == code)


def counts(report: importing.ImportReport) -> tuple[int, int, int, int]:
    return report.created, report.updated, report.closed, report.unchanged


def state(codes: list[str]) -> dict[str, tuple]:
    """Everything the import may change about these procedures, by code (ids and timestamps left out)."""
    result = {}
    for procedure in Procedure.objects.filter(code__in=codes).select_related("field"):
        values = {
            f.attname: getattr(procedure, f.attname)
            for f in Procedure._meta.concrete_fields
            if f.attname not in {"id", "field_id", "created_at", "updated_at", "search_vector"}
        }
        result[procedure.code] = (
            values,
            (procedure.field.code, procedure.field.name),
            list(
                procedure.components.order_by("order").values_list(
                    "order", "name", "required", "originals", "copies", "form_name"
                )
            ),
            sorted(procedure.fees.values_list("name", "amount", "note")),
            sorted(procedure.competences.values_list("agency__key", "counters__code")),
        )
    return result


SHEET_COLUMNS = {
    "ThanhPhanHoSo": ["TenGiayTo", "BatBuoc", "SoBanChinh", "SoBanSao", "MauDon"],
    "PhiLePhi": ["TenPhi", "MucPhi", "GhiChu"],
    "CoQuanThucHien": ["MaDinhDanh", "Ten"],
}
MAIN_COLUMNS = [
    "MaTTHC",
    "TenTTHC",
    "CapThucHien",
    "MaLinhVuc",
    "TenLinhVuc",
    "ThoiHanGiaiQuyet",
    "DonViThoiGian",
    "MucDo",
    "TrangThai",
    "DoiTuong",
    "CanCuPhapLy",
    "TrinhTuThucHien",
    "KetQua",
    "BuuChinh",
]


def xlsx_of(rows: list[Row]) -> io.BytesIO:
    """The XLSX export equivalent to a JSON one: one row per procedure, the lists of records as sheets."""
    book = Workbook()
    main = book.active
    main.title = "TTHC"
    main.append(MAIN_COLUMNS)
    sheets = {}
    for name, columns in SHEET_COLUMNS.items():
        sheets[name] = book.create_sheet(name)
        sheets[name].append(["MaTTHC", *columns])
    for row in rows:
        data = row.data
        cells = {
            **data,
            "MaLinhVuc": data.get("LinhVuc", {}).get("Ma"),
            "TenLinhVuc": data.get("LinhVuc", {}).get("Ten"),
            "CanCuPhapLy": "\n".join(data.get("CanCuPhapLy", [])),
            "TrinhTuThucHien": "\n".join(data.get("TrinhTuThucHien", [])),
        }
        main.append([cells.get(column) for column in MAIN_COLUMNS])
        for name, columns in SHEET_COLUMNS.items():
            for item in data.get(name, []):
                record = {"Ten": item} if isinstance(item, str) else item
                sheets[name].append([data["MaTTHC"], *[record.get(column) for column in columns]])
    file = io.BytesIO()
    book.save(file)
    file.seek(0)
    return file


# ---- The import -------------------------------------------------------------------------------------------------


def test_json_import_creates_updates_and_closes_with_exact_counts():
    published = Procedure.objects.published().count()
    before = state(UPDATED + UNCHANGED)

    report = catalogue_import(rows=sample_rows())

    assert counts(report) == COUNTS and report.errors == []
    assert report.summary() == "created 2, updated 2, closed 1, unchanged 3, errors 0"
    # Absent from the export is not closed: only the abolished one left the published catalogue.
    assert Procedure.objects.published().count() == published + 2 - 1
    assert Procedure.objects.get(code="1.005461").status == Procedure.Status.CLOSED
    assert not Procedure.objects.filter(code="1.999903").exists()  # abolished, and we never had it
    assert state(UNCHANGED) == {code: before[code] for code in UNCHANGED if code in before}

    mobile = Procedure.objects.get(code="1.999901")
    assert (mobile.level, mobile.processing_time, mobile.time_unit, mobile.online_level) == (
        "commune",
        5,
        "days",
        "partial",
    )
    assert not mobile.code_is_illustrative and mobile.field.code == "ho_tich"
    assert mobile.step_lines[0].startswith("Bước 1:") and len(mobile.legal_basis_lines) == 2
    communes = Agency.objects.filter(level=Agency.Level.COMMUNE)
    assert mobile.competences.count() == communes.count() == 102
    # Each commune receives it at its own one-stop counter.
    assert all(c.counters.get().agency_id == c.agency_id for c in mobile.competences.prefetch_related("counters"))

    planning = Procedure.objects.get(code="1.999902")
    assert (planning.field.code, planning.field.name) == ("quy_hoach_kien_truc", "Quy hoạch - kiến trúc")
    assert planning.processing_time == Decimal("22.5") and planning.online_level == "full" and planning.postal_allowed
    assert list(planning.components.values_list("order", "required", "originals", "copies")) == [
        (1, True, 1, 0),
        (2, True, 1, 0),
        (3, False, 0, 1),
    ]
    assert list(planning.fees.values_list("amount", flat=True)) == [2_000_000]
    assert sorted(planning.competences.values_list("agency__key", "counters__agency__key", "counters__code")) == [
        ("sxd", "ttpvhcc", "sxd")
    ]

    # The shorter statutory time drops the province's target of 4 days, which no longer fits under it.
    rebirth = Procedure.objects.get(code="1.004884")
    assert (rebirth.processing_time, rebirth.target_time) == (3, None)
    assert before["1.004884"][0]["target_time"] == 4
    assert list(Procedure.objects.get(code="1.001612").fees.values_list("amount", flat=True)) == [50_000]


def test_each_created_updated_or_closed_procedure_has_exactly_one_outbox_message(outbox):
    catalogue_import(rows=sample_rows())
    expected = [(code, True, "add") for code in CREATED]
    expected += [(code, True, "update") for code in UPDATED] + [(code, True, "close") for code in CLOSED]
    assert sorted(outbox()) == sorted(expected)


def test_importing_the_same_export_again_changes_nothing_and_sends_nothing(outbox):
    catalogue_import(rows=sample_rows())
    written = outbox()
    codes = CREATED + UPDATED + CLOSED + UNCHANGED
    stamps = dict(Procedure.objects.values_list("code", "updated_at"))
    rows_of = (
        sorted(Component.objects.filter(procedure__code__in=codes).values_list("id", "name")),
        sorted(Fee.objects.filter(procedure__code__in=codes).values_list("id", "amount")),
        Competence.objects.count(),
    )
    before = state(codes)

    again = catalogue_import(rows=sample_rows())

    assert counts(again) == (0, 0, 0, 8) and again.errors == []
    assert outbox() == written
    assert dict(Procedure.objects.values_list("code", "updated_at")) == stamps
    assert (
        sorted(Component.objects.filter(procedure__code__in=codes).values_list("id", "name")),
        sorted(Fee.objects.filter(procedure__code__in=codes).values_list("id", "amount")),
        Competence.objects.count(),
    ) == rows_of
    assert state(codes) == before


def test_xlsx_export_gives_the_same_result_as_the_equivalent_json(outbox):
    codes = CREATED + UPDATED + CLOSED + UNCHANGED
    with transaction.atomic():
        from_json = catalogue_import(rows=sample_rows())
        json_state, json_messages = state(codes), sorted(outbox())
        transaction.set_rollback(True)
    assert Procedure.objects.filter(code__in=CREATED).count() == 0  # rolled back: the XLSX starts afresh

    rows = read_xlsx(xlsx_of(sample_rows()))
    assert [row.number for row in rows] == list(range(2, 10))  # spreadsheet rows, below the header
    from_xlsx = catalogue_import(rows=rows)

    assert (counts(from_xlsx), from_xlsx.errors) == (counts(from_json), from_json.errors) == (COUNTS, [])
    assert state(codes) == json_state
    assert sorted(outbox()) == json_messages and len(json_messages) == 5


def test_bad_rows_are_reported_by_number_and_field_and_change_nothing(outbox):
    before = state(UPDATED)
    rows = [
        Row(1, {key: value for key, value in sample_row("1.999901").items() if key != "MaTTHC"}),
        Row(2, {**sample_row("1.004884"), "DonViThoiGian": "Tuần", "TenTTHC": "Tên mới"}),
        Row(3, {**sample_row("1.001612"), "ThoiHanGiaiQuyet": "năm ngày"}),
        Row(4, sample_row("1.999902")),
        Row(5, {**sample_row("1.999902"), "TenTTHC": "Bản trùng"}),
        Row(
            6,
            {
                **sample_row("1.999901"),
                "MaTTHC": "1.999909",
                "PhiLePhi": [{"TenPhi": "Lệ phí", "MucPhi": "hai trăm"}],
                "CoQuanThucHien": ["Sở Không Tồn Tại"],
            },
        ),
    ]

    report = catalogue_import(rows=rows)

    assert counts(report) == (1, 0, 0, 0)
    problems = dict(report.errors)
    assert sorted(problems) == [1, 2, 3, 5, 6]
    assert problems[1] == "MaTTHC: is required."
    assert problems[2].startswith("DonViThoiGian: “Tuần” is not one of: Ngày làm việc,")
    assert problems[3] == "ThoiHanGiaiQuyet: “năm ngày” is not a number."
    assert problems[5] == "MaTTHC: “1.999902” is already in row 4."
    # Every problem of a row is named, not only the first.
    assert "PhiLePhi[1].MucPhi: “hai trăm” is not a whole number." in problems[6]
    assert "CoQuanThucHien[1]: no agency of the province is “Sở Không Tồn Tại”." in problems[6]
    assert report.error_lines()[0] == "row 1: MaTTHC: is required."

    assert state(UPDATED) == before
    assert not Procedure.objects.filter(code__in=["1.999901", "1.999909"]).exists()
    assert Procedure.objects.get(code="1.999902").name == sample_row("1.999902")["TenTTHC"]
    assert outbox() == [("1.999902", True, "add")]


def test_a_row_that_fails_while_saving_rolls_back_with_its_outbox_message(monkeypatch, outbox):
    """The procedure's change and its message share one transaction: neither stays without the other."""
    target = Procedure.objects.get(code="1.004884")
    write = importing.outbox_write

    def write_then_fail(**message):  # type: ignore[no-untyped-def]
        write(**message)
        if message["ref"] == target.pk:
            raise DatabaseError("the disk is full")

    monkeypatch.setattr(importing, "outbox_write", write_then_fail)
    report = catalogue_import(rows=sample_rows())

    assert counts(report) == (2, 1, 1, 3)
    assert report.errors == [(3, "1.004884 was not saved: the disk is full")]
    target.refresh_from_db()
    assert (target.processing_time, target.target_time) == (5, 4)
    assert sorted(outbox()) == sorted(
        [(code, True, "add") for code in CREATED] + [("1.001612", True, "update"), ("1.005461", True, "close")]
    )


def test_close_missing_closes_the_published_procedures_the_export_does_not_list(outbox):
    listed = {row.data["MaTTHC"] for row in sample_rows()}
    missing = set(Procedure.objects.published().exclude(code__in=listed).values_list("code", flat=True))
    assert len(missing) > 70

    report = catalogue_import(rows=sample_rows(), close_missing=True)

    assert counts(report) == (2, 2, 1 + len(missing), 3) and report.errors == []
    assert set(Procedure.objects.published().values_list("code", flat=True)) == set(CREATED + UPDATED + UNCHANGED[:2])
    assert sorted(code for code, _key, operation in outbox() if operation == "close") == sorted(missing | set(CLOSED))


def test_close_missing_closes_nothing_missing_when_a_row_has_no_code():
    rows = [*sample_rows(), Row(9, {"TenTTHC": "Thủ tục không mã"})]
    report = catalogue_import(rows=rows, close_missing=True)
    assert counts(report) == COUNTS
    assert (0, "Procedures missing from the export were not closed: row 9 has no MaTTHC.") in report.errors
    assert report.errors[0][0] == 9 and report.errors[0][1].startswith("MaTTHC: is required.; CapThucHien:")
    assert Procedure.objects.published().count() > 70


def test_readers_refuse_files_that_are_not_exports():
    with pytest.raises(importing.ValidationFailed, match="not valid JSON"):
        read_json(io.BytesIO(b"{MaTTHC: 1"))
    with pytest.raises(importing.ValidationFailed, match="must hold a list"):
        read_json(io.BytesIO(b'{"items": []}'))
    with pytest.raises(importing.ValidationFailed, match="not a readable XLSX"):
        read_xlsx(io.BytesIO(b"MaTTHC;TenTTHC"))
    rows = sample_rows()[:1]
    book = xlsx_of([Row(1, {**rows[0].data, "MaTTHC": "1.001193"})])
    assert [row.data["MaTTHC"] for row in read_xlsx(book)] == ["1.001193"]


# ---- The command -------------------------------------------------------------------------------------------------


def test_command_prints_the_counts_with_a_progress_bar():
    out, err = io.StringIO(), io.StringIO()
    call_command("catalogue_import", str(SAMPLE), stdout=out, stderr=err)
    assert out.getvalue() == "created 2, updated 2, closed 1, unchanged 3, errors 0\n"
    assert "8/8" in err.getvalue()  # the bar reached the end
    assert Procedure.objects.filter(code__in=CREATED).count() == 2


def test_command_exits_non_zero_and_names_the_rows_that_failed(tmp_path: Path):
    export = tmp_path / "export.json"
    bad = {**sample_row("1.999901"), "MaTTHC": "1.999908", "ThoiHanGiaiQuyet": "nhanh"}
    export.write_text(json.dumps({"data": [sample_row("1.999901"), bad]}, ensure_ascii=False), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 error") as failure:
        call_command("catalogue_import", str(export), stdout=out, stderr=err)

    assert failure.value.returncode == 1
    assert out.getvalue() == "created 1, updated 0, closed 0, unchanged 0, errors 1\n"
    assert "row 2: ThoiHanGiaiQuyet: “nhanh” is not a number." in err.getvalue()
    assert not Procedure.objects.filter(code="1.999908").exists()


def test_command_reads_xlsx_and_refuses_an_unknown_format(tmp_path: Path):
    export = tmp_path / "danh-muc.xlsx"
    export.write_bytes(xlsx_of(sample_rows()).getvalue())
    out = io.StringIO()
    call_command("catalogue_import", str(export), stdout=out, stderr=io.StringIO())
    assert out.getvalue() == "created 2, updated 2, closed 1, unchanged 3, errors 0\n"
    with pytest.raises(CommandError, match=r"neither in \.json nor in \.xlsx"):
        call_command("catalogue_import", str(tmp_path / "danh-muc.csv"), stderr=io.StringIO())


# ---- Uploads in the admin, run by the worker ---------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, django_user_model, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    user = django_user_model.objects.create_superuser("qt.catalogue", "qt@example.gov.vn", PASSWORD)
    client.force_login(user)
    client.user = user
    return client


def test_admin_upload_runs_the_import_and_the_list_shows_its_progress(
    superuser_client, settings, django_capture_on_commit_callbacks, outbox
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    upload = SimpleUploadedFile("national.json", SAMPLE.read_bytes(), content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = superuser_client.post(reverse("admin:procedures_catalogueimport_add"), {"file": upload})

    assert response.status_code == 302
    assert callbacks  # the task was enqueued after the commit, not before
    record = CatalogueImport.objects.get()
    assert (record.state, record.format, record.created_by) == ("done", "json", superuser_client.user)
    assert (record.total, record.done, record.created, record.updated, record.closed, record.unchanged) == (
        8,
        8,
        *COUNTS,
    )
    assert record.errors == [] and record.started_at <= record.finished_at
    assert len(outbox()) == 5

    page = superuser_client.get(reverse("admin:procedures_catalogueimport_changelist")).content.decode()
    assert '<progress value="8" max="8">' in page
    assert 'http-equiv="refresh"' not in page  # nothing is running
    detail = superuser_client.get(reverse("admin:procedures_catalogueimport_change", args=[record.pk]))
    assert detail.status_code == 200 and '<progress value="8" max="8">' in detail.content.decode()
    assert 'name="file"' not in detail.content.decode()  # the results are read-only


def test_admin_list_of_a_running_import_shows_how_far_it_is_and_reloads(
    superuser_client, django_assert_max_num_queries
):
    CatalogueImport.objects.create(
        file=SimpleUploadedFile("a.json", b"[]"), format="json", state="running", total=120, done=40, created=3
    )
    url = reverse("admin:procedures_catalogueimport_changelist")
    with CaptureQueriesContext(connection) as one:
        page = superuser_client.get(url).content.decode()
    assert '<progress value="40" max="120">' in page and 'http-equiv="refresh"' in page

    for _ in range(5):
        CatalogueImport.objects.create(file=SimpleUploadedFile("b.json", b"[]"), format="json", state="done")
    with django_assert_max_num_queries(len(one.captured_queries)):
        superuser_client.get(url)


def test_admin_refuses_a_file_of_unknown_format(superuser_client):
    upload = SimpleUploadedFile("danh-muc.csv", b"MaTTHC;TenTTHC")
    response = superuser_client.post(reverse("admin:procedures_catalogueimport_add"), {"file": upload})
    assert response.status_code == 200 and not CatalogueImport.objects.exists()
    assert "danh-muc.csv" in response.content.decode()


def test_worker_writes_progress_while_it_runs(superuser_client, monkeypatch):
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 3)
    seen = []
    record_progress = importing._record_progress

    def spy(import_id: int, done: int, total: int) -> None:
        record_progress(import_id, done, total)
        seen.append(CatalogueImport.objects.values_list("state", "done", "total").get(pk=import_id))

    monkeypatch.setattr(importing, "_record_progress", spy)
    record = CatalogueImport.objects.create(file=SimpleUploadedFile("n.json", SAMPLE.read_bytes()), format="json")
    catalogue_import_task(record.pk)
    assert sorted(set(seen)) == [("running", 0, 8), ("running", 3, 8), ("running", 6, 8), ("running", 8, 8)]


def test_worker_task_is_idempotent_and_reports_an_unreadable_file(superuser_client, outbox):
    record = CatalogueImport.objects.create(file=SimpleUploadedFile("n.json", SAMPLE.read_bytes()), format="json")
    assert catalogue_import_task(record.pk) == "done"
    finished = CatalogueImport.objects.values_list("finished_at", "created", "updated").get(pk=record.pk)
    written = outbox()
    assert catalogue_import_task(record.pk) == "done"  # delivered twice: the second run does nothing
    assert CatalogueImport.objects.values_list("finished_at", "created", "updated").get(pk=record.pk) == finished
    assert outbox() == written and len(written) == 5

    broken = CatalogueImport.objects.create(file=SimpleUploadedFile("x.json", b"{oops"), format="json")
    assert catalogue_import_task(broken.pk) == "failed"
    broken.refresh_from_db()
    assert broken.errors[0][0] == 0 and broken.errors[0][1].startswith("The file is not valid JSON")
    assert broken.finished_at is not None
