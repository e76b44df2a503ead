"""Reads on the procedure catalogue."""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, Prefetch, Q, QuerySet, Value
from django.db.models.fields import FloatField
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.text import words
from organizations.selectors import agency_current

from .models import Competence, Component, Field, Procedure

_CODE = re.compile(r"^\d+\.\d+$")
# ts_rank normalisation 1: divide by 1 + log(document length), so "Đăng ký khai sinh" ranks above the longer
# procedures that merely contain the same words.
_RANK_NORMALISATION = 1


def procedure_search(
    *,
    q: str = "",
    agency: str | None = None,
    field: str | None = None,
    level: str | None = None,
    online_level: str | None = None,
    include_closed: bool = False,
) -> QuerySet[Procedure]:
    """Published procedures matching ``q`` regardless of case and diacritics, most relevant first.

    ``agency`` is an electronic identifier, ``field`` a field code.
    """
    qs = Procedure.objects.select_related("field")
    if not include_closed:
        qs = qs.published()
    if agency:
        # A former identifier (renamed or merged agency) finds the procedures of the agency that carries them on.
        current = agency_current(identifier=agency)
        qs = qs.filter(competences__agency=current) if current else qs.none()
    if field:
        qs = qs.filter(field__code=field)
    if level:
        qs = qs.filter(level=level)
    if online_level:
        qs = qs.filter(online_level=online_level)

    terms = words(q or "")
    if not terms:
        return qs.annotate(rank=Value(0.0, output_field=FloatField())).order_by("name", "code")
    # Every word must match, each as a prefix, so that a query typed halfway ("khai si") already finds.
    # Words are \w+ only, so the raw tsquery cannot be malformed.
    query = SearchQuery(" & ".join(f"{term}:*" for term in terms), config="simple", search_type="raw")
    match = Q(search_vector=query)
    stripped = (q or "").strip()
    if _CODE.match(stripped):
        match |= Q(code__startswith=stripped)
    return (
        qs.filter(match)
        .annotate(rank=SearchRank(F("search_vector"), query, normalization=Value(_RANK_NORMALISATION)))
        .order_by("-rank", "name", "code")
    )


def procedure_get(*, code: str, include_closed: bool = False) -> Procedure:
    """One procedure with everything its page shows, in a fixed number of queries."""
    qs = Procedure.objects.select_related("field").prefetch_related(
        Prefetch("components", queryset=Component.objects.order_by("order", "id")),
        "fees",
        Prefetch(
            "competences",
            queryset=Competence.objects.select_related("agency").prefetch_related("counters").order_by("agency__name"),
        ),
    )
    if not include_closed:
        qs = qs.published()
    procedure = qs.filter(code=code).first()
    if procedure is None:
        raise NotFound(_("No procedure has the code “%(code)s”.") % {"code": code}, code="procedure_not_found")
    return procedure


def field_list() -> QuerySet[Field]:
    return Field.objects.order_by("name")


def procedures_of_agency(*, agency_id: int) -> QuerySet[Procedure]:
    """The procedures an agency is competent for, by name (names only: for filters and pickers)."""
    return Procedure.objects.filter(competences__agency_id=agency_id).order_by("name").only("pk", "name")
