"""Fifty counters accepting at once: no duplicate and no gap in the agency-day sequence."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from core.errors import Conflict
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import Dossier, Event
from dossiers.services import dossier_receive
from organizations.models import Agency

from .dossier_helpers import intake, officer
from .workflow_helpers import handling_department, publish_standard, staff

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


def _race(action: str, officers, code: str, task_id: int, **data):  # type: ignore[no-untyped-def]
    """Run one action by several officers at the same instant, each on its own connection."""
    barrier = threading.Barrier(len(officers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(who):  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=30)
            dossier_act(officer=who, code=code, action=action, task_id=task_id, data=ActionInput(**data))
            result = f"won:{who.user.username}"
        except Conflict as exc:
            result = f"conflict:{exc.message}"
        except BaseException as exc:  # noqa: BLE001 - reported in the assertion
            result = f"error:{exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(who,)) for who in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_two_officers_acting_on_one_dossier_exactly_one_wins(reseeded):  # type: ignore[no-untyped-def]
    publish_standard()
    department = handling_department()
    one, two = (staff(f"cv.race{i}", role="specialist", department=department) for i in range(2))
    counter = officer()
    dossier = dossier_receive(officer=counter, intake=intake())
    dossier_act(officer=counter, code=dossier.code, action="forward", task_id=dossier.current_task_id)
    task_id = Dossier.objects.get(pk=dossier.pk).current_task_id
    outcomes = _race("claim", [one, two], dossier.code, task_id)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"], outcomes
    winner = next(o.split(":")[1] for o in outcomes if o.startswith("won"))
    assert Dossier.objects.get(pk=dossier.pk).current_task.assignee.user.username == winner
    assert Event.objects.filter(dossier=dossier, action="claim").count() == 1

    # The same officer submits "forward" twice at once (two tabs, a double click): one move, one event.
    winner_staff = one if one.user.username == winner else two
    outcomes = _race("forward", [winner_staff, winner_staff], dossier.code, task_id)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"], outcomes
    assert Event.objects.filter(dossier=dossier, action="forward").count() == 2  # the counter's, and one of these
