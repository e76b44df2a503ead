"""Writes on the procedure catalogue."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string

from organizations.models import Agency, Counter
from organizations.services import LoadReport

from .models import Competence, Component, Fee, Field, Procedure

DATA_DIR = Path(__file__).resolve().parent / "data"
COMMUNE = "commune"


def _components_upsert(procedure: Procedure, rows: list[dict[str, Any]], report: LoadReport) -> None:
    for order, row in enumerate(rows, start=1):
        _component, created = Component.objects.update_or_create(
            procedure=procedure,
            order=order,
            defaults={
                "name": row["name"],
                "required": row["required"],
                "originals": row.get("originals", 1),
                "copies": row.get("copies", 0),
                "form_name": row.get("form") or "",
            },
        )
        report.add("components", created)
    procedure.components.filter(order__gt=len(rows)).delete()


def _fees_upsert(procedure: Procedure, rows: list[dict[str, Any]], report: LoadReport) -> None:
    keep = []
    for row in rows:
        fee, created = Fee.objects.update_or_create(
            procedure=procedure, name=row["name"], defaults={"amount": row["amount"], "note": row.get("note", "")}
        )
        keep.append(fee.pk)
        report.add("fees", created)
    procedure.fees.exclude(pk__in=keep).delete()


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

    agencies = {a.key: a for a in Agency.objects.filter(level=Agency.Level.PROVINCE)}
    communes = list(Agency.objects.filter(level=Agency.Level.COMMUNE).order_by("identifier"))
    commune_counters = {c.agency_id: c for c in Counter.objects.filter(agency__in=communes, code="tiep_nhan")}
    centre_counters = {c.code: c for c in Counter.objects.filter(agency__key="ttpvhcc")}

    for row in json.loads((DATA_DIR / "procedures.json").read_text(encoding="utf-8")):
        procedure, created = Procedure.objects.update_or_create(
            code=row["code"],
            defaults={
                "code_is_illustrative": row["code_is_illustrative"],
                "name": row["name"],
                "level": row["level"],
                "field": fields[row["field"]],
                "processing_time": Decimal(str(row["processing_time"])),
                "time_unit": row["time_unit"],
                "target_time": Decimal(str(row["target_time"])) if row.get("target_time") is not None else None,
                "after_15h_rule": row["after_15h_rule"],
                "legal_basis": "\n".join(row["legal_basis"]),
                "steps": "\n".join(row["steps"]),
                "result": row["result"],
                "applicants": row.get("applicants", ""),
                "online_level": row["online_level"],
                "postal_allowed": row["postal_allowed"],
                "status": Procedure.Status.PUBLISHED,
            },
        )
        report.add("procedures", created)
        _components_upsert(procedure, row["components"], report)
        _fees_upsert(procedure, row["fees"], report)

        if row["agency"] == COMMUNE:
            pairs = [(agency, commune_counters[agency.pk]) for agency in communes]
        else:
            pairs = [(agencies[row["agency"]], centre_counters[row["agency"]])]
        existing = set(procedure.competences.values_list("agency_id", flat=True))
        new = [
            Competence(
                procedure=procedure, agency=agency, department_kind=row["department_kind"], valid_from=valid_from
            )
            for agency, _counter in pairs
            if agency.pk not in existing
        ]
        Competence.objects.bulk_create(new)
        report.created["competences"] = report.created.get("competences", 0) + len(new)
        if new:
            through = Competence.counters.through
            by_agency = {c.agency_id: c for c in procedure.competences.all()}
            through.objects.bulk_create(
                [through(competence_id=by_agency[agency.pk].pk, counter_id=counter.pk) for agency, counter in pairs],
                ignore_conflicts=True,
            )

    if render_templates:
        for component in Component.objects.select_related("procedure").exclude(form_name="").filter(template=""):
            component_template_render(component=component)
            report.add("form templates", True)
    return report
