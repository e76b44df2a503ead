"""Building blocks for workflow tests: a published standard workflow and the officers of each step."""

from organizations.models import Agency, Counter, Department, Staff
from organizations.services import staff_create
from procedures.models import Competence, Procedure
from workflows.standard import standard_workflows_publish

from .conftest import PASSWORD
from .dossier_helpers import BIRTH


def publish_standard(*, procedure_code: str = BIRTH, agency_key: str = "ubnd_30307") -> None:
    standard_workflows_publish(
        procedure=Procedure.objects.get(code=procedure_code), agency=Agency.objects.get(key=agency_key)
    )


def handling_department(*, procedure_code: str = BIRTH, agency_key: str = "ubnd_30307") -> Department:
    competence = Competence.objects.get(procedure__code=procedure_code, agency__key=agency_key)
    return Department.objects.get(agency=competence.agency, kind=competence.department_kind)


def staff(
    username: str,
    *,
    role: str,
    agency_key: str = "ubnd_30307",
    department: Department | None = None,
    counter: Counter | None = None,
    full_name: str = "",
) -> Staff:
    agency = Agency.objects.get(key=agency_key)
    return staff_create(
        username=username,
        password=PASSWORD,
        agency_identifier=agency.identifier,
        role=role,
        department_code=department.code if department else None,
        counter_code=counter.code if counter else None,
        full_name=full_name or username,
        update=True,
    )
