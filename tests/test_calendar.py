"""The working-time calendar: concrete Vietnamese dates, the province's overrides, properties, and the due-date API.

The API tests go through the project's URL configuration, as a client would.
"""

import time as clock
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core.calendar import VIETNAM, WorkCalendar, WorkingHours, public_days
from core.errors import ValidationFailed
from core.models import CalendarOverride
from core.selectors import calendar_for
from organizations.models import Agency

URL = "/api/v1/calendar/due-date/"

CAL = WorkCalendar()


def at(day: str, hhmm: str = "00:00", tz: ZoneInfo = VIETNAM) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), tzinfo=tz)


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# What the holidays package says ---------------------------------------------------------------------------------


def test_holidays_package_lists_the_decreed_make_up_saturdays():
    # holidays.VN keeps make-up working days in ``weekend_workdays`` (a set of dates filled while a year is
    # populated: Saturday 22/8/2026 is worked in exchange for Monday 31/8/2026, which becomes a holiday).
    vn = holidays.VN(years=(2025, 2026))
    assert {date(2025, 4, 26), date(2026, 8, 22)} <= vn.weekend_workdays
    assert date(2026, 8, 31) in vn and date(2025, 5, 2) in vn
    assert vn.is_working_day(date(2026, 8, 22))
    # A make-up day of a neighbouring year's decision (31/12/2018 off for 5/1/2019) is kept in its own year.
    assert date(2019, 1, 5) in public_days(2019)[1] and date(2019, 1, 5) not in public_days(2018)[1]
    assert date(2014, 12, 27) in public_days(2014)[1]
    assert public_days(2026) is public_days(2026)  # cached per year


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-01-01", False),  # New Year's Day (Thursday)
        ("2026-01-02", True),
        ("2026-01-03", False),  # Saturday
        ("2026-01-04", False),  # Sunday
        ("2026-02-13", True),  # Friday before Tết
        *((d.isoformat(), False) for d in days("2026-02-14", "2026-02-22")),  # Tết 16–20/2 between two weekends
        ("2026-02-23", True),
        ("2026-04-26", False),  # Hùng Kings (a Sunday)...
        ("2026-04-27", False),  # ... observed on Monday
        ("2026-04-30", False),
        ("2026-05-01", False),
        ("2026-08-21", True),
        ("2026-08-22", True),  # make-up working Saturday
        ("2026-08-23", False),
        ("2026-08-31", False),  # day off in exchange for 22/8
        ("2026-09-01", False),  # National Day's adjacent day
        ("2026-09-02", False),
        ("2026-09-03", True),
        ("2026-11-24", False),  # Vietnam Cultural Day, from 2026
        ("2025-11-24", True),  # not yet a holiday in 2025
        ("2025-04-26", True),  # make-up working Saturday
        ("2025-05-02", False),
        ("2027-05-03", False),  # 1/5/2027 is a Saturday, observed on Monday
    ],
)
def test_is_working_day(day, working):
    assert CAL.is_working_day(date.fromisoformat(day)) is working


def test_is_working_day_wants_a_date():
    with pytest.raises(TypeError):
        CAL.is_working_day(at("2026-01-05", "08:00"))


# Province overrides ------------------------------------------------------------------------------------------------


def test_overrides_win_over_the_national_calendar():
    cal = WorkCalendar(
        extra_days_off=frozenset({date(2026, 1, 7)}),  # a Wednesday (e.g. a storm)
        extra_work_days=frozenset({date(2026, 1, 10), date(2026, 1, 1)}),  # a Saturday, and New Year's Day
    )
    assert not cal.is_working_day(date(2026, 1, 7))
    assert cal.is_working_day(date(2026, 1, 10)) and cal.is_working_day(date(2026, 1, 1))
    assert CAL.is_working_day(date(2026, 1, 7)) and not CAL.is_working_day(date(2026, 1, 10))
    # Tuesday 10:00 + 1 day: Wednesday is off -> Thursday; Friday + 1 day: the extra Saturday.
    assert cal.add(at("2026-01-06", "10:00"), 1, "days") == at("2026-01-08", "10:00")
    assert cal.add(at("2026-01-09", "10:00"), 1, "days") == at("2026-01-10", "10:00")
    assert cal.skipped_days(at("2026-01-06", "10:00"), at("2026-01-08", "10:00")) == [date(2026, 1, 7)]


def test_a_day_cannot_be_both_off_and_worked():
    with pytest.raises(ValidationFailed, match="2026-01-07"):
        WorkCalendar(extra_days_off=frozenset({date(2026, 1, 7)}), extra_work_days=frozenset({date(2026, 1, 7)}))


# Adding working days -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "amount", "due", "skipped"),
    [
        (("2026-01-05", "08:00"), 1, ("2026-01-06", "08:00"), []),
        (("2026-01-09", "10:00"), 1, ("2026-01-12", "10:00"), ["2026-01-10", "2026-01-11"]),
        # Tết: Friday 13/2 + 1 day jumps over the weekend, 16–20/2 and the next weekend.
        (
            ("2026-02-13", "09:00"),
            1,
            ("2026-02-23", "09:00"),
            [d.isoformat() for d in days("2026-02-14", "2026-02-22")],
        ),
        # 30/4 and 1/5 (Thursday, Friday) and the weekend after.
        (("2026-04-29", "14:00"), 1, ("2026-05-04", "14:00"), ["2026-04-30", "2026-05-01", "2026-05-02", "2026-05-03"]),
        # The make-up Saturday is worked...
        (("2026-08-21", "10:00"), 1, ("2026-08-22", "10:00"), []),
        # ... and 29/8 (Sat) to 2/9 are off: 31/8 exchanged for 22/8, then National Day and its adjacent day.
        (
            ("2026-08-28", "10:00"),
            1,
            ("2026-09-03", "10:00"),
            ["2026-08-29", "2026-08-30", "2026-08-31", "2026-09-01", "2026-09-02"],
        ),
        (("2026-11-23", "10:00"), 1, ("2026-11-25", "10:00"), ["2026-11-24"]),
        (("2026-01-05", "07:00"), 5, ("2026-01-09", "17:00"), []),
        (
            ("2026-01-05", "08:00"),
            10,
            ("2026-01-19", "08:00"),
            ["2026-01-10", "2026-01-11", "2026-01-17", "2026-01-18"],
        ),
        # Half a day is 4 h 15 min of the default 8 h 30 min.
        (("2026-01-05", "07:00"), Decimal("0.5"), ("2026-01-05", "11:15"), []),
        (("2026-01-05", "13:00"), Decimal("0.5"), ("2026-01-06", "07:15"), []),
        (("2026-01-05", "10:00"), Decimal("1.5"), ("2026-01-06", "15:45"), []),
    ],
)
def test_add_days(start, amount, due, skipped):
    result = CAL.add(at(*start), amount, "days")
    assert result == at(*due)
    assert CAL.skipped_days(at(*start), result) == [date.fromisoformat(d) for d in skipped]


def test_a_result_at_the_end_of_a_period_stays_there():
    monday = "2026-01-05"
    assert CAL.add(at(monday, "07:00"), 1, "days") == at(monday, "17:00")
    assert CAL.add(at(monday, "07:00"), Decimal("4.5"), "hours") == at(monday, "11:30")
    assert CAL.add(at(monday, "13:00"), 4, "hours") == at(monday, "17:00")
    # Friday 17:00 is not moved to Monday morning.
    assert CAL.add(at("2026-01-09", "13:00"), 4, "hours") == at("2026-01-09", "17:00")


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (("2026-01-05", "10:00"), 3, ("2026-01-05", "14:30")),  # across lunch
        (("2026-01-05", "06:00"), 1, ("2026-01-05", "08:00")),  # before opening
        (("2026-01-05", "12:00"), 1, ("2026-01-05", "14:00")),  # lunch break
        (("2026-01-05", "11:30"), 0, ("2026-01-05", "11:30")),  # a period's end is working time
        (("2026-01-05", "11:30"), 1, ("2026-01-05", "14:00")),
        (("2026-01-05", "17:00"), 1, ("2026-01-06", "08:00")),
        (("2026-01-05", "18:00"), 1, ("2026-01-06", "08:00")),
        (("2026-01-05", "18:00"), 0, ("2026-01-06", "07:00")),
        (("2026-01-10", "10:00"), 1, ("2026-01-12", "08:00")),  # Saturday
        (("2026-01-09", "16:00"), 4, ("2026-01-12", "10:00")),
        (("2026-01-05", "07:00"), 17, ("2026-01-06", "17:00")),
    ],
)
def test_add_hours(start, hours, due):
    assert CAL.add(at(*start), hours, "hours") == at(*due)


@pytest.mark.parametrize(
    ("start", "amount", "unit", "with_rule", "without_rule"),
    [
        (("2026-01-05", "14:59"), 1, "days", ("2026-01-06", "14:59"), ("2026-01-06", "14:59")),
        (("2026-01-05", "15:00"), 1, "days", ("2026-01-06", "17:00"), ("2026-01-06", "15:00")),
        (("2026-01-05", "16:30"), 0, "days", ("2026-01-06", "07:00"), ("2026-01-05", "16:30")),
        (("2026-01-09", "16:00"), 4, "hours", ("2026-01-12", "11:00"), ("2026-01-12", "10:00")),
        (("2026-01-09", "15:30"), 1, "hours", ("2026-01-12", "08:00"), ("2026-01-09", "16:30")),
        (("2026-01-10", "09:00"), 1, "hours", ("2026-01-12", "08:00"), ("2026-01-12", "08:00")),  # Saturday
        (("2026-02-13", "15:00"), 1, "days", ("2026-02-23", "17:00"), ("2026-02-23", "15:00")),  # before Tết
        (("2026-01-05", "06:00"), 1, "hours", ("2026-01-05", "08:00"), ("2026-01-05", "08:00")),
    ],
)
def test_15h_rule(start, amount, unit, with_rule, without_rule):
    assert CAL.add(at(*start), amount, unit, after_15h_rule=True) == at(*with_rule)
    assert CAL.add(at(*start), amount, unit) == at(*without_rule)


def test_15h_is_local_time_and_results_are_in_vietnam_time():
    utc = ZoneInfo("UTC")
    start = at("2026-01-05", "08:00", tz=utc)  # 15:00 in Vietnam
    result = CAL.add(start, 1, "days", after_15h_rule=True)
    assert result == at("2026-01-06", "17:00") and result.utcoffset() == timedelta(hours=7)
    assert str(result.tzinfo) == "Asia/Ho_Chi_Minh"
    assert CAL.add(at("2026-01-05", "07:59", tz=utc), 1, "days", after_15h_rule=True) == at("2026-01-06", "14:59")


def test_agency_hours():
    cal = WorkCalendar(hours=WorkingHours.from_json([["08:00", "12:00"]]))
    assert cal.hours.day_length == timedelta(hours=4)
    assert cal.add(at("2026-01-05", "08:00"), 1, "days") == at("2026-01-05", "12:00")
    assert cal.add(at("2026-01-05", "10:00"), 1, "days") == at("2026-01-06", "10:00")
    assert cal.add(at("2026-01-05", "13:00"), 1, "hours") == at("2026-01-06", "09:00")


def test_sixty_days_step_by_days_and_count_working_days():
    start = at("2026-01-05", "07:00")
    working = [d for d in days("2026-01-05", "2026-06-30") if CAL.is_working_day(d)]
    assert CAL.add(start, 60, "days") == datetime.combine(working[59], time(17), tzinfo=VIETNAM)
    began = clock.perf_counter()
    ten_years = CAL.add(start, 3650, "days")
    assert clock.perf_counter() - began < 0.5  # stepping minute by minute would take many seconds
    assert CAL.working_time_between(start, ten_years) == 3650 * CAL.hours.day_length


# Working time between two moments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("2026-01-05", "07:00"), ("2026-01-06", "07:00"), timedelta(hours=8, minutes=30)),
        (("2026-01-05", "11:00"), ("2026-01-05", "13:30"), timedelta(hours=1)),
        (("2026-01-09", "16:00"), ("2026-01-12", "08:00"), timedelta(hours=2)),
        (("2026-01-10", "08:00"), ("2026-01-11", "17:00"), timedelta()),  # weekend
        (("2026-02-13", "07:00"), ("2026-02-24", "07:00"), timedelta(hours=17)),  # Tết
        (("2026-01-06", "08:00"), ("2026-01-05", "08:00"), timedelta()),  # reversed
        (("2026-01-05", "08:00"), ("2026-01-05", "08:00"), timedelta()),
    ],
)
def test_working_time_between(a, b, expected):
    assert CAL.working_time_between(at(*a), at(*b)) == expected


# Validation ------------------------------------------------------------------------------------------------------


def test_working_hours_default_and_json():
    # 07:00–11:30 and 13:00–17:00 are 4 h 30 min + 4 h: one working day of these hours is 8 h 30 min.
    assert WorkingHours().day_length == timedelta(hours=8, minutes=30)
    assert WorkingHours.from_json([["07:00", "11:00"], ["13:00", "17:00"]]).day_length == timedelta(hours=8)
    assert WorkingHours.from_json([["07:00", "11:30"], ["13:00", "17:00"]]) == WorkingHours()
    assert WorkingHours.from_json([["07:30", "11:30"], ["13:30", "17:30"]]).day_length == timedelta(hours=8)
    assert WorkingHours().to_json() == [["07:00", "11:30"], ["13:00", "17:00"]]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([["13:00", "17:00"], ["07:00", "11:30"]], "đứng trước khoảng liền trước"),
        ([["07:00", "12:00"], ["11:30", "17:00"]], "trùng hoặc đứng trước"),
        ([["11:30", "07:00"]], "phải bắt đầu trước khi kết thúc"),
        ([["07:00", "07:00"]], "phải bắt đầu trước khi kết thúc"),
        ([["7h", "11:30"]], "HH:MM"),
        ([["07:00", "24:00"]], "HH:MM"),
        ([["07:00"]], "hai mốc giờ"),
        ([], "ít nhất một khoảng"),
        ("07:00-17:00", "danh sách các khoảng"),
    ],
)
def test_working_hours_are_validated(value, message):
    with pytest.raises(ValidationFailed, match=message):
        WorkingHours.from_json(value)


@pytest.mark.parametrize(
    ("start", "amount", "unit", "message"),
    [
        (datetime(2026, 1, 5, 8), 1, "days", "không có múi giờ"),  # naive
        (at("2026-01-05", "08:00"), -1, "days", "không âm"),
        (at("2026-01-05", "08:00"), Decimal("NaN"), "hours", "không âm"),
        (at("2026-01-05", "08:00"), "1", "days", "phải là số"),
        (at("2026-01-05", "08:00"), True, "days", "phải là số"),
        (at("2026-01-05", "08:00"), 1, "weeks", "ngày hoặc giờ"),
    ],
)
def test_add_rejects_bad_input(start, amount, unit, message):
    with pytest.raises(ValidationFailed, match=message):
        CAL.add(start, amount, unit)


def test_naive_datetimes_are_refused_everywhere():
    naive = datetime(2026, 1, 5, 8)
    with pytest.raises(ValidationFailed):
        CAL.working_time_between(naive, at("2026-01-06"))
    with pytest.raises(ValidationFailed):
        CAL.skipped_days(at("2026-01-04"), naive)


# Properties ------------------------------------------------------------------------------------------------------

starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(VIETNAM))
amounts = st.one_of(
    st.tuples(st.integers(0, 200), st.just("hours")),
    st.tuples(st.integers(0, 60), st.just("days")),
)
PROPERTY = settings(max_examples=200, deadline=None)


def in_working_time(moment: datetime) -> bool:
    local = moment.astimezone(VIETNAM)
    return (
        moment.utcoffset() == timedelta(hours=7)
        and CAL.is_working_day(local.date())
        and any(start <= local.time() <= end for start, end in WorkingHours().periods)
    )


@PROPERTY
@given(start=starts, amount=amounts, rule=st.booleans())
def test_property_result_is_in_working_time(start, amount, rule):
    assert in_working_time(CAL.add(start, *amount, after_15h_rule=rule))


@PROPERTY
@given(s1=starts, s2=starts, amount=amounts, rule=st.booleans())
def test_property_monotonic_in_start(s1, s2, amount, rule):
    s1, s2 = sorted([s1, s2])
    assert CAL.add(s1, *amount, after_15h_rule=rule) <= CAL.add(s2, *amount, after_15h_rule=rule)


@PROPERTY
@given(start=starts, a=st.integers(0, 200), b=st.integers(0, 200), unit=st.sampled_from(["hours", "days"]))
def test_property_monotonic_in_amount(start, a, b, unit):
    a, b = sorted([a, b])
    assert CAL.add(start, a, unit) <= CAL.add(start, b, unit)


@PROPERTY
@given(start=starts, a=st.integers(0, 60), b=st.integers(0, 60), unit=st.sampled_from(["hours", "days"]))
def test_property_additive(start, a, b, unit):
    assert CAL.add(CAL.add(start, a, unit), b, unit) == CAL.add(start, a + b, unit)


@PROPERTY
@given(start=starts, hours=st.integers(0, 200))
def test_property_working_time_between_inverts_add(start, hours):
    start = CAL.add(start, 0, "hours")  # in working time
    due = CAL.add(start, hours, "hours")
    assert CAL.working_time_between(start, due) == timedelta(hours=hours)
    if hours:  # the earliest such moment: a minute earlier is not enough
        assert CAL.working_time_between(start, due - timedelta(minutes=1)) < timedelta(hours=hours)


# The province's overrides from the database --------------------------------------------------------------------


@pytest.mark.django_db
def test_calendar_for_loads_overrides_in_one_query(django_assert_num_queries):
    CalendarOverride.objects.create(date=date(2026, 1, 7), kind=CalendarOverride.Kind.OFF, reason="Bão số 1")
    CalendarOverride.objects.create(date=date(2026, 1, 10), kind=CalendarOverride.Kind.WORK)
    with django_assert_num_queries(1):
        cal = calendar_for()
    assert cal.extra_days_off == {date(2026, 1, 7)} and cal.extra_work_days == {date(2026, 1, 10)}
    assert not cal.is_working_day(date(2026, 1, 7)) and cal.is_working_day(date(2026, 1, 10))
    assert cal.hours == WorkingHours()
    assert calendar_for(working_hours=[["08:00", "12:00"]]).hours.day_length == timedelta(hours=4)
    assert str(CalendarOverride.objects.get(date=date(2026, 1, 10))) == "2026-01-10 " + str(
        CalendarOverride.Kind.WORK.label
    )


# The API -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def assert_error(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"} and body["code"] == code and body["message"]
    return body


@pytest.mark.django_db
def test_api_due_date_over_a_weekend(api):
    response = api.get(URL, {"start": "2026-01-09T10:00:00+07:00", "days": "1"})
    assert response.status_code == 200, response.content
    assert response.json() == {"due": "2026-01-12T10:00:00+07:00", "skipped_days": ["2026-01-10", "2026-01-11"]}


@pytest.mark.django_db
def test_api_hours_rule_and_time_zones(api):
    assert api.get(URL, {"start": "2026-01-09T10:00:00+07:00", "hours": "3"}).json() == {
        "due": "2026-01-09T14:30:00+07:00",
        "skipped_days": [],
    }
    late = {"start": "2026-01-09T15:30:00+07:00", "hours": "1"}
    assert api.get(URL, late).json()["due"] == "2026-01-09T16:30:00+07:00"
    assert api.get(URL, {**late, "after_15h_rule": "true"}).json()["due"] == "2026-01-12T08:00:00+07:00"
    # A naive start is Vietnam time; other offsets are converted; an unencoded "+" arrives as a space.
    for start in ("2026-01-09T10:00:00", "2026-01-09T03:00:00Z", "2026-01-09T10:00:00 07:00"):
        assert api.get(URL, {"start": start, "days": "1"}).json()["due"] == "2026-01-12T10:00:00+07:00", start


@pytest.mark.django_db
def test_api_uses_the_agency_hours_and_the_overrides(api):
    agency = Agency.objects.get(key="ubnd_30307")
    query = {"start": "2026-01-05T08:00:00+07:00", "days": "1", "agency": agency.identifier}
    assert api.get(URL, query).json()["due"] == "2026-01-06T08:00:00+07:00"
    Agency.objects.filter(pk=agency.pk).update(working_hours=[["08:00", "12:00"]])
    assert api.get(URL, query).json()["due"] == "2026-01-05T12:00:00+07:00"
    CalendarOverride.objects.create(date=date(2026, 1, 6), kind=CalendarOverride.Kind.OFF)
    assert api.get(URL, {**query, "days": "2"}).json() == {
        "due": "2026-01-07T12:00:00+07:00",
        "skipped_days": ["2026-01-06"],
    }


@pytest.mark.django_db
def test_api_unknown_agency_is_404(api):
    response = api.get(URL, {"start": "2026-01-05T08:00:00+07:00", "days": "1", "agency": "000.00.00.H99"})
    assert "000.00.00.H99" in assert_error(response, 404, "not_found")["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-01-05T08:00:00+07:00"}, "non_field_errors"),
        ({"start": "2026-01-05T08:00:00+07:00", "days": "1", "hours": "2"}, "non_field_errors"),
        ({"start": "2026-01-05T08:00:00+07:00", "days": "0"}, "days"),
        ({"start": "2026-01-05T08:00:00+07:00", "hours": "-1"}, "hours"),
        ({"start": "2026-01-05T08:00:00+07:00", "days": "3651"}, "days"),
        ({"start": "2026-01-05T08:00:00+07:00", "days": "many"}, "days"),
        ({"start": "next monday", "days": "1"}, "start"),
        ({"days": "1"}, "start"),
    ],
)
def test_api_rejects_bad_input(api, query, field):
    assert field in assert_error(api.get(URL, query), 400, "invalid")["detail"]


@pytest.mark.django_db
def test_api_accepts_the_largest_deadline(api):
    response = api.get(URL, {"start": "2026-01-05T07:00:00+07:00", "days": "3650"})
    assert response.status_code == 200 and response.json()["due"].endswith("T17:00:00+07:00")


def test_api_schema_documents_parameters_and_response():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"start", "days", "hours", "after_15h_rule", "agency"}
    assert next(p for p in operation["parameters"] if p["name"] == "start")["required"] is True
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]) == {"due", "skipped_days"}


def test_the_clock_pauses_while_waiting_for_the_applicant_and_the_appointment_moves():
    # Due Friday 2026-11-27 17:00, paused Wednesday 25th 10:00 with 22 h 30 of working time left, resumed Monday 30th.
    appointment = at("2026-11-27", "17:00")
    paused, resumed = at("2026-11-25", "10:00"), at("2026-11-30", "09:00")
    left = CAL.working_time_between(paused, appointment)
    moved = CAL.resume(appointment=appointment, paused_at=paused, resumed_at=resumed)
    assert CAL.working_time_between(resumed, moved) == left
    assert moved == at("2026-12-02", "16:00")
    # Resuming at the same moment changes nothing.
    assert CAL.resume(appointment=appointment, paused_at=paused, resumed_at=paused) == appointment
