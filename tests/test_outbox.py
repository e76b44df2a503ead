"""The outbox to the national portal: written with the change, delivered in order, idempotent, retried, dead
letters."""

import pytest
from django.db import transaction
from django.test import override_settings

from core.models import OutboxMessage
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import Dossier, Event, Status
from dossiers.services import dossier_receive
from organizations.models import Role
from sync import national
from sync.outbox import backoff_seconds, outbox_batch, outbox_drain, outbox_retry

from .dossier_helpers import intake, officer
from .workflow_helpers import handling_department, publish_standard, staff

State = OutboxMessage.State


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    publish_standard()
    department = handling_department()
    return {
        "counter": officer(),
        "specialist": staff("cv.sync", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng"),
    }


def act(who, dossier: Dossier, action: str, **data) -> Dossier:  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    return dossier_act(
        officer=who, code=dossier.code, action=action, task_id=fresh.current_task_id, data=ActionInput(**data)
    )


def handled(people) -> Dossier:  # type: ignore[no-untyped-def]
    """Received, forwarded to the department, claimed and sent back for a supplement: status 2 → 4 → 5."""
    dossier = dossier_receive(officer=people["counter"], intake=intake())
    act(people["counter"], dossier, "forward")
    act(people["specialist"], dossier, "claim")
    act(
        people["specialist"],
        dossier,
        "request_supplement",
        items=["Bản sao giấy chứng sinh"],
        reason="Thiếu giấy chứng sinh",
    )
    return Dossier.objects.get(pk=dossier.pk)


def messages_of(dossier: Dossier) -> list[tuple[str, int]]:
    return list(OutboxMessage.objects.filter(key=f"d{dossier.pk}").order_by("id").values_list("operation", "ref"))


def synced_progress(dossier: Dossier) -> list[Event]:
    return list(dossier.events.exclude(action__in=["claim", "assign"]).order_by("at", "id"))


def test_every_change_writes_its_messages_in_the_same_transaction(people):  # type: ignore[no-untyped-def]
    dossier = handled(people)
    events = synced_progress(dossier)
    assert [e.action for e in events] == ["receive", "forward", "request_supplement"]
    # New dossier: add; each status change: update; each step of its handling: a progress entry. Claims stay inside.
    assert messages_of(dossier) == [
        ("add", dossier.pk), ("progress", events[0].pk),
        ("update", dossier.pk), ("progress", events[1].pk),
        ("update", dossier.pk), ("progress", events[2].pk),
    ]  # fmt: skip
    assert set(OutboxMessage.objects.filter(key=f"d{dossier.pk}").values_list("agency_id", flat=True)) == {
        dossier.agency_id
    }
    # A change that rolls back leaves no message behind.
    before = OutboxMessage.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        dossier_receive(officer=people["counter"], intake=intake())
        assert OutboxMessage.objects.count() == before + 2
        raise RuntimeError("the intake fails after the dossier was written")
    assert OutboxMessage.objects.count() == before


def test_the_portal_receives_the_dossier_and_its_progress_in_order(people, portal_sim):  # type: ignore[no-untyped-def]
    dossier = handled(people)
    report = outbox_drain(seconds=30)
    assert report.delivered == 6 and not report.retrying and not report.failed
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.DELIVERED}
    held = portal_sim.dossier(dossier.code)
    assert held["dossier"]["TrangThaiHoSo"] == Status.WAITING_SUPPLEMENT == dossier.status
    assert held["dossier"]["MaTTHC"] == dossier.procedure.code
    assert held["dossier"]["DonViXuLy"] == dossier.agency.identifier
    assert held["dossier"]["NgayTiepNhan"] == national.national_date(dossier.received_at)
    assert len(held["dossier"]["NgayHenTra"]) == 14 and held["dossier"]["NgayHenTra"].isdigit()
    assert [(p["TrangThai"], p["ThoiDiemXuLy"]) for p in held["progress"]] == [
        (e.status_to, national.national_date(e.at)) for e in synced_progress(dossier)
    ]
    assert "Bản sao giấy chứng sinh" in held["progress"][-1]["NoiDungXuLy"]
    assert next(op for op, code, _ in portal_sim.log() if code == dossier.code) == "add"
    # Nothing left: a second drain sends nothing.
    requests = portal_sim.state()["requests"]
    assert outbox_drain(seconds=5).delivered == 0 and portal_sim.state()["requests"] == requests


def test_a_repeated_add_answered_already_exists_becomes_an_update(people, portal_sim):  # type: ignore[no-untyped-def]
    portal_sim.mode(exists=True)
    dossier = dossier_receive(officer=people["counter"], intake=intake())
    report = outbox_drain(seconds=30)
    assert report.delivered == 2 and not report.retrying
    add = OutboxMessage.objects.get(key=f"d{dossier.pk}", operation="add")
    assert add.state == State.DELIVERED and add.attempts == 1
    # Answered "đã tồn tại", then updated (with what the portal already had: a harmless repeat).
    assert portal_sim.state()["repeats"] == 2 and add.answer == {"error_code": "0", "message": "Thành công"}
    assert portal_sim.dossier(dossier.code)["dossier"]["TrangThaiHoSo"] == Status.ACCEPTED


@override_settings(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_BASE=0, OUTBOX_BACKOFF_MAX=0)
def test_refusals_back_off_then_dead_letter_and_an_admin_retry_delivers(people, portal_sim):  # type: ignore[no-untyped-def]
    dossier = dossier_receive(officer=people["counter"], intake=intake())
    portal_sim.mode(refuse=True)
    for attempt in (1, 2):
        report = outbox_batch()
        # The portal's refusal: both due messages? No: only the dossier's first (the add) is due; order holds the rest.
        assert report.retrying == 1 and not report.delivered
        add = OutboxMessage.objects.get(key=f"d{dossier.pk}", operation="add")
        assert add.state == State.PENDING and add.attempts == attempt and "503" in add.last_error
        assert OutboxMessage.objects.get(key=f"d{dossier.pk}", operation="progress").attempts == 0
    assert outbox_batch().failed == 1
    add.refresh_from_db()
    assert add.state == State.DEAD and add.request["MaHoSo"] == dossier.code
    # A failed message holds its dossier's later ones back: nothing of this dossier is due now.
    portal_sim.mode(refuse=False)
    assert outbox_batch().batches == 0 and portal_sim.dossier(dossier.code) is None
    assert outbox_retry(ids=[add.id]) == 1
    assert outbox_drain(seconds=30).delivered == 2
    assert portal_sim.dossier(dossier.code)["dossier"]["TrangThaiHoSo"] == Status.ACCEPTED


@override_settings(OUTBOX_BACKOFF_BASE=5.0, OUTBOX_BACKOFF_MAX=3600.0)
def test_backoff_doubles_up_to_its_cap_with_bounded_jitter():  # type: ignore[no-untyped-def]
    for attempts, expected in ((1, 5), (2, 10), (3, 20), (6, 160), (20, 3600)):
        delays = [backoff_seconds(attempts) for _ in range(50)]
        assert all(0.8 * expected <= d <= 1.2 * expected for d in delays)
        assert max(delays) > min(delays)


@override_settings(OUTBOX_BACKOFF_BASE=0.05, OUTBOX_BACKOFF_MAX=1.0, OUTBOX_MAX_ATTEMPTS=50)
def test_ten_minutes_of_refusals_end_with_everything_delivered_once_in_order(people, portal_sim):  # type: ignore[no-untyped-def]
    """Time-compressed 100×: ten minutes of refusals are six seconds, backoff 5 s → 1 h becomes 50 ms → 36 s
    (capped at 1 s here). Drains run as the beat would, every 0.1 s, while dossiers keep changing."""
    import time

    portal_sim.mode(refuse_for=6.0)
    dossiers = [handled(people) for _ in range(3)]
    started = time.monotonic()
    while time.monotonic() - started < 60:
        outbox_drain(seconds=2)
        if not OutboxMessage.objects.exclude(state=State.DELIVERED).exists():
            break
        if time.monotonic() - started < 4:  # changes keep coming while the portal refuses
            dossiers.append(handled(people))
        time.sleep(0.1)
    assert not OutboxMessage.objects.exclude(state=State.DELIVERED).exists()
    assert portal_sim.state()["refused"] >= 5
    assert OutboxMessage.objects.filter(attempts__gt=1).exists()  # the refusals were retried, not skipped
    log = portal_sim.log()
    for dossier in dossiers:
        held = portal_sim.dossier(dossier.code)
        assert held["dossier"]["TrangThaiHoSo"] == dossier.status
        # Exactly once and in order: the portal's progress list is the dossier's history, no entry twice.
        assert [(p["TrangThai"], p["ThoiDiemXuLy"]) for p in held["progress"]] == [
            (e.status_to, national.national_date(e.at)) for e in synced_progress(dossier)
        ]
        ops = [op for op, code, _ in log if code == dossier.code]
        assert ops[0] == "add" and ops.count("add") == 1 and ops.count("progress") == 3
