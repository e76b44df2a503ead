"""Building blocks for dossier tests: officers and intakes of the demo catalogue."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers.services import Applicant, Intake, ReceivedComponent
from organizations.models import Agency, Counter, Staff
from organizations.services import staff_create
from procedures.models import Procedure

from .conftest import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BIRTH = "1.001193"
ID_NUMBER = "089195000123"  # An Giang (089), male born 19xx (0), 1995


def officer(*, agency_key: str = "ubnd_30307", username: str = "motcua.test", role: str = "one_stop_officer") -> Staff:
    agency = Agency.objects.get(key=agency_key)
    counter = Counter.objects.filter(agency=agency).order_by("code").first()
    dept = agency.departments.order_by("code").first()
    return staff_create(
        username=username,
        password=PASSWORD,
        agency_identifier=agency.identifier,
        role=role,
        department_code=dept.code if dept else None,
        counter_code=counter.code if counter else None,
        full_name="Đặng Thị Mai",
        update=True,
    )


def intake(*, procedure_code: str = BIRTH, agency: Agency | None = None, scans: bool = False, **applicant) -> Intake:
    procedure = Procedure.objects.get(code=procedure_code)
    agency = agency or Agency.objects.get(key="ubnd_30307")
    defaults = {
        "name": "Nguyễn Thị Hồng Nhung",
        "id_number": ID_NUMBER,
        "birth_date": dt.date(1995, 3, 14),
        "address": "12 Trần Hưng Đạo",
        "commune_code": 30307,
        "phone": "0912345678",
    }
    return Intake(
        procedure_code=procedure.code,
        agency_identifier=agency.identifier,
        applicant=Applicant(**{**defaults, **applicant}),
        components=[
            ReceivedComponent(
                component_id=c.pk,
                originals=1,
                scan=SimpleUploadedFile(f"scan-{c.pk}.pdf", PDF, "application/pdf") if scans else None,
            )
            for c in procedure.components.all()
        ],
    )
