"""The national portal sync monitor in the back office: counts per agency and day, one message, retries, the
catalogue, and reconciliation against the portal simulator. Province administrators only."""

import datetime as dt
import html

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from core.models import OutboxMessage
from core.national import Status
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import Dossier
from dossiers.services import dossier_receive
from organizations.models import Agency, Role
from procedures.models import Procedure
from sync.outbox import outbox_batch, outbox_drain

from .conftest import PASSWORD
from .dossier_helpers import intake, officer
from .workflow_helpers import publish_standard, staff

State = OutboxMessage.State
HOME = "ubnd_30307"  # Phường Long Xuyên: the standard workflow is published there
OTHER = "vp_ubnd"


@pytest.fixture
def counter(db):  # type: ignore[no-untyped-def]
    publish_standard()
    return officer()


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"backoffice:{name}", args=args)


def signed_in(client, who):  # type: ignore[no-untyped-def]
    assert client.login(username=who.user.username, password=PASSWORD)
    return client


def page(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def received(counter) -> Dossier:  # type: ignore[no-untyped-def]
    return dossier_receive(officer=counter, intake=intake())


def forwarded(counter, dossier: Dossier) -> Dossier:  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    dossier_act(officer=counter, code=dossier.code, action="forward", task_id=fresh.current_task_id, data=ActionInput())
    return Dossier.objects.get(pk=dossier.pk)


def first_message(dossier: Dossier) -> OutboxMessage:
    return OutboxMessage.objects.filter(key=f"d{dossier.pk}").order_by("id").first()  # type: ignore[return-value]


def written(*, agency: Agency | None, state: str, days_ago: int = 0, topic: str = "dossier", ref: int = 10**9):
    """A message as the outbox would hold it, written directly (never pending: a drain would try to send it)."""
    return OutboxMessage.objects.create(
        topic=topic,
        key=f"{topic[0]}{ref}",
        operation="update",
        ref=ref,
        agency_id=agency.pk if agency else None,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
        state=state,
        attempts=1,
        last_error="" if state == State.DELIVERED else "HTTP 503: giả lập",
    )


def states_of(dossier: Dossier) -> list[str]:
    return list(OutboxMessage.objects.filter(key=f"d{dossier.pk}").order_by("id").values_list("state", flat=True))


def scenario(counter, portal_sim) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """At the home commune today: one dossier delivered (2 messages), one whose add failed (its progress entry
    waits behind it), one whose add is retrying (its progress entry waits too). At the provincial office: two
    messages delivered three days ago and one failed today. One failed procedure message."""
    delivered = received(counter)
    assert outbox_drain(seconds=30).delivered == 2
    portal_sim.mode(refuse=True)
    failed = received(counter)
    with override_settings(OUTBOX_MAX_ATTEMPTS=1):
        assert outbox_batch().failed == 1
    retrying = received(counter)
    report = outbox_batch()  # the failed add holds its dossier back: only the new add is due
    assert report.retrying == 1 and not report.failed and not report.delivered
    portal_sim.mode(refuse=False)
    other = Agency.objects.get(key=OTHER)
    old = [written(agency=other, state=State.DELIVERED, days_ago=3, ref=10**9 + i) for i in range(2)]
    other_failed = written(agency=other, state=State.DEAD, ref=10**9 + 5)
    procedure = Procedure.objects.order_by("code").first()
    procedure_failed = written(agency=None, state=State.DEAD, topic="procedure", ref=procedure.pk)  # type: ignore[union-attr]
    return {
        "delivered": delivered,
        "failed": failed,
        "retrying": retrying,
        "home": Agency.objects.get(key=HOME),
        "other": other,
        "old": old,
        "other_failed": other_failed,
        "procedure_failed": procedure_failed,
    }


def counts(response) -> dict[tuple[dt.date, int | None], tuple[int, int, int, int]]:  # type: ignore[no-untyped-def]
    return {
        (row.day, row.agency_id): (row.pending, row.retrying, row.delivered, row.failed)
        for row, _ in response.context["rows"]
    }


def test_only_province_admins_reach_the_monitor(client, counter, province_admin):  # type: ignore[no-untyped-def]
    dead = written(agency=counter.agency, state=State.DEAD)
    agency_admin = staff("qt.xa", role=Role.AGENCY_ADMIN)
    refused = gettext("Only province administrators monitor the national portal sync.")
    for who in (counter, agency_admin):
        signed_in(client, who)
        responses = [
            client.get(url("sync")),
            client.get(url("sync"), {"topic": "procedure", "state": "failed"}),
            client.get(url("sync-message", dead.pk)),
            client.get(url("sync-reconcile"), {"run": "1"}),
            client.post(url("sync-retry"), {"id": dead.pk}),
            client.post(url("sync-retry"), {"topic": "dossier"}),
            client.post(url("sync-catalogue")),
        ]
        for response in responses:
            assert response.status_code == 403 and refused in page(response)
        assert url("sync") not in page(client.get(url("home")))
    dead.refresh_from_db()
    assert dead.state == State.DEAD  # nothing was retried
    assert not OutboxMessage.objects.filter(topic="procedure").exists()  # nor the catalogue queued
    client.logout()
    assert client.get(url("sync")).status_code == 302  # signed out: to the sign-in page
    signed_in(client, province_admin)
    assert url("sync") in page(client.get(url("home")))
    assert client.get(url("sync")).status_code == 200


def test_the_monitor_counts_pending_retrying_delivered_and_failed_per_agency_and_day(  # type: ignore[no-untyped-def]
    client, counter, portal_sim, province_admin
):
    s = scenario(counter, portal_sim)
    today = timezone.localdate()
    home, other = s["home"].pk, s["other"].pk
    signed_in(client, province_admin)

    response = client.get(url("sync"))  # dossiers, the last seven days, every agency
    assert response.status_code == 200
    assert counts(response) == {
        (today, home): (2, 1, 2, 1),  # waiting: the two progress entries held back; the add retrying
        (today, other): (0, 0, 0, 1),
        (today - dt.timedelta(3), other): (0, 0, 2, 0),
    }
    assert response.context["total"] == {"pending": 2, "retrying": 1, "delivered": 4, "failed": 2}
    assert response.context["outstanding"] == {"pending": 2, "retrying": 1, "failed": 2}
    body = page(response)
    assert s["home"].name in body and s["other"].name in body
    assert f"agency={home}&state=failed" in body  # the failed count links to that agency's failed messages
    assert response.context.get("failed") is None  # the failed list only when asked for

    # Filters: fewer days, one agency; the procedure tab counts only procedure messages.
    assert set(counts(client.get(url("sync"), {"start": today.isoformat()}))) == {(today, home), (today, other)}
    assert counts(client.get(url("sync"), {"agency": other})) == {
        (today, other): (0, 0, 0, 1),
        (today - dt.timedelta(3), other): (0, 0, 2, 0),
    }
    assert counts(client.get(url("sync"), {"topic": "procedure"})) == {(today, None): (0, 0, 0, 1)}
    bad = client.get(url("sync"), {"start": today.isoformat(), "end": (today - dt.timedelta(1)).isoformat()})
    assert bad.status_code == 400 and gettext("The end date is before the start date.") in page(bad)
    assert client.get(url("sync"), {"topic": "news"}).status_code == 400

    # The failed list: the dossier's code from the message as sent, or the message's key.
    response = client.get(url("sync"), {"state": "failed"})
    rows = {m.pk: (code, name) for m, code, name in response.context["failed_rows"]}
    assert rows == {
        first_message(s["failed"]).pk: (s["failed"].code, s["home"].name),
        s["other_failed"].pk: (s["other_failed"].key, s["other"].name),
    }
    body = page(response)
    assert url("sync-message", s["other_failed"].pk) in body and url("sync-retry") in body
    only_other = client.get(url("sync"), {"state": "failed", "agency": other}).context["failed_rows"]
    assert [m.pk for m, _, _ in only_other] == [s["other_failed"].pk]


def test_the_message_page_shows_what_was_sent_and_what_the_portal_answered(  # type: ignore[no-untyped-def]
    client, counter, portal_sim, province_admin
):
    s = scenario(counter, portal_sim)
    signed_in(client, province_admin)

    dead = first_message(s["failed"])
    response = client.get(url("sync-message", dead.pk))
    body = page(response)
    assert response.status_code == 200 and response.context["as_sent"]
    assert f'"MaHoSo": "{s["failed"].code}"' in body  # the body as sent, pretty-printed
    assert "HTTP 503" in body and dead.last_error in body  # the portal refused the whole call
    assert f'name="id" value="{dead.pk}"' in body  # a failed message can be retried

    delivered = first_message(s["delivered"])
    response = client.get(url("sync-message", delivered.pk))
    body = page(response)
    assert not response.context["as_sent"]  # a delivered message keeps no copy: rebuilt as it would be sent now
    assert f'"MaHoSo": "{s["delivered"].code}"' in body
    assert '"error_code": "0"' in body and "Thành công" in body  # the portal's answer
    assert f'name="id" value="{delivered.pk}"' not in body

    assert client.get(url("sync-message", 10**12)).status_code == 404


def test_retry_one_then_all_failed_of_a_topic_and_a_drain_delivers_them(  # type: ignore[no-untyped-def]
    client, counter, portal_sim, province_admin
):
    portal_sim.mode(refuse=True)
    first, second = received(counter), received(counter)
    with override_settings(OUTBOX_MAX_ATTEMPTS=1):
        assert outbox_batch().failed == 2
    procedure = Procedure.objects.order_by("code").first()
    procedure_failed = written(agency=None, state=State.DEAD, topic="procedure", ref=procedure.pk)  # type: ignore[union-attr]
    portal_sim.mode(refuse=False)
    signed_in(client, province_admin)

    one = first_message(first)
    response = client.post(url("sync-retry"), {"id": one.pk}, follow=True)
    assert response.redirect_chain[-1][0] == url("sync-message", one.pk)
    assert ngettext("%(count)d message queued for retry.", "%(count)d messages queued for retry.", 1) % {
        "count": 1
    } in page(response)
    one.refresh_from_db()
    assert (one.state, one.attempts) == (State.PENDING, 0)
    assert first_message(second).state == State.DEAD

    response = client.post(url("sync-retry"), {"topic": "dossier"})
    assert response.status_code == 302 and response.url == f"{url('sync')}?topic=dossier"
    assert first_message(second).state == State.PENDING
    procedure_failed.refresh_from_db()
    assert procedure_failed.state == State.DEAD  # another topic's failures wait for their own button

    response = client.post(url("sync-retry"), {"topic": "dossier"}, follow=True)
    assert gettext("No failed message to retry.") in page(response)

    assert outbox_drain(seconds=30).delivered == 4  # both dossiers: add and progress entry each
    for dossier in (first, second):
        assert set(states_of(dossier)) == {State.DELIVERED}
        assert portal_sim.dossier(dossier.code)["dossier"]["TrangThaiHoSo"] == Status.ACCEPTED


def test_reconciliation_lists_dossiers_the_portal_holds_differently_until_drained(  # type: ignore[no-untyped-def]
    client, counter, portal_sim, province_admin
):
    changed = received(counter)
    assert outbox_drain(seconds=30).delivered == 2  # the portal holds it accepted (2)
    changed = forwarded(counter, changed)  # in process (4) here; not yet sent
    assert changed.status == Status.IN_PROCESS
    unsent = received(counter)
    signed_in(client, province_admin)

    response = client.get(url("sync-reconcile"))  # the form only: the portal is not asked
    assert response.status_code == 200 and "result" not in response.context
    today = timezone.localdate()
    backwards = {"run": "1", "start": today.isoformat(), "end": (today - dt.timedelta(1)).isoformat()}
    requests = portal_sim.state()["requests"]
    assert client.get(url("sync-reconcile"), backwards).status_code == 400
    partial = client.get(url("sync-reconcile"), backwards, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and gettext("The end date is before the start date.") in page(partial)
    assert portal_sim.state()["requests"] == requests  # nothing asked of the portal

    response = client.get(url("sync-reconcile"), {"run": "1"})
    assert portal_sim.state()["requests"] == requests + 1
    result = response.context["result"]
    assert result.checked == 2 and not result.unreachable
    found = {d.code: (d.local, d.portal, d.in_flight) for d in result.differences}
    assert found == {changed.code: ("4", "2", 2), unsent.code: ("2", None, 2)}  # update + progress on their way
    body = page(response)
    assert f"4. {Status.IN_PROCESS.label}" in body and f"2. {Status.ACCEPTED.label}" in body
    assert gettext("Not on the national portal") in body

    # Only one agency's dossiers: none at the provincial office.
    other = Agency.objects.get(key=OTHER).pk
    assert client.get(url("sync-reconcile"), {"run": "1", "agency": other}).context["result"].checked == 0

    # With htmx, only the report is sent back.
    partial = client.get(url("sync-reconcile"), {"run": "1"}, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="reconciliation"')
    assert "<html" not in partial.content.decode() and changed.code in partial.content.decode()

    assert outbox_drain(seconds=30).delivered == 4
    response = client.get(url("sync-reconcile"), {"run": "1"})
    assert response.context["result"].checked == 2 and response.context["result"].differences == []
    assert gettext("The national portal holds the same as here.") in page(response)

    portal_sim.mode(refuse=True)
    response = client.get(url("sync-reconcile"), {"run": "1"})
    assert response.status_code == 200 and response.context["result"].unreachable
    assert gettext("The national portal could not be reached: nothing was compared. Try again later.") in page(response)


def test_the_catalogue_is_sent_whole_and_reconciled(client, portal_sim, province_admin):  # type: ignore[no-untyped-def]
    total = Procedure.objects.count()
    before = OutboxMessage.objects.filter(topic="procedure").count()
    signed_in(client, province_admin)

    response = client.post(url("sync-catalogue"), follow=True)
    assert response.redirect_chain[-1][0] == f"{url('sync')}?topic=procedure"
    queued = ngettext(
        "%(count)d procedure queued for the national portal.",
        "%(count)d procedures queued for the national portal.",
        total,
    ) % {"count": total}
    assert queued in page(response)
    assert OutboxMessage.objects.filter(topic="procedure").count() == before + total
    assert response.context["total"]["pending"] == before + total

    assert outbox_drain(seconds=60).delivered >= total
    response = client.get(url("sync-reconcile"), {"topic": "procedure", "run": "1"})
    assert response.context["result"].checked == total and response.context["result"].differences == []

    closed = Procedure.objects.filter(status=Procedure.Status.PUBLISHED).order_by("code").first()
    Procedure.objects.filter(pk=closed.pk).update(status=Procedure.Status.CLOSED)  # type: ignore[union-attr]
    response = client.get(url("sync-reconcile"), {"topic": "procedure", "run": "1"})
    [difference] = response.context["result"].differences
    assert (difference.code, difference.local, difference.portal, difference.in_flight) == (closed.code, "0", "1", 0)  # type: ignore[union-attr]
    row = page(response).split(f'data-code="{closed.code}"')[1].split("</tr>")[0]  # type: ignore[union-attr]
    assert str(Procedure.Status.CLOSED.label) in row and str(Procedure.Status.PUBLISHED.label) in row

    monitor = client.get(url("sync"), {"topic": "procedure"})
    assert monitor.context["total"]["delivered"] >= total and monitor.context["outstanding"]["failed"] == 0


def test_the_monitor_page_runs_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    client, counter, portal_sim, province_admin, django_assert_max_num_queries
):
    scenario(counter, portal_sim)
    agencies = list(Agency.objects.exclude(key__in=[HOME, OTHER]).order_by("pk")[:8])
    for i, agency in enumerate(agencies):  # more agencies, days and failures: no more queries
        written(agency=agency, state=State.DEAD, days_ago=i % 5, ref=2 * 10**9 + i)
        written(agency=agency, state=State.DELIVERED, days_ago=i % 4, ref=3 * 10**9 + i)
    signed_in(client, province_admin)
    # user, staff (the session is in Redis); agencies for the filter; counts; their agencies' names; outstanding;
    # failed messages: count, page
    with django_assert_max_num_queries(8):
        response = client.get(url("sync"), {"state": "failed"})
    assert len(response.context["rows"]) >= 10 and len(response.context["failed_rows"]) == 10
