"""Shared fixtures. Tests run on the real PostgreSQL and Redis that scripts/test.sh starts."""

import pytest
from django.core.management import call_command

from organizations.models import Agency, Role
from organizations.services import LoadReport, agencies_load, roles_sync, staff_create
from procedures.services import catalogue_load

from .browser import browser, page  # noqa: F401 - one session-wide Chromium for every browser test

PASSWORD = "Mat-khau-kiem-thu-2025"


def seed() -> LoadReport:
    report = LoadReport()
    roles_sync()
    agencies_load(report=report)
    catalogue_load(report=report, render_templates=False)
    return report


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The 2025 province and the catalogue, loaded once; each test's transaction rolls back over it."""
    with django_db_blocker.unblock():
        seed()


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    # Transactional tests (live server, threads) flush the tables when they end; run them last and let each
    # re-seed what it needs, so the rolled-back tests above always see the session's data.
    def flushes(item) -> bool:  # type: ignore[no-untyped-def]
        return bool(set(getattr(item, "fixturenames", ())) & {"transactional_db", "live_server", "reseeded"})

    items.sort(key=flushes)


@pytest.fixture
def reseeded(transactional_db):  # type: ignore[no-untyped-def]
    seed()


@pytest.fixture
def commune_agency(db) -> Agency:  # type: ignore[no-untyped-def]
    return Agency.objects.get(key="ubnd_30307")  # Phường Long Xuyên


@pytest.fixture
def province_admin(db):  # type: ignore[no-untyped-def]
    return staff_create(
        username="qt.tinh",
        password=PASSWORD,
        agency_identifier=Agency.objects.get(key="vp_ubnd").identifier,
        role=Role.PROVINCE_ADMIN,
        department_code="kiem_soat_tthc",
        full_name="Nguyễn Quản Trị",
    )


@pytest.fixture
def call(capsys):  # type: ignore[no-untyped-def]
    def run(*args: str) -> str:
        call_command(*args)
        return capsys.readouterr().out

    return run


@pytest.fixture(scope="session")
def _simulator():  # type: ignore[no-untyped-def]
    from django.conf import settings

    from sync import national

    from .portal_sim import Simulator

    sim = Simulator()
    settings.NATIONAL_PORTAL_URL = sim.url
    national.portal.cache_clear()
    yield sim
    sim.stop()


@pytest.fixture
def portal_sim(_simulator):  # type: ignore[no-untyped-def]
    """The national portal simulator, emptied and answering normally."""
    _simulator.reset()
    return _simulator


@pytest.fixture(autouse=True, scope="session")
def _no_outbox_kicks():  # type: ignore[no-untyped-def]
    # Tests drain the outbox themselves (or start a worker and ask it): no stray drain tasks in the broker.
    from django.conf import settings

    settings.OUTBOX_KICK_ENABLED = False
    settings.CITIZEN_MESSAGES_KICK_ENABLED = False  # likewise for the messages to applicants (dossiers/notify.py)


@pytest.fixture(scope="session")
def _payment_simulator():  # type: ignore[no-untyped-def]
    from .payment_sim import PaymentSimulator

    sim = PaymentSimulator()
    yield sim
    sim.stop()


@pytest.fixture
def payment_gateway(_payment_simulator, settings):  # type: ignore[no-untyped-def]
    """The payment gateway simulator, emptied, answering normally, with the settings pointing at it."""
    _payment_simulator.reset()
    settings.PAYMENT_GATEWAY_ADAPTER = "payments.gateway.VnpayGateway"
    settings.PAYMENT_GATEWAY_URL = _payment_simulator.url
    settings.PAYMENT_GATEWAY_API_URL = ""
    settings.PAYMENT_TMN_CODE = _payment_simulator.tmn_code
    settings.PAYMENT_HASH_SECRET = _payment_simulator.secret
    return _payment_simulator


@pytest.fixture(scope="session")
def _idp_simulator():  # type: ignore[no-untyped-def]
    from .idp_sim import IdentityProvider

    idp = IdentityProvider()
    yield idp
    idp.stop()


@pytest.fixture
def idp(_idp_simulator, settings):  # type: ignore[no-untyped-def]
    """The identity provider simulator (citizens/idp_simulator.py), reset, with the OIDC settings pointing at it."""
    _idp_simulator.reset()
    for name, value in _idp_simulator.settings().items():
        setattr(settings, name, value)
    return _idp_simulator
