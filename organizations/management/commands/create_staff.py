from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from organizations.models import Role
from organizations.services import staff_create


class Command(BaseCommand):
    help = "Create a staff account linked to an agency (by electronic identifier), a department and a role."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--agency", required=True, help="electronic identifier, e.g. 000.00.03.H01")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--department", help="department code inside the agency")
        parser.add_argument("--counter", help="reception counter code inside the agency")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--update", action="store_true", help="update the account if it exists")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        try:
            staff = staff_create(
                username=opts["username"],
                password=opts["password"],
                agency_identifier=opts["agency"],
                role=opts["role"],
                department_code=opts["department"],
                counter_code=opts["counter"],
                full_name=opts["full_name"],
                email=opts["email"],
                update=opts["update"],
            )
        except DomainError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in (exc.detail or {}).items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stdout.write(self.style.SUCCESS(f"{staff.user.username}: {staff.get_role_display()} — {staff.agency}"))
