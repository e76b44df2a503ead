from datetime import date

from .calendar import WorkCalendar, WorkingHours
from .models import CalendarOverride


def calendar_for(*, working_hours: list[list[str]] | None = None) -> WorkCalendar:
    """The working-time calendar with the province's overrides (one query) and ``working_hours``, an
    ``Agency.working_hours`` value; ``None`` means the default 07:00–11:30, 13:00–17:00."""
    off: set[date] = set()
    work: set[date] = set()
    for day, kind in CalendarOverride.objects.values_list("date", "kind"):
        (off if kind == CalendarOverride.Kind.OFF else work).add(day)
    hours = WorkingHours() if working_hours is None else WorkingHours.from_json(working_hours)
    return WorkCalendar(hours=hours, extra_days_off=frozenset(off), extra_work_days=frozenset(work))
