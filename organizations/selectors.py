"""Reads on the organisation."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from .models import AdministrativeUnit, Agency, Counter, Staff


def agency_list(
    *, level: str | None = None, unit_code: int | None = None, on: dt.date | None = None
) -> QuerySet[Agency]:
    qs = Agency.objects.select_related("parent", "unit").order_by("level", "identifier")
    if on is not None:
        qs = qs.valid_on(on)
    if level:
        qs = qs.filter(level=level)
    if unit_code is not None:
        qs = qs.filter(unit__code=unit_code)
    return qs


def commune_list(*, on: dt.date | None = None) -> QuerySet[AdministrativeUnit]:
    return (
        AdministrativeUnit.objects.valid_on(on or timezone.localdate())
        .exclude(kind=AdministrativeUnit.Kind.PROVINCE)
        .order_by("name")
    )


def staff_for_user(*, user) -> Staff | None:  # type: ignore[no-untyped-def]
    """The signed-in user's place in the organisation, with what every officer page needs, or None."""
    if not user.is_authenticated:
        return None
    return Staff.objects.select_related("agency", "department", "counter", "user").filter(user=user).first()


def counters_of(*, agency_id: int) -> QuerySet[Counter]:
    """The reception counters an agency hosts, by name."""
    return Counter.objects.filter(agency_id=agency_id).order_by("name").only("pk", "name")
