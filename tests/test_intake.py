import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, InternalError, connection, transaction
from django.test import override_settings

from core.errors import PermissionDenied, ValidationFailed
from core.identity import personal_id_errors
from dossiers.models import Document, Dossier, DossierFee, Event, Status
from dossiers.services import dossier_code_format, dossier_receive, dossier_refuse_at_intake
from organizations.models import Agency

from .dossier_helpers import ID_NUMBER, intake, officer

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_accept_assigns_code_appointment_register_entry_and_one_event():
    clerk = officer()
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=VN), tick=False):
        dossier = dossier_receive(officer=clerk, intake=intake(scans=True))
    agency = Agency.objects.get(key="ubnd_30307")
    assert dossier.code == f"{agency.identifier}-261120-0001"
    assert dossier.status == Status.ACCEPTED and dossier.agency == agency and dossier.counter == clerk.counter
    # 8 working hours from Friday 09:00: Friday gives 2 h 30 + 4 h, then Monday 07:00 + 1 h 30.
    assert dossier.appointment_at == dt.datetime(2026, 11, 23, 8, 30, tzinfo=VN)
    assert (dossier.register_volume, dossier.register_number) == ("2026", 1)
    assert dossier.documents.count() == dossier.procedure.components.count()
    doc = dossier.documents.exclude(file="").first()
    assert doc.content_type == "application/pdf" and len(doc.checksum) == 64 and doc.file.name.endswith(doc.checksum)
    assert "scan-" not in doc.file.name  # stored under a generated name
    events = list(dossier.events.all())
    assert [(e.action, e.status_from, e.status_to) for e in events] == [("receive", None, Status.ACCEPTED)]
    assert events[0].actor == clerk.user and events[0].unit_name


def test_codes_follow_the_day_and_the_agency():
    clerk = officer()
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=VN), tick=False):
        a = dossier_receive(officer=clerk, intake=intake())
        b = dossier_receive(officer=clerk, intake=intake())
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=VN), tick=False):
        c = dossier_receive(officer=clerk, intake=intake())
    assert [a.code[-11:], b.code[-11:], c.code[-11:]] == ["261120-0001", "261120-0002", "261123-0001"]
    assert [a.register_number, b.register_number, c.register_number] == [1, 2, 3]


def test_the_sequence_grows_past_four_digits():
    agency = Agency.objects.get(key="stp")
    assert dossier_code_format(agency_identifier=agency.identifier, day=dt.date(2026, 1, 2), number=12345) == (
        "000.00.03.H01-260102-12345"
    )


@override_settings(DOSSIER_CODE_FORMAT="2025", DOSSIER_CODE_SYSTEM="AG")
def test_the_2025_code_format_is_a_setting():
    assert dossier_code_format(agency_identifier="000.00.03.H01", day=dt.date(2026, 1, 2), number=7) == (
        "000.00.03.H01-260102-AG0007"
    )


def test_after_15h_rule_moves_the_start_to_the_next_working_day():
    clerk = officer()
    with time_machine.travel(dt.datetime(2026, 11, 20, 15, 30, tzinfo=VN), tick=False):
        dossier = dossier_receive(officer=clerk, intake=intake())  # birth registration has the 15:00 rule
    # Counted from Monday 07:00: 4 h 30 in the morning, 3 h 30 in the afternoon.
    assert dossier.appointment_at == dt.datetime(2026, 11, 23, 16, 30, tzinfo=VN)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id_number": "12345"}, "applicant_id_number"),
        ({"id_number": "999195000123"}, "applicant_id_number"),
        ({"id_number": "089295000123"}, "applicant_id_number"),  # century digit 2 = born 2000–2099, not 1995
        ({"name": "  "}, "applicant_name"),
        ({"commune_code": 1}, "applicant_commune"),
        ({"birth_date": dt.date(2099, 1, 1)}, "applicant_birth_date"),
    ],
)
def test_bad_applicant_is_refused_beside_the_field_and_nothing_is_saved(changes, field):
    before = (Dossier.objects.count(), Event.objects.count(), Document.objects.count(), DossierFee.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        dossier_receive(officer=officer(), intake=intake(**changes))
    assert field in exc.value.detail
    assert (
        Dossier.objects.count(),
        Event.objects.count(),
        Document.objects.count(),
        DossierFee.objects.count(),
    ) == before


def test_missing_required_component_and_bad_scans_are_refused():
    data = intake()
    data.components = data.components[1:]
    with pytest.raises(ValidationFailed) as exc:
        dossier_receive(officer=officer(), intake=data)
    assert any(key.startswith("component_") for key in exc.value.detail)

    data = intake()
    data.components[0].scan = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    with pytest.raises(ValidationFailed) as exc:
        dossier_receive(officer=officer(), intake=data)
    assert exc.value.detail == {
        f"component_{data.components[0].component_id}": "Bản quét phải là tệp PDF, JPEG hoặc PNG."
    }
    assert not Dossier.objects.exists()


def test_postal_delivery_needs_an_address_and_a_procedure_that_allows_post():
    data = intake()
    data.delivery = "post"
    with pytest.raises(ValidationFailed) as exc:
        dossier_receive(officer=officer(), intake=data)
    assert set(exc.value.detail) & {"delivery", "delivery_address"}


def test_only_a_competent_agency_can_be_chosen():
    with pytest.raises(ValidationFailed) as exc:
        dossier_receive(officer=officer(), intake=intake(agency=Agency.objects.get(key="stp")))
    assert "agency" in exc.value.detail


def test_cross_boundary_intake_keeps_the_counter_and_routes_to_the_competent_agency():
    clerk = officer()  # a Long Xuyên counter
    other = Agency.objects.get(unit__code=31078)  # Phú Quốc
    dossier = dossier_receive(officer=clerk, intake=intake(agency=other))
    assert dossier.agency == other and dossier.counter == clerk.counter
    assert dossier.code.startswith(other.identifier + "-")


def test_a_specialist_cannot_receive():
    with pytest.raises(PermissionDenied):
        dossier_receive(officer=officer(role="specialist", username="cv.x"), intake=intake())


def test_refusal_at_intake_records_reasons_without_a_code():
    dossier = dossier_refuse_at_intake(officer=officer(), intake=intake(), reasons="Thiếu giấy chứng sinh")
    assert dossier.status == Status.REFUSED and dossier.code is None
    assert dossier.events.get().note == "Thiếu giấy chứng sinh"
    with pytest.raises(ValidationFailed) as exc:
        dossier_refuse_at_intake(officer=officer(), intake=intake(), reasons=" ")
    assert "reasons" in exc.value.detail


def test_personal_id_rules():
    assert personal_id_errors(ID_NUMBER, birth_date=dt.date(1995, 1, 1)) == []
    assert personal_id_errors("089300000001", birth_date=dt.date(2000, 5, 5)) == []
    assert personal_id_errors("08919500012") and personal_id_errors("08919500012a")


def test_the_database_refuses_to_rewrite_events():
    dossier = dossier_receive(officer=officer(), intake=intake())
    event = dossier.events.get()
    for statement in (
        "UPDATE dossiers_event SET note = 'rewritten' WHERE id = %s",
        "DELETE FROM dossiers_event WHERE id = %s",
    ):
        with (
            pytest.raises((IntegrityError, InternalError), match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.note == ""


def test_codes_match_the_public_pattern():
    dossier = dossier_receive(officer=officer(), intake=intake())
    assert re.fullmatch(r"000\.\d\d\.5[12]\.H01-\d{6}-\d{4}", dossier.code)
