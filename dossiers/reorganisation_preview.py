"""Reads of reorganisations for the administrators' pages (docs/reorganisation-pages.md): the list, one
reorganisation, the agencies and departments a form offers, and the preview of what applying one will do.

The preview is read-only and follows the rules of ``organizations.reorganisation.agencies_apply`` and
``procedures.services.competences_succeed``: a procedure goes to the successor that names its code, else to the one
that takes its handling department (department kinds), else to the main successor; the open dossiers of a procedure
that moves go with it (``dossiers.reorganisation.dossiers_succeed``)."""

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from organizations.models import AdministrativeUnit, Agency, Department, Reorganisation, Succession
from procedures.models import Competence

from .models import CLOSED, Dossier

Kind = Reorganisation.Kind

# Why a procedure goes where it goes (the preview's ``rule``).
NAMED, DEPARTMENT, MAIN, ENDS = "named", "department", "main", "ends"


def _valid_after(day: dt.date) -> Q:
    return Q(valid_until__isnull=True) | Q(valid_until__gt=day)


def reorganisations_list() -> QuerySet[Reorganisation]:
    """Every reorganisation, planned and applied, latest effective date first, with its agencies."""
    successions = Succession.objects.select_related("predecessor", "successor").order_by("pk")
    return Reorganisation.objects.prefetch_related(Prefetch("successions", queryset=successions)).order_by(
        "-effective_date", "-pk"
    )


def reorganisation_get(*, reorganisation_id: int) -> Reorganisation:
    reorganisation = reorganisations_list().select_related("created_by").filter(pk=reorganisation_id).first()
    if reorganisation is None:
        raise NotFound(_("No such reorganisation."))
    return reorganisation


def agencies_for_reorganisation(*, today: dt.date | None = None) -> list[Agency]:
    """The agencies a reorganisation can name: those not ended by today (including those beginning later, e.g. the
    new agency of a planned merger), provincial ones first."""
    today = today or timezone.localdate()
    return list(
        Agency.objects.filter(_valid_after(today)).only("pk", "name", "level", "valid_from").order_by("level", "name")
    )


def units_for_reorganisation(*, today: dt.date | None = None) -> list[AdministrativeUnit]:
    """The administrative units a new agency can serve: the province first, then the communes by name."""
    today = today or timezone.localdate()
    units = AdministrativeUnit.objects.valid_on(today).only("pk", "name", "kind")
    return sorted(units, key=lambda u: (u.kind != AdministrativeUnit.Kind.PROVINCE, u.name))


def departments_for_reorganisation(*, agency_id: int | None, today: dt.date | None = None) -> list[Department]:
    """The departments of an agency not ended by today (what a split shares out, what can move)."""
    if agency_id is None:
        return []
    today = today or timezone.localdate()
    return list(
        Department.objects.filter(agency_id=agency_id)
        .filter(_valid_after(today))
        .only("pk", "agency_id", "code", "name", "kind")
        .order_by("name")
    )


def reorganisation_preview(*, reorganisation: Reorganisation) -> dict[str, Any]:
    """What applying ``reorganisation`` will do, computed from today's data without changing anything.

    Returns ``{"predecessors": [...], "open_dossiers": n, "blocked": [...]}``; each predecessor is
    ``{"agency", "ends", "successors", "departments": [{"department", "to"}], "procedures": [{"procedure", "to",
    "rule", "already", "open_dossiers"}], "staying": n, "open_dossiers": n}`` where ``to`` is an Agency or None (the
    procedure ends with its agency), and ``blocked`` lists the procedures that end while dossiers are open (applying
    is then refused). A rename moves nothing."""
    day = reorganisation.effective_date
    if "successions" in getattr(reorganisation, "_prefetched_objects_cache", {}):
        successions = list(reorganisation.successions.all())  # with their agencies (reorganisation_get)
    else:
        successions = list(reorganisation.successions.select_related("predecessor", "successor").order_by("pk"))
    result: dict[str, Any] = {"predecessors": [], "open_dossiers": 0, "blocked": []}
    if reorganisation.kind == Kind.RENAME or not successions:
        return result
    ends = reorganisation.kind != Kind.MOVE_DEPARTMENT
    groups: dict[int, list[Succession]] = defaultdict(list)
    for succession in successions:
        groups[succession.predecessor_id].append(succession)
    agencies = {s.predecessor_id: s.predecessor for s in successions}
    agencies.update({s.successor_id: s.successor for s in successions if s.successor_id})

    # The same rows, in the same order, as agencies_apply and competences_succeed read.
    departments: dict[int, list[Department]] = defaultdict(list)
    for department in (
        Department.objects.filter(agency_id__in=groups).filter(_valid_after(day)).order_by("agency", "name")
    ):
        departments[department.agency_id].append(department)
    competences: dict[int, list[Competence]] = defaultdict(list)
    for competence in (
        Competence.objects.filter(agency_id__in=groups)
        .filter(_valid_after(day))
        .select_related("procedure")
        .order_by("procedure__code")
    ):
        competences[competence.agency_id].append(competence)
    open_counts = {
        (row["agency_id"], row["procedure_id"]): row["n"]
        for row in Dossier.objects.filter(agency_id__in=groups)
        .exclude(status__in=CLOSED)
        .values("agency_id", "procedure_id")
        .annotate(n=Count("pk"))
    }
    successor_ids = {s.successor_id for s in successions if s.successor_id}
    # Competent before the date (one beginning on it was loaded ahead of the decision: still to configure).
    already = set(
        Competence.objects.filter(agency_id__in=successor_ids, valid_from__lt=day)
        .filter(_valid_after(day))
        .values_list("agency_id", "procedure_id")
    )

    for predecessor_id, group in groups.items():
        main = next((s for s in group if s.main and s.successor_id), None)
        department_rows, moved_kinds, kept_kinds = [], {}, set()
        for department in departments[predecessor_id]:
            taker = next((s for s in group if department.code in s.department_codes), None)
            if taker is None and ends:
                taker = main
            if taker is None or taker.successor_id is None:
                department_rows.append({"department": department, "to": None})
                kept_kinds.add(department.kind)
                continue
            department_rows.append({"department": department, "to": agencies[taker.successor_id]})
            moved_kinds[department.kind] = taker.successor_id
        if ends:
            kept_kinds = set()
        kinds = {kind: to for kind, to in moved_kinds.items() if kind not in kept_kinds}

        rows, staying, moving_open = [], 0, 0
        for competence in competences[predecessor_id]:
            named = next((s for s in group if competence.procedure.code in s.procedure_codes), None)
            to: int | None
            if named is not None:
                to, rule = named.successor_id, NAMED
            elif competence.department_kind in kinds:
                to, rule = kinds[competence.department_kind], DEPARTMENT
            elif ends:
                to, rule = (main.successor_id, MAIN) if main is not None else (None, ENDS)
            else:
                staying += 1
                continue
            if to == predecessor_id:
                staying += 1
                continue
            n = open_counts.get((predecessor_id, competence.procedure_id), 0)
            row = {
                "procedure": competence.procedure,
                "to": agencies.get(to) if to is not None else None,
                "rule": rule if to is not None else ENDS,
                "already": (to, competence.procedure_id) in already,
                "open_dossiers": n,
            }
            rows.append(row)
            moving_open += n
            if to is None and n:
                result["blocked"].append({"agency": agencies[predecessor_id], **row})
        result["predecessors"].append(
            {
                "agency": agencies[predecessor_id],
                "ends": ends,
                "successors": [agencies[s.successor_id] for s in group if s.successor_id],
                "departments": department_rows,
                "procedures": rows,
                "staying": staying,
                "open_dossiers": moving_open,
            }
        )
        result["open_dossiers"] += moving_open
    return result
