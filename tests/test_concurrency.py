"""Fifty counters accepting at once: no duplicate and no gap in the agency-day sequence."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from dossiers.models import Dossier
from dossiers.services import dossier_receive
from organizations.models import Agency

from .dossier_helpers import intake, officer

WORKERS = 50


def test_fifty_concurrent_acceptances_give_consecutive_codes(reseeded):
    clerks = [officer(username=f"motcua.{i}") for i in range(WORKERS)]
    agency = Agency.objects.get(key="ubnd_30307")
    barrier = threading.Barrier(WORKERS)
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def accept(clerk):  # type: ignore[no-untyped-def]
        try:
            data = intake()
            barrier.wait(timeout=30)
            dossier = dossier_receive(officer=clerk, intake=data)
            with lock:
                codes.append(dossier.code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(clerk,)) for clerk in clerks]
    # time-machine patches the clock for the whole process, so every thread receives on the same day.
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))):
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors, errors
    expected = {f"{agency.identifier}-261120-{n:04d}" for n in range(1, WORKERS + 1)}
    assert sorted(codes) == sorted(expected)
    assert set(Dossier.objects.values_list("code", flat=True)) == expected
    numbers = sorted(Dossier.objects.values_list("register_number", flat=True))
    assert numbers == list(range(1, WORKERS + 1))


def test_a_rolled_back_intake_gives_its_number_back(reseeded):
    clerk = officer()
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")), tick=False):
        first = dossier_receive(officer=clerk, intake=intake())
        # A failure after the number was taken (e.g. the storage of a scan) rolls the whole intake back.
        with pytest.raises(RuntimeError), transaction.atomic():
            dossier_receive(officer=clerk, intake=intake())
            raise RuntimeError("storage failed")
        second = dossier_receive(officer=clerk, intake=intake())
    assert [first.code[-4:], second.code[-4:]] == ["0001", "0002"]
