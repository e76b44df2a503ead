import pytest

from core.errors import NotFound
from dossiers.selectors import access_dossier_for_officer, access_refusal_for_officer
from dossiers.services import dossier_receive, dossier_refuse_at_intake
from organizations.models import Agency

from .dossier_helpers import intake, officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cross_boundary():
    """Received at a Long Xuyên counter for Phú Quốc."""
    return dossier_receive(officer=officer(), intake=intake(agency=Agency.objects.get(unit__code=31078)))


def test_allowed_for_the_competent_agency(cross_boundary):
    phu_quoc = officer(agency_key="ubnd_31078", username="cv.pq", role="specialist")
    assert access_dossier_for_officer(officer=phu_quoc, code=cross_boundary.code) == cross_boundary


def test_allowed_for_the_receiving_counters_agency(cross_boundary):
    long_xuyen = officer(username="lanhdao.lx", role="agency_leader")
    assert access_dossier_for_officer(officer=long_xuyen, code=cross_boundary.code) == cross_boundary


def test_allowed_for_a_province_admin(cross_boundary):
    admin = officer(agency_key="vp_ubnd", username="qt.tinh", role="province_admin")
    assert access_dossier_for_officer(officer=admin, code=cross_boundary.code) == cross_boundary


def test_denied_for_any_other_agency(cross_boundary):
    for key in ("stp", "ubnd_30742"):
        other = officer(agency_key=key, username=f"x.{key}", role="agency_admin")
        with pytest.raises(NotFound):
            access_dossier_for_officer(officer=other, code=cross_boundary.code)


def test_denied_for_an_unknown_code():
    with pytest.raises(NotFound):
        access_dossier_for_officer(officer=officer(), code="000.01.51.H01-261120-0001")


def test_refusals_follow_the_same_scope():
    refused = dossier_refuse_at_intake(officer=officer(), intake=intake(), reasons="Thiếu giấy tờ")
    assert access_refusal_for_officer(officer=officer(), pk=refused.pk) == refused
    with pytest.raises(NotFound):
        access_refusal_for_officer(officer=officer(agency_key="stp", username="x.stp"), pk=refused.pk)
