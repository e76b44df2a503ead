"""Inbound updates from ministries' systems: signature, replay, idempotency, validation, and what the province sees."""

import datetime as dt
import json
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import OutboxMessage
from dossiers.models import Dossier, Event, Status
from dossiers.selectors import public_page_cache_key
from dossiers.services import dossier_receive
from organizations.models import Agency
from procedures.models import Procedure
from sync.inbound import sign
from sync.models import InboundReceipt, InboundSystem

from .dossier_helpers import intake, officer

pytestmark = pytest.mark.django_db

URL = "/api/v1/inbound/dossiers/"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = dt.datetime(2026, 1, 6, 9, 0, tzinfo=VN)
SECRET = "test-secret-of-the-ministry-of-public-security"


@pytest.fixture(autouse=True)
def frozen():
    cache.clear()  # rate limits and cached lookup copies of other tests
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def agency() -> Agency:
    return Agency.objects.get(key="ubnd_30307")  # Phường Long Xuyên


@pytest.fixture
def procedure() -> Procedure:
    return Procedure.objects.get(code="1.001193")


@pytest.fixture
def system() -> InboundSystem:
    return InboundSystem.objects.create(code="bo-cong-an", name="Bộ Công an", key_id="bca-key", secret=SECRET)


def payload(agency: Agency, **changes: Any) -> dict[str, Any]:
    body = {
        "MaHoSo": f"{agency.identifier}-260105-BCA0001",
        "MaTTHC": "1.001193",
        "ChuHoSo": "Trần Văn Bình",
        "NgayTiepNhan": "20260105083000",
        "NgayHenTra": "20260112170000",
        "TrangThaiHoSo": 4,
        "DonViXuLy": "",
        "QuaTrinhXuLy": [
            {
                "NguoiXuLy": "Lê Thị Hoa",
                "ChucDanh": "Cán bộ một cửa",
                "ThoiDiemXuLy": "20260105083000",
                "PhongBanXuLy": "Bộ phận một cửa Công an phường",
                "NoiDungXuLy": "Tiếp nhận hồ sơ",
                "TrangThai": 2,
            },
            {
                "NguoiXuLy": "Phạm Văn Tâm",
                "ChucDanh": "Cán bộ thụ lý",
                "ThoiDiemXuLy": "20260105140000",
                "PhongBanXuLy": "Đội Quản lý hành chính",
                "NoiDungXuLy": "Chuyển xử lý",
                "TrangThai": 4,
            },
        ],
        "KetQua": [],
    }
    body.update(changes)
    return body


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def push(
    body: bytes,
    *,
    key_id: str = "bca-key",
    secret: str = SECRET,
    timestamp: int | str | None = None,
    idempotency_key: str | None = None,
    signature: str | None = None,
    client: Client | None = None,
):  # type: ignore[no-untyped-def]
    timestamp = int(NOW.timestamp()) if timestamp is None else timestamp
    headers = {
        "X-Api-Key": key_id,
        "X-Timestamp": str(timestamp),
        "X-Signature": signature or sign(secret, timestamp, body),
    }
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return (client or Client()).post(URL, data=body, content_type="application/json", headers=headers)


def assert_error(response, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["message"]
    assert body["code"] == code, body
    return body


def written() -> tuple[int, int, int, int]:
    return Dossier.objects.count(), Event.objects.count(), InboundReceipt.objects.count(), OutboxMessage.objects.count()


def test_a_signed_push_creates_the_dossier_with_its_history(system, agency, procedure):
    outbox = OutboxMessage.objects.count()
    # A client that enforces CSRF, as a browser would: the endpoint needs no session and no CSRF token.
    response = push(raw(payload(agency)), idempotency_key="bca-1", client=Client(enforce_csrf_checks=True))

    assert response.status_code == 200, response.content
    code = f"{agency.identifier}-260105-BCA0001"
    assert response.json() == {"ma_ho_so": code, "created": True, "events_added": 2}
    dossier = Dossier.objects.get(code=code)
    assert dossier.source_system == "bo-cong-an"
    assert (dossier.procedure, dossier.agency, dossier.status) == (procedure, agency, Status.IN_PROCESS)
    assert dossier.applicant_name == "Trần Văn Bình"
    assert dossier.received_at == dt.datetime(2026, 1, 5, 8, 30, tzinfo=VN)
    assert dossier.appointment_at == dt.datetime(2026, 1, 12, 17, 0, tzinfo=VN)
    assert (dossier.processing_time, dossier.time_unit) == (procedure.processing_time, procedure.time_unit)
    assert dossier.public_receiving_agency == agency.name
    assert dossier.public_departments == ["Bộ phận một cửa Công an phường", "Đội Quản lý hành chính"]
    assert dossier.current_step == "Đội Quản lý hành chính"
    history = list(
        dossier.events.order_by("at").values_list("action", "at", "status_from", "status_to", "note", "actor")
    )
    assert history == [
        ("external_progress", dt.datetime(2026, 1, 5, 8, 30, tzinfo=VN), None, 2, "Tiếp nhận hồ sơ", None),
        ("external_progress", dt.datetime(2026, 1, 5, 14, 0, tzinfo=VN), 2, 4, "Chuyển xử lý", None),
    ]
    # Who acted on the ministry's system, without an account here: kept on the event as its name and unit.
    assert list(dossier.events.order_by("at").values_list("actor_name", "unit_name")) == [
        ("Lê Thị Hoa, Cán bộ một cửa", "Bộ phận một cửa Công an phường"),
        ("Phạm Văn Tâm, Cán bộ thụ lý", "Đội Quản lý hành chính"),
    ]
    receipt = InboundReceipt.objects.get(system=system)
    assert (receipt.idempotency_key, receipt.dossier_code) == ("bca-1", code)
    # Handled on the ministry's system: the national portal hears of it from there, not from our outbox.
    assert OutboxMessage.objects.count() == outbox


def test_our_own_dossiers_do_go_to_the_outbox():
    """The control of the test above: without a source system the same history is queued for the portal."""
    before = OutboxMessage.objects.count()
    dossier_receive(officer=officer(), intake=intake())
    assert OutboxMessage.objects.count() > before


def test_pushed_dossiers_appear_in_the_public_lookup(system, agency):
    assert push(raw(payload(agency))).status_code == 200
    code = f"{agency.identifier}-260105-BCA0001"

    body = APIClient().get(f"/api/v1/lookup/{code}/").json()
    assert body["code"] == code and body["valid"] is True
    assert body["receiving_agency"] == agency.name
    assert body["applicant_name"] == "Trần Văn Bình"
    assert body["handling_departments"] == ["Bộ phận một cửa Công an phường", "Đội Quản lý hành chính"]
    assert dt.datetime.fromisoformat(body["appointment_at"]) == dt.datetime(2026, 1, 12, 17, 0, tzinfo=VN)

    page = Client().get(f"/tra-cuu/{code}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert code in html and "Trần Văn Bình" in html and "Đội Quản lý hành chính" in html and "17:00 12/01/2026" in html


def test_a_later_push_adds_only_new_progress_and_forgets_the_cached_lookup(
    system, agency, django_capture_on_commit_callbacks
):
    first = payload(agency)
    push(raw(first), idempotency_key="bca-1")
    code = first["MaHoSo"]
    assert Client().get(f"/tra-cuu/{code}/").status_code == 200
    assert cache.get(public_page_cache_key(code=code, language="vi")) is not None

    later = payload(
        agency,
        TrangThaiHoSo=10,
        NgayHenTra="20260113170000",
        NgayKetThucXuLy="20260108100000",
        NgayTra="20260109090000",
        QuaTrinhXuLy=[
            *first["QuaTrinhXuLy"],
            {
                "ThoiDiemXuLy": "20260108100000",
                "PhongBanXuLy": "Đội Quản lý hành chính",
                "NoiDungXuLy": "Đã giải quyết xong",
                "TrangThai": 9,
            },
            {"ThoiDiemXuLy": "20260109090000", "NoiDungXuLy": "Đã trả kết quả", "TrangThai": 10},
        ],
        KetQua=[{"TenGiayTo": "Giấy khai sinh", "MaGiayTo": "KS-0001"}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = push(raw(later), idempotency_key="bca-2")

    assert response.status_code == 200, response.content
    assert response.json() == {"ma_ho_so": code, "created": False, "events_added": 2}
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == Status.RETURNED
    assert dossier.completed_at == dt.datetime(2026, 1, 8, 10, 0, tzinfo=VN)
    assert dossier.returned_at == dt.datetime(2026, 1, 9, 9, 0, tzinfo=VN)
    assert dossier.appointment_at == dt.datetime(2026, 1, 13, 17, 0, tzinfo=VN)
    assert list(dossier.events.order_by("at").values_list("note", "status_from", "status_to")) == [
        ("Tiếp nhận hồ sơ", None, 2),
        ("Chuyển xử lý", 2, 4),
        ("Đã giải quyết xong", 4, 9),
        ("Đã trả kết quả", 9, 10),
    ]
    assert cache.get(public_page_cache_key(code=code, language="vi")) is None
    assert InboundReceipt.objects.get(idempotency_key="bca-2").payload["KetQua"][0]["MaGiayTo"] == "KS-0001"


def test_a_status_without_a_progress_entry_is_still_recorded(system, agency):
    push(raw(payload(agency)), idempotency_key="bca-1")
    response = push(raw(payload(agency, TrangThaiHoSo=5)), idempotency_key="bca-2")

    assert response.json()["events_added"] == 1
    last = Dossier.objects.get(code=payload(agency)["MaHoSo"]).events.order_by("id").last()
    assert (last.action, last.status_from, last.status_to, last.at) == ("external_status", 4, 5, NOW)


def test_new_dates_alone_update_the_dossier_and_its_cached_lookup(system, agency, django_capture_on_commit_callbacks):
    push(raw(payload(agency)), idempotency_key="bca-1")
    code = payload(agency)["MaHoSo"]
    Client().get(f"/tra-cuu/{code}/")
    assert cache.get(public_page_cache_key(code=code, language="vi")) is not None

    with django_capture_on_commit_callbacks(execute=True):
        response = push(raw(payload(agency, NgayHenTra="20260114170000")), idempotency_key="bca-2")

    assert response.json()["events_added"] == 0
    assert Dossier.objects.get(code=code).appointment_at == dt.datetime(2026, 1, 14, 17, 0, tzinfo=VN)
    assert cache.get(public_page_cache_key(code=code, language="vi")) is None
    assert "17:00 14/01/2026" in Client().get(f"/tra-cuu/{code}/").content.decode()


def test_the_same_request_again_answers_the_same_and_changes_nothing(system, agency):
    body = raw(payload(agency))
    first = push(body, idempotency_key="bca-1")
    before = written()
    updated_at = Dossier.objects.get(code=payload(agency)["MaHoSo"]).updated_at

    # A retry signs again (a signature is accepted once) under the same key.
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        again = push(body, idempotency_key="bca-1", timestamp=int(NOW.timestamp()) + 30)

    assert again.status_code == 200
    assert again.json() == first.json() == {"ma_ho_so": payload(agency)["MaHoSo"], "created": True, "events_added": 2}
    assert written() == before
    assert Dossier.objects.get(code=payload(agency)["MaHoSo"]).updated_at == updated_at


def test_the_same_content_under_a_new_key_adds_no_event(system, agency):
    push(raw(payload(agency)), idempotency_key="bca-1")
    events = Event.objects.count()
    response = push(raw(payload(agency)), idempotency_key="bca-2", timestamp=int(NOW.timestamp()) + 1)
    assert response.json() == {"ma_ho_so": payload(agency)["MaHoSo"], "created": False, "events_added": 0}
    assert Event.objects.count() == events


def test_another_body_under_a_used_key_is_a_conflict(system, agency):
    push(raw(payload(agency)), idempotency_key="bca-1")
    before = written()

    response = push(raw(payload(agency, TrangThaiHoSo=9)), idempotency_key="bca-1")

    assert_error(response, 409, "idempotency_key_reused")
    assert written() == before
    assert Dossier.objects.get(code=payload(agency)["MaHoSo"]).status == Status.IN_PROCESS


@pytest.mark.parametrize("idempotency_key", [None, "bca-1"])
def test_a_replayed_signature_is_rejected(system, agency, idempotency_key):
    body = raw(payload(agency))
    timestamp = int(NOW.timestamp())
    signature = sign(SECRET, timestamp, body)
    assert push(body, idempotency_key=idempotency_key, signature=signature).status_code == 200
    before = written()

    # The very same bytes, within the window; then with a forged Idempotency-Key (the header is not signed).
    replay = push(body, idempotency_key=idempotency_key, signature=signature, timestamp=timestamp)
    assert_error(replay, 409, "replayed")
    forged = push(body, idempotency_key="another-key", signature=signature, timestamp=timestamp)
    assert_error(forged, 409, "replayed")
    assert written() == before


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"key_id": "no-such-key"}, "unknown_key"),
        ({"key_id": ""}, "unknown_key"),
        ({"secret": "someone-else-s-secret"}, "bad_signature"),
        ({"signature": "0" * 64}, "bad_signature"),
        ({"timestamp": int(NOW.timestamp()) - 301}, "stale_timestamp"),
        ({"timestamp": int(NOW.timestamp()) + 301}, "stale_timestamp"),
        ({"timestamp": "yesterday"}, "stale_timestamp"),
    ],
)
def test_unauthenticated_requests_are_refused_and_write_nothing(system, agency, change, code):
    before = written()
    response = push(raw(payload(agency)), **change)
    assert_error(response, 401, code)
    assert response["WWW-Authenticate"].startswith("HMAC-SHA256")
    assert written() == before


def test_an_inactive_system_is_refused(system, agency):
    InboundSystem.objects.filter(pk=system.pk).update(is_active=False)
    assert_error(push(raw(payload(agency))), 401, "unknown_key")
    assert not Dossier.objects.filter(source_system="bo-cong-an").exists()


def test_the_window_is_inclusive_of_the_allowed_skew(system, agency):
    assert push(raw(payload(agency)), timestamp=int(NOW.timestamp()) - 300).status_code == 200


def test_the_skew_is_a_setting(system, agency, settings):
    settings.INBOUND_MAX_SKEW_SECONDS = 60
    assert_error(push(raw(payload(agency)), timestamp=int(NOW.timestamp()) - 61), 401, "stale_timestamp")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"MaHoSo": "not-a-code"}, "MaHoSo"),
        ({"MaHoSo": None}, "MaHoSo"),
        ({"MaTTHC": "9.999999"}, "MaTTHC"),
        ({"NgayTiepNhan": "2026-01-05 08:30"}, "NgayTiepNhan"),
        ({"NgayHenTra": "20261305083000"}, "NgayHenTra"),
        ({"TrangThaiHoSo": 11}, "TrangThaiHoSo"),
        ({"TrangThaiHoSo": 0}, "TrangThaiHoSo"),
        ({"ChuHoSo": "  "}, "ChuHoSo"),
        ({"KenhThucHien": 7}, "KenhThucHien"),
        ({"QuaTrinhXuLy": [{"ThoiDiemXuLy": "hôm qua", "TrangThai": 2}]}, "QuaTrinhXuLy[0].ThoiDiemXuLy"),
        ({"QuaTrinhXuLy": [{"ThoiDiemXuLy": "20260105083000", "TrangThai": 11}]}, "QuaTrinhXuLy[0].TrangThai"),
        ({"QuaTrinhXuLy": {"TrangThai": 2}}, "QuaTrinhXuLy"),
        ({"KetQua": "giấy khai sinh"}, "KetQua"),
        ({"MaHoSo": "G01.99-260105-0001"}, "DonViXuLy"),  # neither the code nor DonViXuLy names our agency
    ],
)
def test_invalid_payloads_are_refused_naming_the_field(system, agency, change, field):
    before = written()
    body = assert_error(push(raw(payload(agency, **change))), 400, "invalid")
    assert field in body["detail"], body
    assert isinstance(body["detail"][field], list) and body["detail"][field][0]
    assert written() == before


def test_every_wrong_field_is_listed_at_once(system, agency):
    body = assert_error(push(raw(payload(agency, MaTTHC="9.999999", TrangThaiHoSo=11))), 400, "invalid")
    assert {"MaTTHC", "TrangThaiHoSo"} <= set(body["detail"])


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", "\u00ff".encode("latin-1")])
def test_a_body_that_is_not_a_json_object_is_invalid(system, body):
    before = written()
    assert "body" in assert_error(push(body), 400, "invalid")["detail"]
    assert written() == before


def test_the_agency_may_come_from_donvixuly(system, agency):
    """A code that does not start with one of our identifiers (a ministry's own) names the agency separately."""
    body = payload(agency, MaHoSo="G01.99-260105-0001", DonViXuLy=agency.identifier)
    assert push(raw(body)).status_code == 200
    assert Dossier.objects.get(code="G01.99-260105-0001").agency == agency


def test_a_system_reports_only_for_its_agencies(system, agency):
    system.agencies.add(Agency.objects.exclude(pk=agency.pk).first())
    before = written()
    body = assert_error(push(raw(payload(agency))), 400, "invalid")
    assert "MaHoSo" in body["detail"]
    assert written() == before

    system.agencies.add(agency)
    assert push(raw(payload(agency))).status_code == 200


def test_a_dossier_of_our_own_cannot_be_overwritten(system, agency):
    own = dossier_receive(officer=officer(), intake=intake())
    before = written()

    response = push(raw(payload(agency, MaHoSo=own.code, TrangThaiHoSo=10)))

    assert_error(response, 409, "not_external")
    assert written() == before
    own.refresh_from_db()
    assert (own.source_system, own.status, own.applicant_name) == ("", Status.ACCEPTED, "Nguyễn Thị Hồng Nhung")


def test_a_dossier_of_another_system_cannot_be_overwritten(system, agency):
    push(raw(payload(agency)))
    InboundSystem.objects.create(code="bo-tu-phap", name="Bộ Tư pháp", key_id="btp-key", secret="btp-secret")
    before = written()

    response = push(raw(payload(agency, TrangThaiHoSo=8)), key_id="btp-key", secret="btp-secret")

    assert_error(response, 409, "other_system")
    assert written() == before
    assert Dossier.objects.get(code=payload(agency)["MaHoSo"]).source_system == "bo-cong-an"


def test_the_endpoint_is_documented(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/inbound/dossiers/"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"X-Api-Key", "X-Timestamp", "X-Signature", "Idempotency-Key"}
    assert {"200", "400", "401", "409"} <= set(operation["responses"])


def test_concurrent_pushes_of_one_new_dossier_create_it_once(reseeded):
    system = InboundSystem.objects.create(code="bo-cong-an", name="Bộ Công an", key_id="bca-key", secret=SECRET)
    agency = Agency.objects.get(key="ubnd_30307")
    body = raw(payload(agency))
    workers = 6
    barrier = threading.Barrier(workers * 2)
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def send(n: int, timestamp: int, key: str | None) -> None:
        try:
            barrier.wait(timeout=30)
            response = push(body, timestamp=timestamp, idempotency_key=key)
            with lock:
                answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    start = int(NOW.timestamp())
    # Half re-sign under their own keys (all must apply, once); half send the very same signed bytes (one applies).
    threads = [threading.Thread(target=send, args=(n, start + 1 + n, f"k{n}")) for n in range(workers)]
    threads += [threading.Thread(target=send, args=(n, start, None)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert len(answers) == workers * 2
    ok = [body for status, body in answers if status == 200]
    assert sorted(status for status, _body in answers) == [200] * (workers + 1) + [409] * (workers - 1), answers
    assert {body["code"] for status, body in answers if status == 409} == {"replayed"}
    assert [body["created"] for body in ok].count(True) == 1
    assert sum(body["events_added"] for body in ok) == 2
    dossier = Dossier.objects.get(source_system=system.code)
    assert dossier.events.count() == 2
    assert InboundReceipt.objects.count() == workers + 1


def test_the_admin_shows_a_new_secret_once(client, agency):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("admin.inbound", "admin@example.vn", "Mat-khau-quan-tri-2025")
    client.force_login(admin)

    page = client.post(
        reverse("admin:sync_inboundsystem_add"),
        {"code": "bo-tu-phap", "name": "Bộ Tư pháp", "is_active": "on", "agencies": [agency.pk]},
    )

    system = InboundSystem.objects.get(code="bo-tu-phap")
    assert list(system.agencies.all()) == [agency]
    assert len(system.secret) >= 43 and system.key_id
    html = page.content.decode()
    assert system.secret in html and system.key_id in html and "no-store" in page["Cache-Control"]
    assert (
        system.secret not in client.get(reverse("admin:sync_inboundsystem_change", args=[system.pk])).content.decode()
    )

    old = system.secret
    page = client.post(
        reverse("admin:sync_inboundsystem_changelist"), {"action": "issue_new_secret", "_selected_action": [system.pk]}
    )
    system.refresh_from_db()
    assert system.secret != old and system.secret in page.content.decode()
