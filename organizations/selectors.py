"""Reads on the organisation."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound

from .models import AdministrativeUnit, Agency, AgencyName, Counter, FocalOfficer, Role, Staff, Succession


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


def agency_name_on(*, agency: Agency, day: dt.date) -> tuple[str, str]:
    """The agency's name and identifier as they were on ``day`` (a later rename keeps the former ones)."""
    former = (
        AgencyName.objects.filter(agency=agency, valid_until__gt=day)
        .order_by("valid_until")
        .values_list("name", "identifier")
        .first()
    )
    return former or (agency.name, agency.identifier)


def agency_current(*, identifier: str) -> Agency | None:
    """The agency that carries on today the work of the agency with this identifier, current or former: a renamed
    agency's old identifier finds it, an ended agency's finds its main successor."""
    agency = Agency.objects.filter(identifier=identifier).first()
    if agency is None:
        agency = Agency.objects.filter(past_names__identifier=identifier).first()
    seen: set[int] = set()
    while agency is not None and agency.valid_until is not None and agency.pk not in seen:
        seen.add(agency.pk)
        succession = (
            Succession.objects.filter(
                predecessor=agency, main=True, successor__isnull=False, reorganisation__state="applied"
            )
            .select_related("successor")
            .first()
        )
        if succession is None:
            break
        agency = succession.successor
    return agency


def staff_for_user(*, user) -> Staff | None:  # type: ignore[no-untyped-def]
    """The signed-in user's place in the organisation, with what every officer page needs, or None."""
    if not user.is_authenticated:
        return None
    return Staff.objects.select_related("agency", "department", "counter", "user").filter(user=user).first()


def counters_of(*, agency_id: int) -> QuerySet[Counter]:
    """The reception counters an agency hosts, by name."""
    return Counter.objects.filter(agency_id=agency_id).order_by("name").only("pk", "name")


def focal_officers_for(*, actor: Staff, agency_id: int | None = None) -> QuerySet[FocalOfficer]:
    """The current focal officers an administrator keeps: every agency's for province administrators (or one
    agency's, with ``agency_id``), their own agency's for an agency administrator, none for anyone else."""
    qs = FocalOfficer.objects.filter(valid_until__isnull=True).select_related("agency", "staff__user")
    if actor.role == Role.AGENCY_ADMIN:
        qs = qs.filter(agency_id=actor.agency_id)
    elif actor.role != Role.PROVINCE_ADMIN:
        return qs.none()
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    return qs.order_by("agency__name", "full_name", "pk")


def access_focal_officer_for(*, actor: Staff, pk: int) -> FocalOfficer:
    """One current focal officer the actor keeps (focal_officers_for), or NotFound."""
    officer = focal_officers_for(actor=actor).filter(pk=pk).first()
    if officer is None:
        raise NotFound(_("No focal officer you keep has this number."))
    return officer
