"""Writes on the procedure catalogue."""

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import PermissionDenied, ValidationFailed
from organizations.models import Agency, Counter, Staff
from organizations.reorganisation import Change
from organizations.services import LoadReport

from . import eforms
from .models import Competence, Component, Fee, Field, Procedure

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
COMMUNE = "commune"
# Where procedures are received: a commune's own one-stop counter, or the provincial service centre.
COUNTER = "tiep_nhan"
SERVICE_CENTRE = "ttpvhcc"


def procedure_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """Model values of a catalogue row in the shape of ``data/procedures.json``; keys the row lacks are left out.

    The field, the competences, the components and the fees are not plain values: the callers set them.
    """
    converters: dict[str, Callable[[Any], Any]] = {
        "code_is_illustrative": bool,
        "name": str,
        "level": str,
        "processing_time": _decimal,
        "time_unit": str,
        "target_time": lambda value: None if value is None else _decimal(value),
        "after_15h_rule": bool,
        "legal_basis": "\n".join,
        "steps": "\n".join,
        "result": str,
        "applicants": str,
        "online_level": str,
        "postal_allowed": bool,
    }
    return {name: convert(row[name]) for name, convert in converters.items() if name in row}


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def components_replace(*, procedure: Procedure, rows: list[dict[str, Any]], report: LoadReport | None = None) -> bool:
    """The procedure's components become ``rows``, in order; False (and nothing written) if they already are."""
    wanted = [
        (order, row["name"], row["required"], row.get("originals", 1), row.get("copies", 0), row.get("form") or "")
        for order, row in enumerate(rows, start=1)
    ]
    current = procedure.components.order_by("order").values_list(
        "order", "name", "required", "originals", "copies", "form_name"
    )
    if list(current) == wanted:
        return False
    for order, name, required, originals, copies, form_name in wanted:
        _component, created = Component.objects.update_or_create(
            procedure=procedure,
            order=order,
            defaults={
                "name": name,
                "required": required,
                "originals": originals,
                "copies": copies,
                "form_name": form_name,
            },
        )
        if report:
            report.add("components", created)
    procedure.components.filter(order__gt=len(rows)).delete()
    return True


def fees_replace(*, procedure: Procedure, rows: list[dict[str, Any]], report: LoadReport | None = None) -> bool:
    """The procedure's fees become ``rows`` (one per name); False (and nothing written) if they already are."""
    wanted = sorted((row["name"], row["amount"], row.get("note", "")) for row in rows)
    if sorted(procedure.fees.values_list("name", "amount", "note")) == wanted:
        return False
    keep = []
    for name, amount, note in wanted:
        fee, created = Fee.objects.update_or_create(
            procedure=procedure, name=name, defaults={"amount": amount, "note": note}
        )
        keep.append(fee.pk)
        if report:
            report.add("fees", created)
    procedure.fees.exclude(pk__in=keep).delete()
    return True


def reception_counters() -> dict[int, Counter]:
    """The counter that receives each agency's procedures, by agency id: a commune's own one-stop counter, and for
    a provincial agency its counter at the provincial service centre (the counter's code is the agency's key)."""
    counters = {c.agency_id: c for c in Counter.objects.filter(agency__level=Agency.Level.COMMUNE, code=COUNTER)}
    at_centre = {c.code: c for c in Counter.objects.filter(agency__key=SERVICE_CENTRE)}
    for agency in Agency.objects.filter(level=Agency.Level.PROVINCE, key__in=list(at_centre)):
        counters[agency.pk] = at_centre[agency.key]
    return counters


def competences_add(
    *,
    procedure: Procedure,
    agencies: list[Agency],
    counters: dict[int, Counter],
    department_kind: str = "",
    valid_from: dt.date,
) -> int:
    """Competences the procedure lacks among ``agencies``, each with its reception counter; how many were added.

    Existing competences are left as they are: ending one is a decision of the province, never of a load.
    """
    existing = set(procedure.competences.values_list("agency_id", flat=True))
    new = Competence.objects.bulk_create(
        [
            Competence(procedure=procedure, agency=agency, department_kind=department_kind, valid_from=valid_from)
            for agency in agencies
            if agency.pk not in existing
        ]
    )
    through = Competence.counters.through
    through.objects.bulk_create(
        [
            through(competence_id=competence.pk, counter_id=counters[competence.agency_id].pk)
            for competence in new
            if competence.agency_id in counters
        ]
    )
    return len(new)


def component_template_render(*, component: Component) -> None:
    """A blank form for a component that names an official template.

    The demo has no scans of the official forms, so it renders a blank with the form's title and the
    applicant's usual fields, marked as a sample; the admin replaces the file with the official one.
    """
    from weasyprint import HTML  # heavy import, only when rendering

    html = render_to_string("procedures/form_template.html", {"component": component, "procedure": component.procedure})
    pdf = HTML(string=html).write_pdf()
    component.template.save(f"mau-{component.procedure.code}-{component.order}.pdf", ContentFile(pdf), save=True)


@transaction.atomic
def catalogue_load(
    *, report: LoadReport | None = None, valid_from: dt.date = dt.date(2025, 7, 1), render_templates: bool = True
) -> LoadReport:
    """Fields, procedures, components, fees and competences from the data files; idempotent."""
    report = report or LoadReport()
    fields = {}
    for row in json.loads((DATA_DIR / "fields.json").read_text(encoding="utf-8")):
        fields[row["code"]], created = Field.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})
        report.add("fields", created)

    # Agencies of today only: an agency a reorganisation ended keeps its history and gets no new competence.
    existing = Agency.objects.valid_on(timezone.localdate())
    agencies = {a.key: a for a in existing.filter(level=Agency.Level.PROVINCE)}
    communes = list(existing.filter(level=Agency.Level.COMMUNE).order_by("identifier"))
    counters = reception_counters()

    for row in json.loads((DATA_DIR / "procedures.json").read_text(encoding="utf-8")):
        procedure, created = Procedure.objects.update_or_create(
            code=row["code"],
            defaults={
                **procedure_values({"target_time": None, "applicants": "", **row}),
                "field": fields[row["field"]],
                "status": Procedure.Status.PUBLISHED,
            },
        )
        report.add("procedures", created)
        components_replace(procedure=procedure, rows=row["components"], report=report)
        fees_replace(procedure=procedure, rows=row["fees"], report=report)
        # A provincial agency of the file that ended since: its successor took its competences.
        ended = row["agency"] != COMMUNE and row["agency"] not in agencies
        added = competences_add(
            procedure=procedure,
            agencies=[] if ended else communes if row["agency"] == COMMUNE else [agencies[row["agency"]]],
            counters=counters,
            department_kind=row["department_kind"],
            valid_from=valid_from,
        )
        report.created["competences"] = report.created.get("competences", 0) + added

    if render_templates:
        for component in Component.objects.select_related("procedure").exclude(form_name="").filter(template=""):
            component_template_render(component=component)
            report.add("form templates", True)
    return report


# eForms: each procedure's online form as data (procedures/eforms.py, docs/eforms.md)


@transaction.atomic
def procedure_form_set(*, procedure: Procedure, schema: dict[str, Any], by: Staff) -> Procedure:
    """The procedure's online form becomes ``schema`` (``{}``: no form). Only an administrator who may edit it
    (``eforms.procedures_for_form_editor``) saves it, and only a valid one: otherwise nothing is written.

    Dossiers keep the form data they were submitted with; a later form applies to new applications only.
    """
    if not eforms.procedures_for_form_editor(actor=by).filter(pk=procedure.pk).exists():
        raise PermissionDenied(
            _("Only province administrators, or those of the agency that resolves the procedure, edit its form.")
        )
    errors = eforms.schema_errors(schema)
    if errors:
        raise ValidationFailed(_("The online form has errors; nothing was saved."), detail={"form_schema": errors})
    locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
    locked.form_schema = schema
    locked.save(update_fields=["form_schema", "updated_at"])
    fields = len(schema.get("fields") or [])
    transaction.on_commit(
        lambda: logger.info("eform saved", extra={"procedure": locked.code, "staff": by.pk, "fields": fields})
    )
    return locked


@transaction.atomic
def eforms_load_demo(*, overwrite: bool = False) -> int:
    """The demo eForms of ``data/eforms/<code>.json`` on the procedures that have no form yet (all of them with
    ``overwrite``); how many forms were set. A second run sets nothing; a form an administrator edited stays."""
    count = 0
    for path in sorted(eforms.DATA_DIR.glob("*.json")):
        if path.name.startswith("_"):
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        errors = eforms.schema_errors(schema)
        if errors:
            raise ValueError(f"{path.name}: {errors}")
        procedure = Procedure.objects.select_for_update().filter(code=path.stem).first()
        if procedure is None or procedure.form_schema == schema or (procedure.form_schema and not overwrite):
            continue
        procedure.form_schema = schema
        procedure.save(update_fields=["form_schema", "updated_at"])
        count += 1
    return count


# Reorganisations (docs/reorganisation.md): competences and reception counters follow the agencies.


@dataclass
class Move:
    """A procedure that passed from one agency to another (``to`` None: it ended with its agency)."""

    procedure_id: int
    source: int
    to: int | None
    already: bool = False  # the successor was already competent for it


def counters_succeed(*, change: Change) -> dict[int, int]:
    """Reception counters of the ended agencies close and are taken over by their main successor's reception counter
    (created when a new agency has none: its own for a commune, one at the provincial service centre otherwise).
    Returns {closed counter: successor counter}."""
    receiving = reception_counters()
    taken: dict[int, int] = {}
    for predecessor_id in sorted(change.ended):
        own = list(Counter.objects.filter(agency_id=predecessor_id, is_active=True))
        at_centre = receiving.get(predecessor_id)
        closing = {c.pk: c for c in own}
        if at_centre is not None and at_centre.is_active:
            closing[at_centre.pk] = at_centre
        successor_id = change.main.get(predecessor_id)
        successor_counter = None
        if successor_id is not None:
            successor_counter = receiving.get(successor_id) or _reception_counter_create(successor_id)
            receiving[successor_id] = successor_counter
        for counter in closing.values():
            if successor_counter is not None and counter.pk == successor_counter.pk:
                continue
            counter.is_active = False
            counter.successor = successor_counter
            counter.save(update_fields=["is_active", "successor", "updated_at"])
            if successor_counter is not None:
                taken[counter.pk] = successor_counter.pk
                # Kept flat: counters that an earlier reorganisation gave to this one now point to its successor.
                Counter.objects.filter(successor=counter).update(successor=successor_counter)
    return taken


def _reception_counter_create(agency_id: int) -> Counter:
    agency = Agency.objects.get(pk=agency_id)
    label = agency.short_name or agency.name
    if agency.level == Agency.Level.COMMUNE:
        counter, _created = Counter.objects.get_or_create(
            agency=agency, code=COUNTER, defaults={"name": _("One-stop desk of %(agency)s") % {"agency": label}}
        )
        return counter
    centre = Agency.objects.get(key=SERVICE_CENTRE)
    counter, _created = Counter.objects.get_or_create(
        agency=centre, code=agency.key, defaults={"name": _("Counter of %(agency)s") % {"agency": label}}
    )
    return counter


def competences_succeed(*, change: Change) -> list[Move]:
    """Each competence of a predecessor goes to the successor that names the procedure, else to the one that took
    its handling department, else to the main successor; the old competence ends on the effective date (history),
    the successor's begins then, received at the successor's reception counter."""
    reorganisation = change.reorganisation
    day = reorganisation.effective_date
    receiving = reception_counters()
    moves: list[Move] = []
    by_predecessor: dict[int, list] = {}  # type: ignore[type-arg]
    for succession in change.successions:
        by_predecessor.setdefault(succession.predecessor_id, []).append(succession)
    for predecessor_id, group in by_predecessor.items():
        ends = predecessor_id in change.ended
        competences = (
            Competence.objects.select_for_update()
            .filter(agency_id=predecessor_id)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=day))
            .select_related("procedure")
        )
        for competence in competences:
            named = next((s for s in group if competence.procedure.code in s.procedure_codes), None)
            to: int | None
            if named is not None:
                to = named.successor_id
            elif (predecessor_id, competence.department_kind) in change.kinds:
                to = change.kinds[(predecessor_id, competence.department_kind)]
            elif ends:
                to = change.main.get(predecessor_id)
            else:
                continue
            if to == predecessor_id:
                continue
            competence.valid_until = day
            competence.save(update_fields=["valid_until"])
            if to is None:
                moves.append(Move(competence.procedure_id, predecessor_id, None))
                continue
            successor, created = Competence.objects.get_or_create(
                procedure_id=competence.procedure_id,
                agency_id=to,
                defaults={"department_kind": competence.department_kind, "valid_from": day},
            )
            # A competence that only begins on the date (loaded ahead of the decision) was not there before: the
            # successor still has to configure the procedure.
            already = (
                not created
                and successor.valid_from < day
                and (successor.valid_until is None or successor.valid_until > day)
            )
            if not created and not already:
                successor.valid_until = None
                successor.valid_from = min(successor.valid_from, day)
                successor.save(update_fields=["valid_until", "valid_from"])
            if to not in receiving:
                receiving[to] = _reception_counter_create(to)
            successor.counters.add(receiving[to])
            moves.append(Move(competence.procedure_id, predecessor_id, to, already=already))
    return moves
