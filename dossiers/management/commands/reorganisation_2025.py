import dataclasses
import datetime as dt
import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, ValidationFailed
from dossiers.scenario_2025 import Outcome, scenario_2025_apply


class Command(BaseCommand):
    help = (
        "Replay the 2025 two-level change on the demo data: build the districts and departments of before 1 July 2025 "
        "with dossiers in progress, apply the reorganisations of that day and report what moved (once; a second run "
        "prints the stored reports). See docs/scenario-2025.md."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--dry-run", action="store_true", help="apply inside a transaction, then roll it back")
        parser.add_argument("--json", action="store_true", help="print the raw report as JSON")
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", "AnGiang@2025"),
            help="password of the former agencies' staff accounts (as the demo accounts')",
        )

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        try:
            outcome = scenario_2025_apply(password=opts["password"], dry_run=opts["dry_run"])
        except (Conflict, NotFound, ValidationFailed) as exc:
            raise CommandError(str(exc.message)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(dataclasses.asdict(outcome), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report_text(outcome))


def _lines(title: str, rows: list[str]) -> list[str]:
    return [title, *(f"    {row}" for row in rows)] if rows else []


def reorganisation_text(index: int, summary: dict[str, Any]) -> list[str]:
    report = summary["report"]
    lines = [
        f"{index}. {capfirst(summary['kind_label'])}: {', '.join(summary['predecessors'])}",
        "  "
        + _("Decision: %(decision)s, effective %(date)s.")
        % {
            "decision": summary["decision"],
            "date": dt.date.fromisoformat(summary["effective_date"]).strftime("%d/%m/%Y"),
        },
    ]
    lines += _lines("  " + _("Agencies ended:"), report["ended"])
    lines += _lines("  " + _("Agencies beginning:"), report["begun"])
    moved: dict[str, list[str]] = {}
    for row in report["procedures_moved"]:
        moved.setdefault(f"{row['from']} → {row['to']}", []).append(row["procedure"])
    lines += _lines(
        "  " + _("Procedures moved:"), [f"{pair}: {', '.join(sorted(codes))}" for pair, codes in moved.items()]
    )
    lines += _lines(
        "  " + _("Procedures ended:"), [f"{row['from']}: {row['procedure']}" for row in report["procedures_ended"]]
    )
    lines += _lines("  " + _("Dossiers moved:"), [f"{pair}: {n}" for pair, n in report["dossiers_moved"].items()])
    lines.append(
        "  "
        + _(
            "Staff moved: %(staff)s; departments moved: %(departments)s; counters closed: %(counters)s; "
            "tasks released to their department's queue: %(tasks)s."
        )
        % {
            "staff": report["staff_moved"],
            "departments": report["departments_moved"],
            "counters": report["counters_closed"],
            "tasks": report["tasks_released"],
        }
    )
    lines += _lines(
        "  " + _("Workflows to configure (checklist items):"),
        [f"{agency}: {n}" for agency, n in report["checklist"].items()],
    )
    return lines


def report_text(outcome: Outcome) -> str:
    lines = []
    if outcome.dry_run and outcome.applied:
        lines.append(_("Dry run: everything below was done in a transaction that was then rolled back."))
    if not outcome.applied:
        lines.append(_("The 2025 scenario was applied before: nothing changed. Its stored reports follow."))
    if outcome.built:
        lines.append(
            _(
                "Before 1 July 2025: %(agencies)s former agencies, %(staff)s staff accounts, %(open)s dossiers in "
                "progress and %(closed)s closed ones received in June 2025."
            )
            % {
                "agencies": outcome.built["agencies"],
                "staff": outcome.built["staff"],
                "open": outcome.built["dossiers_open"],
                "closed": outcome.built["dossiers_closed"],
            }
        )
    for index, summary in enumerate(outcome.reorganisations, start=1):
        lines.append("")
        lines += reorganisation_text(index, summary)
    totals = outcome.totals
    lines += [
        "",
        _(
            "Totals: %(ended)s agencies ended, %(begun)s began; %(procedures)s procedures moved; %(dossiers)s dossiers "
            "moved; %(staff)s staff moved; %(items)s workflows to configure."
        )
        % {
            "ended": totals["agencies_ended"],
            "begun": totals["agencies_begun"],
            "procedures": totals["procedures_moved"],
            "dossiers": totals["dossiers_moved"],
            "staff": totals["staff_moved"],
            "items": totals["checklist_items"],
        },
    ]
    return "\n".join(lines)
