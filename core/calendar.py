"""The working-time calendar: which days are worked, and what a deadline of N working days or hours means.

Days off are Saturdays, Sundays and the public holidays of the Labour Code (``holidays.VN``, which also knows the
lunar dates and the decreed make-up working Saturdays); the province adds or removes days as data
(``extra_days_off`` / ``extra_work_days``). One working day is the agency's working hours (commonly 8 h), so a
deadline of N days is N x ``day_length`` of working time counted through the agency's periods.

Times are handled as wall-clock times in ``tz``. Vietnam has no daylight saving time, so wall-clock differences are
real durations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from django.utils.translation import gettext as _

from core.errors import ValidationFailed

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# Same-day procedures: a dossier received at or after 15:00 counts from the next working day.
CUTOFF_15H = time(15, 0)
Unit = Literal["days", "hours"]
Period = tuple[time, time]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# A safety net against a data error (e.g. a whole year marked off): no real calendar has this many days off in a row.
_MAX_DAYS_OFF_IN_A_ROW = 366


@lru_cache(maxsize=64)
def public_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays, make-up working Saturdays/Sundays) of ``year`` according to ``holidays.VN``.

    A make-up working day may belong to a decision of a neighbouring year (2014-12-27 was worked for 2015-01-02), so
    the neighbours are populated too and only this year's dates are kept.
    """
    vn = holidays.VN(years=(year - 1, year, year + 1))
    days_off = frozenset(d for d in vn if d.year == year)
    make_up = frozenset(d for d in vn.weekend_workdays if d.year == year)
    return days_off, make_up


@dataclass(frozen=True)
class WorkingHours:
    """The working periods of one day, in order, e.g. 07:00–11:30 and 13:00–17:00."""

    periods: tuple[Period, ...] = ((time(7, 0), time(11, 30)), (time(13, 0), time(17, 0)))

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValidationFailed(_("Working hours need at least one period."))
        previous_end: time | None = None
        for start, end in self.periods:
            if start >= end:
                raise ValidationFailed(
                    _("The working period %(start)s–%(end)s must start before it ends.")
                    % {"start": _hhmm(start), "end": _hhmm(end)}
                )
            if previous_end is not None and start < previous_end:
                raise ValidationFailed(
                    _("The working period %(start)s–%(end)s overlaps or precedes the period before it.")
                    % {"start": _hhmm(start), "end": _hhmm(end)}
                )
            previous_end = end

    @classmethod
    def from_json(cls, value: object) -> WorkingHours:
        """Parse ``[["07:00", "11:30"], ["13:00", "17:00"]]`` (the form stored on ``Agency.working_hours``)."""
        if not isinstance(value, list | tuple):
            raise ValidationFailed(_('Working hours must be a list of periods such as [["07:00", "11:30"]].'))
        periods = []
        for item in value:
            if not isinstance(item, list | tuple) or len(item) != 2:
                raise ValidationFailed(
                    _("Each working period must be a pair of times, not %(value)s.") % {"value": item}
                )
            periods.append((_parse_hhmm(item[0]), _parse_hhmm(item[1])))
        return cls(tuple(periods))

    def to_json(self) -> list[list[str]]:
        return [[_hhmm(start), _hhmm(end)] for start, end in self.periods]

    @property
    def day_length(self) -> timedelta:
        return sum((_duration(start, end) for start, end in self.periods), timedelta())


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _parse_hhmm(value: object) -> time:
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationFailed(_("%(value)s is not a time of day in the form HH:MM.") % {"value": value})
    return time(int(match[1]), int(match[2]))


def _duration(start: time, end: time) -> timedelta:
    day = date(2000, 1, 1)
    return datetime.combine(day, end) - datetime.combine(day, start)


@dataclass(frozen=True)
class WorkCalendar:
    hours: WorkingHours = field(default_factory=WorkingHours)
    extra_days_off: frozenset[date] = frozenset()
    extra_work_days: frozenset[date] = frozenset()
    tz: ZoneInfo = VIETNAM

    def __post_init__(self) -> None:
        if both := self.extra_days_off & self.extra_work_days:
            raise ValidationFailed(
                _("A day cannot be both a day off and a working day: %(days)s.")
                % {"days": ", ".join(d.isoformat() for d in sorted(both))}
            )

    # Days ---------------------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            raise TypeError("is_working_day() takes a date, not a datetime")
        if d in self.extra_days_off:
            return False
        if d in self.extra_work_days:
            return True
        days_off, make_up = public_days(d.year)
        if d.weekday() >= 5:
            return d in make_up
        return d not in days_off

    def skipped_days(self, start: datetime, due: datetime) -> list[date]:
        """The days off strictly between the start's date and the due date's date (both local)."""
        first = self._local(start).date() + timedelta(days=1)
        last = self._local(due).date()
        return [d for d in _dates(first, last) if not self.is_working_day(d)]

    # Working time -------------------------------------------------------------------------------------------

    def add(self, start: datetime, amount: int | Decimal, unit: Unit, *, after_15h_rule: bool = False) -> datetime:
        """The moment ``amount`` days or hours of working time after ``start``.

        The start moves forward to working time first (with ``after_15h_rule``, a start at or after 15:00 or on a
        day off moves to the next working day's first period). A result exactly at the end of a period stays there
        (17:00), it does not jump to the next morning.
        """
        work = self._work(amount, unit)
        local = self._local(start)
        if after_15h_rule and (not self.is_working_day(local.date()) or local.time() >= CUTOFF_15H):
            moment = self._day_periods(self._next_working_day(local.date()))[0][0]
        else:
            moment = self._snap(local)
        if not work:
            return moment

        day = moment.date()
        remaining = work
        while True:
            for period_start, period_end in self._day_periods(day):
                if period_end <= moment:
                    continue
                begin = max(period_start, moment)
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            # Whole working days at once, so 60 days are 60 steps, not 60 x 8 x 60 minutes.
            day = self._next_working_day(day)
            while remaining > self.hours.day_length:
                remaining -= self.hours.day_length
                day = self._next_working_day(day)
            moment = self._day_periods(day)[0][0]

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time in [a, b); zero if ``b`` is not after ``a``."""
        a, b = self._local(a), self._local(b)
        total = timedelta()
        if b <= a:
            return total
        for day in _dates(a.date(), b.date()):
            for period_start, period_end in self._day_periods(day):
                begin, end = max(period_start, a), min(period_end, b)
                if begin < end:
                    total += end - begin
        return total

    def resume(self, *, appointment: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
        """The appointment after a pause: the working time that was left when the clock stopped (waiting for
        the applicant's supplement or payment), counted again from the moment it restarts."""
        left = self.working_time_between(paused_at, appointment)
        return self.add(resumed_at, Decimal(left.total_seconds()) / 3600, "hours")

    # Helpers ------------------------------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if not isinstance(moment, datetime):
            raise ValidationFailed(_("A date and time is required."))
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationFailed(_("The time %(value)s has no time zone.") % {"value": moment.isoformat()})
        return moment.astimezone(self.tz)

    def _work(self, amount: int | Decimal, unit: str) -> timedelta:
        if unit == "days":
            length = self.hours.day_length
        elif unit == "hours":
            length = timedelta(hours=1)
        else:
            raise ValidationFailed(_("The unit must be days or hours, not %(unit)s.") % {"unit": unit})
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal | float):
            raise ValidationFailed(_("The amount must be a number, not %(value)s.") % {"value": amount})
        value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
        if not value.is_finite() or value < 0:
            raise ValidationFailed(_("The amount must be a number that is not negative."))
        microseconds = (value * (length // timedelta(microseconds=1))).to_integral_value(ROUND_HALF_UP)
        return timedelta(microseconds=int(microseconds))

    def _day_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, start, tzinfo=self.tz), datetime.combine(day, end, tzinfo=self.tz))
            for start, end in self.hours.periods
        ]

    def _next_working_day(self, day: date) -> date:
        for offset in range(1, _MAX_DAYS_OFF_IN_A_ROW + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValidationFailed(
            _("There is no working day within a year after %(day)s; check the calendar overrides.")
            % {"day": day.isoformat()}
        )

    def _snap(self, moment: datetime) -> datetime:
        """The first moment of working time at or after ``moment``; a period's end counts as working time."""
        for period_start, period_end in self._day_periods(moment.date()):
            if moment <= period_end:
                return max(moment, period_start)
        return self._day_periods(self._next_working_day(moment.date()))[0][0]


def _dates(first: date, last: date) -> Iterator[date]:
    """Dates from ``first`` to ``last``, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)
