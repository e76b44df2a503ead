import os

from django.core.management.base import BaseCommand
from django.db import transaction

from dossiers.generate import dossiers_generate
from dossiers.models import Dossier
from feedback.services import faq_load_demo
from organizations.services import LoadReport, agencies_load, demo_staff_load, roles_sync
from procedures.services import catalogue_load, eforms_load_demo
from workflows.standard import standard_workflows_publish

DEMO_DOSSIERS = 300


class Command(BaseCommand):
    help = "Load the 2025 province, its agencies, the procedure catalogue and the demo accounts (idempotent)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "AnGiang@2025"))
        parser.add_argument("--no-templates", action="store_true", help="skip rendering the blank form PDFs")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        report = LoadReport()
        with transaction.atomic():
            roles_sync()
            agencies_load(report=report)
            catalogue_load(report=report, render_templates=not opts["no_templates"])
            # Online forms (eForms) of a few procedures, where none was set yet.
            report.created["eforms"] = eforms_load_demo()
            staff = demo_staff_load(password=opts["password"])
            # The standard internal workflow for every procedure in every agency that handles it (once each).
            report.created["workflows"] = standard_workflows_publish()
            report.created["faq"] = faq_load_demo()
            # A few hundred dossiers in varied states, once: a second run finds them and adds nothing.
            if not Dossier.objects.exists():
                report.created["dossiers"] = dossiers_generate(count=DEMO_DOSSIERS, days=60)
            else:
                report.created["dossiers"] = 0
        for what, count in report.created.items():
            self.stdout.write(f"  {what}: {count} new")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({len(staff)} demo accounts)."))
