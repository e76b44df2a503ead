"""Statistics of reception and resolution (stats/selectors.py) and their back-office page (backoffice/stats.py)."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from core.errors import PermissionDenied
from dossiers.models import Dossier, Status
from dossiers.services import dossier_receive, dossier_refuse_at_intake
from organizations.models import Agency, Role
from stats.selectors import AgencyRow, Flow, cross_boundary_flows, intake_and_resolution, rows_total, stats_scope

from .conftest import PASSWORD
from .dossier_helpers import intake, officer
from .workflow_helpers import staff

VN = dt.timezone(dt.timedelta(hours=7))
NOVEMBER = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}
DECEMBER = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}
NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=VN)
A, B, C = "ubnd_30307", "ubnd_31078", "ubnd_30742"  # Phường Long Xuyên, Đặc khu Phú Quốc, Phường Rạch Giá
URL = "/mot-cua/thong-ke/tiep-nhan-giai-quyet/"
CSV_URL = "/mot-cua/thong-ke/tiep-nhan-giai-quyet.csv"


def at(day: int, month: int = 11, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=VN)


def vi(msgid: str) -> str:
    with translation.override("vi"):
        return translation.gettext(msgid)


def agency(key: str) -> Agency:
    return Agency.objects.get(key=key)


def receive(by, for_key: str, when: dt.datetime, **state) -> Dossier:  # type: ignore[no-untyped-def]
    """A dossier received by ``by`` at ``when`` for the agency ``for_key``, then put in ``state`` (its lifecycle
    columns as the engine leaves them)."""
    with time_machine.travel(when, tick=False):
        dossier = dossier_receive(officer=by, intake=intake(agency=agency(for_key)), now=when)
    if state:
        Dossier.objects.filter(pk=dossier.pk).update(**state)
    return dossier


@pytest.fixture
def period(db):  # type: ignore[no-untyped-def]
    """Dossiers in every state around November 2026, received at Long Xuyên's and Phú Quốc's counters."""
    a, b = officer(), officer(agency_key=B, username="motcua.pq")
    d = {}
    # Long Xuyên's counter, for Long Xuyên: on time, late, late despite an apology, stopped, refused, next month.
    d["on_time"] = receive(
        a, A, at(3), status=Status.RETURNED, appointment_at=at(4), completed_at=at(4), returned_at=at(5)
    )
    d["late"] = receive(a, A, at(3), status=Status.RESOLVED, appointment_at=at(4), completed_at=at(20))
    d["apology"] = receive(
        a, A, at(3), status=Status.RESOLVED, completed_at=at(20), original_appointment_at=at(4), appointment_at=at(25)
    )
    d["stopped"] = receive(a, A, at(6), status=Status.STOPPED, completed_at=at(7))
    with time_machine.travel(at(5), tick=False):
        d["refused"] = dossier_refuse_at_intake(officer=a, intake=intake(), reasons="Thiếu giấy tờ", now=at(5))
    d["december"] = receive(a, A, at(1, 12), appointment_at=at(10, 12))
    submitted = receive(a, A, at(8), status=Status.SUBMITTED, received_at=None, submitted_at=at(8))
    d["submitted"] = submitted
    # Long Xuyên's counter, for Phú Quốc (cross-boundary): one running and overdue, one waiting for the applicant.
    d["cross_running"] = receive(a, B, at(10), status=Status.IN_PROCESS, appointment_at=at(11))
    d["cross_waiting"] = receive(
        a, B, at(10), status=Status.WAITING_SUPPLEMENT, appointment_at=at(11), paused_at=at(10, hour=14)
    )
    # Phú Quốc's counter, for itself: from October resolved in November; from October still running; received in
    # November and resolved (late) in December.
    d["october_resolved"] = receive(b, B, at(28, 10), status=Status.RESOLVED, appointment_at=at(3), completed_at=at(2))
    d["october_running"] = receive(b, B, at(28, 10), status=Status.IN_PROCESS, appointment_at=at(20, 12))
    d["resolved_in_december"] = receive(
        b, B, at(12), status=Status.RESOLVED, appointment_at=at(13), completed_at=at(2, 12)
    )
    return d


def figures(rows: list[AgencyRow]) -> dict[str, tuple[int, ...]]:
    keys = {a.pk: a.key for a in Agency.objects.filter(pk__in=[r.agency_id for r in rows])}
    return {
        keys[r.agency_id]: (
            r.received,
            r.received_for_others,
            r.received_by_others,
            r.resolved,
            r.resolved_on_time,
            r.resolved_late,
            r.in_process,
            r.in_process_overdue,
        )
        for r in rows
    }


#                          received, for others, by others, resolved, on time, late, in process, overdue
NOVEMBER_A = (6, 2, 0, 3, 1, 2, 0, 0)
NOVEMBER_B = (1, 0, 2, 1, 1, 0, 4, 2)


def test_figures_of_a_period(period):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        rows = intake_and_resolution(**NOVEMBER)
    assert figures(rows) == {A: NOVEMBER_A, B: NOVEMBER_B}  # Rạch Giá did nothing: no row
    row_a = next(r for r in rows if r.agency_id == agency(A).pk)
    assert (row_a.identifier, row_a.name) == (agency(A).identifier, agency(A).name)
    assert (row_a.received_for_itself, row_a.to_resolve) == (4, 4)
    total = rows_total(rows)
    assert total.agency_id is None and (total.received, total.received_for_others, total.received_by_others) == (
        7,
        2,
        2,
    )
    assert (total.resolved, total.resolved_on_time, total.resolved_late, total.in_process) == (4, 2, 2, 4)


def test_a_running_period_counts_overdue_up_to_now(period):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        rows = intake_and_resolution(**DECEMBER)
    # Long Xuyên received one dossier on 1 December; Phú Quốc resolved one late, still runs three (the one due on
    # 20 December is not overdue on the 5th, the one waiting for the applicant is not either).
    assert figures(rows) == {A: (1, 0, 0, 0, 0, 0, 1, 0), B: (0, 0, 0, 1, 0, 1, 3, 1)}


def test_rows_of_chosen_agencies_only_and_zeros_for_an_idle_one(period):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        rows = intake_and_resolution(**NOVEMBER, agency_ids=[agency(B).pk, agency(C).pk])
    assert figures(rows) == {B: NOVEMBER_B, C: (0,) * 8}
    with time_machine.travel(NOW, tick=False):
        assert intake_and_resolution(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)) == []


def test_cross_boundary_flows(period):  # type: ignore[no-untyped-def]
    a, b = agency(A), agency(B)
    expected = [Flow(a.pk, a.name, b.pk, b.name, 2)]
    assert cross_boundary_flows(**NOVEMBER) == expected
    assert cross_boundary_flows(**NOVEMBER, agency_id=a.pk) == expected
    assert cross_boundary_flows(**NOVEMBER, agency_id=b.pk) == expected
    assert cross_boundary_flows(**NOVEMBER, agency_id=agency(C).pk) == []
    assert cross_boundary_flows(**DECEMBER) == []


def test_a_dossier_keeps_the_agency_rows_it_was_received_with(period):  # type: ignore[no-untyped-def]
    """After a reorganisation the rows are those the dossiers point to, even when the agency has ended."""
    b = agency(B)
    Agency.objects.filter(pk=b.pk).update(valid_until=dt.date(2026, 11, 30))
    with time_machine.travel(NOW, tick=False):
        rows = intake_and_resolution(**NOVEMBER)
    assert figures(rows)[B] == NOVEMBER_B


def test_a_dossier_a_reorganisation_moved_counts_where_it_was_received_and_where_it_is_handled(period):  # type: ignore[no-untyped-def]
    """A reorganisation moves an open dossier to the successor agency and counter and keeps the former ones
    (dossiers/reorganisation.py): reception stays with the former, the work in process goes to the successor."""
    moved = period["cross_running"]  # Long Xuyên's counter, for Phú Quốc
    successor = agency(C)
    Dossier.objects.filter(pk=moved.pk).update(
        original_agency=agency(B),
        agency=successor,
        original_counter=moved.counter,
        counter=successor.counters.get(),
    )
    with time_machine.travel(NOW, tick=False):
        rows = figures(intake_and_resolution(**NOVEMBER))
    assert rows[A] == NOVEMBER_A
    assert rows[B] == (1, 0, 2, 1, 1, 0, 3, 1)  # still received for it; no longer in process there
    assert rows[C] == (0, 0, 0, 0, 0, 0, 1, 1)
    assert [(f.receiving_agency_id, f.competent_agency_id, f.count) for f in cross_boundary_flows(**NOVEMBER)] == [
        (agency(A).pk, agency(B).pk, 2)
    ]


def test_the_period_is_vietnam_days(db):  # type: ignore[no-untyped-def]
    a = officer()
    # 23:30 on 30 November in Vietnam is 16:30 UTC: November. 00:30 on 1 December is 17:30 UTC on 30 November.
    receive(a, A, dt.datetime(2026, 11, 30, 23, 30, tzinfo=VN))
    receive(a, A, dt.datetime(2026, 12, 1, 0, 30, tzinfo=VN))
    with time_machine.travel(NOW, tick=False), timezone.override("UTC"):
        assert figures(intake_and_resolution(**NOVEMBER))[A][0] == 1
        assert figures(intake_and_resolution(**DECEMBER))[A][0] == 1


def test_query_counts_are_pinned(period, django_assert_num_queries):  # type: ignore[no-untyped-def]
    chosen = [agency(A).pk, agency(C).pk]
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(3):
            intake_and_resolution(**NOVEMBER)
        with django_assert_num_queries(3):
            intake_and_resolution(**NOVEMBER, agency_ids=chosen)
    with django_assert_num_queries(1):
        cross_boundary_flows(**NOVEMBER)


# --- Who may read them ------------------------------------------------------------------------------------------


def test_scope_of_each_role(db, province_admin):  # type: ignore[no-untyped-def]
    assert stats_scope(officer=province_admin).agency_ids is None
    for role in (Role.AGENCY_LEADER, Role.AGENCY_ADMIN, Role.DEPARTMENT_HEAD, Role.ONE_STOP_OFFICER):
        who = staff(f"x.{role}", role=role)
        scope = stats_scope(officer=who)
        assert scope.agency_ids == [agency(A).pk] and scope.agency_id == agency(A).pk
    with pytest.raises(PermissionDenied):
        stats_scope(officer=staff("cv.x", role=Role.SPECIALIST))


# --- The page ---------------------------------------------------------------------------------------------------


def signed_in(who) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=who.user.username, password=PASSWORD)
    return client


def page(client: Client, **params) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL, params)
    return response.status_code, response.content.decode()


def test_the_page_needs_a_staff_account_of_a_permitted_role(period):  # type: ignore[no-untyped-def]
    assert Client().get(URL).url.startswith("/mot-cua/dang-nhap/")
    assert Client().get(CSV_URL).url.startswith("/mot-cua/dang-nhap/")
    citizen = get_user_model().objects.create_user("cong.dan", password=PASSWORD)
    client = Client()
    assert client.login(username=citizen.username, password=PASSWORD)
    assert client.get(URL).status_code == 404
    specialist = signed_in(staff("cv.x", role=Role.SPECIALIST))
    assert specialist.get(URL).status_code == 403
    assert specialist.get(CSV_URL).status_code == 403
    # The menu links the page for those who may read it only.
    assert URL not in specialist.get("/mot-cua/").content.decode()
    assert URL in signed_in(staff("ld.x", role=Role.AGENCY_LEADER)).get("/mot-cua/").content.decode()


def test_an_agency_sees_its_own_row_and_its_flows(period):  # type: ignore[no-untyped-def]
    leader = staff("ld.pq", role=Role.AGENCY_LEADER, agency_key=B)
    status, html = page(signed_in(leader), tu="2026-11-01", den="2026-11-30")
    assert status == 200
    assert f'data-agency="{agency(B).identifier}"' in html and f'data-agency="{agency(A).identifier}"' not in html
    assert 'data-col="received_by_others">2<' in html and 'data-col="in_process_overdue">2<' in html
    assert 'data-agency="total"' not in html  # one row needs no total
    for heading in ("Received at its counters", "of which received on behalf of other agencies",
                    "Received on its behalf by other agencies", "Dossiers resolved", "resolved on time",
                    "resolved late", "Still in process"):  # fmt: skip
        assert vi(heading) in html
    flows = html.split('data-table="flows"')[1]
    assert agency(A).name in flows and agency(B).name in flows and ">2<" in flows
    # Rạch Giá has no flow and zeros.
    status, html = page(
        signed_in(staff("ld.rg", role=Role.AGENCY_LEADER, agency_key=C)), tu="2026-11-01", den="2026-11-30"
    )
    assert status == 200 and 'data-col="received">0<' in html and 'data-table="flows"' not in html
    assert vi("No dossier was received on behalf of another agency in this period.") in html


def test_the_province_admin_sees_every_agency_with_a_total(period, province_admin):  # type: ignore[no-untyped-def]
    status, html = page(signed_in(province_admin), tu="2026-11-01", den="2026-11-30")
    assert status == 200
    assert f'data-agency="{agency(A).identifier}"' in html and f'data-agency="{agency(B).identifier}"' in html
    assert f'data-agency="{agency(C).identifier}"' not in html and 'data-agency="total"' in html


def test_the_period_defaults_to_this_month(period, province_admin):  # type: ignore[no-untyped-def]
    client = signed_in(province_admin)
    with time_machine.travel(at(20), tick=False):
        html = client.get(URL).content.decode()
    assert 'value="2026-11-01"' in html and 'value="2026-11-30"' in html
    assert f'data-agency="{agency(A).identifier}"' in html


def test_a_bad_period_is_explained_beside_the_field(period, province_admin):  # type: ignore[no-untyped-def]
    client = signed_in(province_admin)
    status, html = page(client, tu="2026-11-30", den="2026-11-01")
    assert status == 400 and 'data-table="agencies"' not in html
    assert vi("The end date is before the start date.") in html
    assert 'aria-describedby="id_den_error"' in html and 'id="id_den_error"' in html
    status, html = page(client, tu="30/11", den="2026-11-01")
    assert status == 400 and 'aria-describedby="id_tu_error"' in html
    with time_machine.travel(NOW, tick=False):
        assert client.get(CSV_URL, {"tu": "2026-11-30", "den": "2026-11-01"}).status_code == 400


def test_the_csv_has_the_same_figures(period, province_admin):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = signed_in(province_admin).get(CSV_URL, {"tu": "2026-11-01", "den": "2026-11-30"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "tiep-nhan-giai-quyet-2026-11-01-2026-11-30.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][2] == vi("Received at its counters")
    assert rows[1:] == [
        [agency(A).identifier, agency(A).name, *map(str, NOVEMBER_A)],
        [agency(B).identifier, agency(B).name, *map(str, NOVEMBER_B)],
        ["", vi("Total"), "7", "2", "2", "4", "2", "2", "4", "2"],
    ]
    # An agency's own officer downloads its row only.
    with time_machine.travel(NOW, tick=False):
        mine = signed_in(staff("ld.pq", role=Role.AGENCY_LEADER, agency_key=B)).get(
            CSV_URL, {"tu": "2026-11-01", "den": "2026-11-30"}
        )
    rows = list(csv.reader(io.StringIO(mine.content.decode("utf-8").lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == [agency(B).identifier, ""]


def test_page_query_count_is_pinned(period, province_admin, django_assert_num_queries):  # type: ignore[no-untyped-def]
    client = signed_in(province_admin)
    page(client, tu="2026-11-01", den="2026-11-30")  # warm the session cache
    with django_assert_num_queries(PAGE_QUERIES):
        status, _html = page(client, tu="2026-11-01", den="2026-11-30")
    assert status == 200
    with django_assert_num_queries(PAGE_QUERIES):
        status, _html = page(client, tu="2026-10-01", den="2026-12-31")  # a longer period, more rows: same count
    assert status == 200


PAGE_QUERIES = 6


# --- The API ----------------------------------------------------------------------------------------------------

API = "/api/v1/thong-ke/tiep-nhan-giai-quyet/"


def api_client(who) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    assert client.login(username=who.user.username, password=PASSWORD)
    return client


def test_the_api_gives_the_same_figures_in_the_same_scope(period, province_admin):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        everyone = api_client(province_admin).get(API, {"tu": "2026-11-01", "den": "2026-11-30"})
        mine = api_client(staff("ld.pq", role=Role.AGENCY_LEADER, agency_key=B)).get(
            API, {"tu": "2026-11-01", "den": "2026-11-30"}
        )
    assert everyone.status_code == 200
    body = everyone.json()
    assert (body["start"], body["end"]) == ("2026-11-01", "2026-11-30")
    by_identifier = {a["identifier"]: a for a in body["agencies"]}
    assert set(by_identifier) == {agency(A).identifier, agency(B).identifier}
    a = by_identifier[agency(A).identifier]
    assert (a["received"], a["received_for_others"], a["resolved_on_time"], a["resolved_late"]) == (6, 2, 1, 2)
    assert body["flows"] == [{"receiving_agency": agency(A).name, "competent_agency": agency(B).name, "count": 2}]
    assert mine.status_code == 200
    assert [x["identifier"] for x in mine.json()["agencies"]] == [agency(B).identifier]
    assert mine.json()["agencies"][0]["received_by_others"] == 2


def test_the_api_refuses_outsiders_and_bad_periods(period, province_admin):  # type: ignore[no-untyped-def]
    assert APIClient().get(API).status_code in (401, 403)
    denied = api_client(staff("cv.x", role=Role.SPECIALIST)).get(API)
    assert denied.status_code == 403 and denied.json()["code"] == "stats_forbidden"
    bad = api_client(province_admin).get(API, {"tu": "2026-11-30", "den": "2026-11-01"})
    assert bad.status_code == 400 and "den" in bad.json()["detail"]
    assert api_client(province_admin).get(API, {"tu": "hôm qua"}).status_code == 400
    with time_machine.travel(at(20), tick=False):
        default = api_client(province_admin).get(API).json()
    assert (default["start"], default["end"]) == ("2026-11-01", "2026-11-30")


def test_the_api_is_in_the_schema(client):  # type: ignore[no-untyped-def]
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][API]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"tu", "den"}
    assert "IntakeAndResolutionAgency" in schema["components"]["schemas"]


# --- In the browser ---------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_leader_reads_the_statistics_from_the_menu(live_server, reseeded, page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    a = officer()
    today = timezone.localdate()
    receive(a, B, timezone.now())  # this month, for Phú Quốc
    leader = staff("ld.lx", role=Role.AGENCY_LEADER)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(live_server.url + "/mot-cua/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(leader.user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name=vi("Intake and resolution")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(vi("Intake and resolution statistics"))
    expect(page.get_by_label(vi("From"))).to_have_value(today.replace(day=1).isoformat())
    table = page.get_by_role("table", name=vi("Figures per agency"))
    row = table.get_by_role("row", name=agency(A).name)
    expect(row.locator('[data-col="received"]')).to_have_text("1")
    expect(row.locator('[data-col="received_for_others"]')).to_have_text("1")
    # A wrong period is explained beside the field; nothing is counted.
    page.get_by_label(vi("From")).fill(today.isoformat())
    page.get_by_label(vi("To")).fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name=vi("Show")).click()
    expect(page.get_by_text(vi("The end date is before the start date."))).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
