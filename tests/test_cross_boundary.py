"""Cross-boundary intake (phi địa giới hành chính), end to end through the officers' pages: Phường Long Xuyên's
counter receives a dossier for Đặc khu Phú Quốc; Phú Quốc processes and resolves it; the result goes back to the
Long Xuyên counter; the statistics count the reception at Long Xuyên and the resolution at Phú Quốc."""

import datetime as dt
import re
from contextlib import contextmanager

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.errors import NotFound
from dossiers.engine import actions_available, assignees
from dossiers.models import Dossier, Status, Task
from dossiers.selectors import access_dossier_for_officer
from organizations.models import Agency, Counter, Role
from procedures.models import Procedure
from receipts.services import form1_html
from stats.selectors import Flow, cross_boundary_flows, intake_and_resolution
from workflows.models import Step

from .conftest import PASSWORD
from .dossier_helpers import BIRTH, ID_NUMBER, PDF, officer
from .workflow_helpers import handling_department, publish_standard, staff

VN = dt.timezone(dt.timedelta(hours=7))
MONDAY = dt.datetime(2026, 11, 9, 8, 0, tzinfo=VN)  # an ordinary working week
NOVEMBER = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}
A, B, C = "ubnd_30307", "ubnd_31078", "ubnd_30742"  # Phường Long Xuyên, Đặc khu Phú Quốc, Phường Rạch Giá


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    for key in (A, B):
        publish_standard(agency_key=key)
    a_counter = Counter.objects.get(agency__key=A, code="tiep_nhan")
    return {
        "a_counter": officer(),  # Long Xuyên's tiep_nhan counter
        "a_counter2": staff("motcua.lx2", role=Role.ONE_STOP_OFFICER, agency_key=A, counter=a_counter),
        "a_specialist": staff("cv.lx", role=Role.SPECIALIST, agency_key=A, department=handling_department()),
        "a_leader": staff("ld.lx", role=Role.AGENCY_LEADER, agency_key=A),
        "b_counter": staff(
            "motcua.pq",
            role=Role.ONE_STOP_OFFICER,
            agency_key=B,
            counter=Counter.objects.get(agency__key=B, code="tiep_nhan"),
        ),
        "b_specialist": staff(
            "cv.pq", role=Role.SPECIALIST, agency_key=B, department=handling_department(agency_key=B)
        ),
        "b_leader": staff("ld.pq", role=Role.AGENCY_LEADER, agency_key=B),
        "c_leader": staff("ld.rg", role=Role.AGENCY_LEADER, agency_key=C),
        "c_counter": officer(agency_key=C, username="motcua.rg"),
    }


@contextmanager
def signed_in(who, at: dt.datetime):  # type: ignore[no-untyped-def]
    """A page client of ``who`` at the moment ``at`` (the engine and the pages read the clock)."""
    with time_machine.travel(at, tick=False):
        client = Client()
        assert client.login(username=who.user.username, password=PASSWORD)
        yield client


def intake_form(agency: Agency) -> dict[str, str]:
    procedure = Procedure.objects.get(code=BIRTH)
    data = {
        "agency": agency.identifier,
        "applicant_type": "1",
        "applicant_name": "Trần Văn Bình",
        "applicant_id_number": ID_NUMBER,
        "applicant_birth_date": "1995-03-14",
        "applicant_commune": "31078",
        "language": "vi",
        "sets": "1",
        "delivery": "counter",
        "action": "accept",
    }
    for component in procedure.components.all():
        data[f"component_{component.pk}"] = "on"
        data[f"component_{component.pk}_originals"] = "1"
        data[f"component_{component.pk}_copies"] = "0"
    for index, fee in enumerate(procedure.fees.all()):
        data[f"fee_{index}_amount"] = str(fee.amount)
    return data


def offered(client: Client, code: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', client.get(f"/mot-cua/ho-so/{code}/").content.decode())


def act(who, code: str, action: str, at: dt.datetime, **extra) -> None:  # type: ignore[no-untyped-def]
    task = Dossier.objects.get(code=code).current_task_id
    with signed_in(who, at) as client:
        response = client.post(f"/mot-cua/ho-so/{code}/xu-ly/{action}/", {"task": task, **extra})
    assert response.status_code == 302, response.content.decode()[:500]


def in_department_queue(who, code: str, at: dt.datetime) -> bool:
    with signed_in(who, at) as client:
        response = client.get("/mot-cua/viec-cua-toi/", {"queue": "department"})
    assert response.status_code == 200
    return code in response.content.decode()


def figures(agency_key: str, at: dt.datetime) -> dict[str, int]:
    agency = Agency.objects.get(key=agency_key)
    with time_machine.travel(at, tick=False):
        (row,) = intake_and_resolution(**NOVEMBER, agency_ids=[agency.pk])
    assert row.agency_id == agency.pk and row.name == agency.name
    return {
        "received": row.received,
        "for_others": row.received_for_others,
        "by_others": row.received_by_others,
        "resolved": row.resolved,
        "on_time": row.resolved_on_time,
        "late": row.resolved_late,
        "in_process": row.in_process,
        "overdue": row.in_process_overdue,
    }


ZERO = dict.fromkeys(["received", "for_others", "by_others", "resolved", "on_time", "late", "in_process", "overdue"], 0)


def test_a_dossier_received_at_one_commune_is_resolved_by_another_and_returned_where_it_was_received(people):  # type: ignore[no-untyped-def]
    long_xuyen, phu_quoc = Agency.objects.get(key=A), Agency.objects.get(key=B)
    t = MONDAY

    # 1. Long Xuyên's counter receives for Phú Quốc: the page offers Phú Quốc among the competent agencies.
    with signed_in(people["a_counter"], t) as client:
        page = client.get(f"/mot-cua/tiep-nhan/{BIRTH}/").content.decode()
        assert f'value="{phu_quoc.identifier}"' in page
        response = client.post(f"/mot-cua/tiep-nhan/{BIRTH}/", intake_form(phu_quoc))
    dossier = Dossier.objects.select_related("current_task__step").get()
    assert response.status_code == 302 and response.url == f"/mot-cua/ho-so/{dossier.code}/"
    code = dossier.code
    # Phú Quốc's code prefix, its register and workflow; Long Xuyên's counter and name as the receiver.
    assert code.startswith(f"{phu_quoc.identifier}-261109-")
    assert dossier.agency == phu_quoc and dossier.counter.agency == long_xuyen
    assert dossier.counter == people["a_counter"].counter
    assert dossier.public_receiving_agency == long_xuyen.name
    assert dossier.workflow_version.workflow.agency == phu_quoc
    assert dossier.public_departments == [handling_department(agency_key=B).name]
    assert dossier.status == Status.ACCEPTED
    task = dossier.current_task
    assert task.step.kind == Step.Kind.COUNTER and task.agency == phu_quoc
    assert task.assignee == people["a_counter"]  # the first (counter) step is the receiving officer's

    # Who sees it: the competent agency and the receiving counter's agency; nobody of a third commune.
    for who in ("a_counter", "a_leader", "b_specialist", "b_leader", "b_counter"):
        assert access_dossier_for_officer(officer=people[who], code=code).pk == dossier.pk
    for who in ("c_leader", "c_counter"):
        with pytest.raises(NotFound):
            access_dossier_for_officer(officer=people[who], code=code)
        with signed_in(people[who], t) as client:
            assert client.get(f"/mot-cua/ho-so/{code}/").status_code == 404
            assert client.get(f"/mot-cua/ho-so/{code}/giay-tiep-nhan.html").status_code == 404

    # The receipt (form 1): Phú Quốc's header and register entry, Long Xuyên's counter receives and returns.
    receipt = form1_html(dossier=access_dossier_for_officer(officer=people["a_counter"], code=code))
    assert phu_quoc.name.upper() in receipt.upper()
    assert f"Số: {dossier.register_number}/2026" in receipt
    assert "Bộ phận Một cửa Phường Long Xuyên tiếp nhận hồ sơ của:" in receipt
    assert "Tại Bộ phận Một cửa Phường Long Xuyên" in receipt  # where the result is returned
    assert long_xuyen.name not in receipt  # the receiving agency is named by its counter, not as the issuer
    assert code in receipt and "Trần Văn Bình" in receipt

    # 2. The counter step: only Long Xuyên's receiving officer acts; Phú Quốc's counter cannot.
    with signed_in(people["a_counter"], t) as client:
        assert offered(client, code) == ["forward", "stop"]
    with signed_in(people["b_counter"], t) as client:
        assert offered(client, code) == []
    assert figures(A, t) == {**ZERO, "received": 1, "for_others": 1}
    assert figures(B, t) == {**ZERO, "by_others": 1, "in_process": 1}
    act(people["a_counter"], code, "forward", t + dt.timedelta(minutes=10))

    # 3. Processing: in Phú Quốc's division queue, not in Long Xuyên's.
    t2 = t + dt.timedelta(minutes=15)
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS
    assert dossier.current_task.department == handling_department(agency_key=B)
    assert in_department_queue(people["b_specialist"], code, t2)
    for who in ("a_specialist", "a_counter", "a_counter2", "b_counter", "c_counter"):
        assert not in_department_queue(people[who], code, t2), who
    with signed_in(people["b_specialist"], t2) as client:
        assert offered(client, code) == ["claim"]
    with signed_in(people["a_specialist"], t2) as client:
        assert offered(client, code) == []  # Long Xuyên sees the dossier its counter received, does not handle it
    act(people["b_specialist"], code, "claim", t + dt.timedelta(minutes=20))
    act(people["b_specialist"], code, "forward", t + dt.timedelta(hours=1), note="Đủ điều kiện")

    # 4. Phú Quốc's leader records the result and signs it off to the counter.
    with signed_in(people["a_leader"], t + dt.timedelta(hours=1)) as client:
        assert offered(client, code) == []
    act(people["b_leader"], code, "claim", t + dt.timedelta(hours=2))
    resolved_at = t + dt.timedelta(hours=2, minutes=5)
    act(
        people["b_leader"],
        code,
        "record_result",
        resolved_at,
        files=SimpleUploadedFile("giay-khai-sinh.pdf", PDF, "application/pdf"),
    )
    act(people["b_leader"], code, "approve", t + dt.timedelta(hours=2, minutes=10))

    # 5. The result returns at Long Xuyên's counter (any of its officers), not at Phú Quốc's.
    t5 = t + dt.timedelta(hours=2, minutes=12)
    dossier.refresh_from_db()
    assert dossier.status == Status.RESOLVED and dossier.completed_at == resolved_at
    assert dossier.current_task.step.key == "tra_ket_qua" and dossier.current_task.assignee is None
    assert in_department_queue(people["a_counter2"], code, t5)
    assert not in_department_queue(people["b_counter"], code, t5)
    # Whoever assigns the return step chooses among the receiving counter's officers.
    assert {s.pk for s in assignees(dossier=dossier)} == {people["a_counter"].pk, people["a_counter2"].pk}
    with signed_in(people["b_counter"], t5) as client:
        assert offered(client, code) == []
    with signed_in(people["a_counter2"], t5) as client:
        assert offered(client, code) == ["claim"]
    act(people["a_counter2"], code, "claim", t + dt.timedelta(hours=2, minutes=15))
    with signed_in(people["a_counter2"], t5) as client:
        assert offered(client, code) == ["return_result"]
    act(people["a_counter2"], code, "return_result", t + dt.timedelta(hours=2, minutes=20))

    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED and dossier.returned_at == t + dt.timedelta(hours=2, minutes=20)
    tasks = list(Task.objects.filter(dossier=dossier).select_related("step").order_by("entered_at", "id"))
    assert [(x.step.key, x.finished_by) for x in tasks] == [
        ("tiep_nhan", people["a_counter"]),
        ("xu_ly", people["b_specialist"]),
        ("ky_duyet", people["b_leader"]),
        ("tra_ket_qua", people["a_counter2"]),
    ]
    assert all(x.agency == phu_quoc and x.late is False for x in tasks)
    assert actions_available(officer=people["a_counter2"], dossier=dossier) == []

    # 6. Statistics: one reception at Long Xuyên (for another agency), one received elsewhere for Phú Quốc and one
    #    resolution there, on time; nothing for the third commune.
    end = t + dt.timedelta(hours=3)
    assert figures(A, end) == {**ZERO, "received": 1, "for_others": 1}
    assert figures(B, end) == {**ZERO, "by_others": 1, "resolved": 1, "on_time": 1}
    assert figures(C, end) == ZERO
    with time_machine.travel(end, tick=False):
        flows = cross_boundary_flows(**NOVEMBER)
        assert flows == [Flow(long_xuyen.pk, long_xuyen.name, phu_quoc.pk, phu_quoc.name, 1)]
        assert cross_boundary_flows(**NOVEMBER, agency_id=Agency.objects.get(key=C).pk) == []
        october = intake_and_resolution(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    assert october == []


def test_the_return_step_of_a_dossier_received_elsewhere_is_not_in_the_competent_agencys_counter_queue(people):  # type: ignore[no-untyped-def]
    """Phú Quốc's own dossiers still return at Phú Quốc's counter, while the cross-boundary one returns at Long
    Xuyên's: each counter's queue holds its own returns only."""
    from dossiers.selectors import QueueFilter, queue_tasks
    from dossiers.services import dossier_receive

    from .dossier_helpers import intake

    phu_quoc = Agency.objects.get(key=B)
    t = MONDAY
    with time_machine.travel(t, tick=False):
        elsewhere = dossier_receive(officer=people["a_counter"], intake=intake(agency=phu_quoc), now=t)
        at_home = dossier_receive(officer=people["b_counter"], intake=intake(agency=phu_quoc), now=t)
    # Skip to the return step by the engine's own moves.
    for dossier, counter in ((elsewhere, people["a_counter"]), (at_home, people["b_counter"])):
        act(counter, dossier.code, "forward", t + dt.timedelta(minutes=5))
        act(people["b_specialist"], dossier.code, "claim", t + dt.timedelta(minutes=10))
        act(people["b_specialist"], dossier.code, "forward", t + dt.timedelta(minutes=15))
        act(people["b_leader"], dossier.code, "claim", t + dt.timedelta(minutes=20))
        act(
            people["b_leader"],
            dossier.code,
            "record_result",
            t + dt.timedelta(minutes=25),
            files=SimpleUploadedFile("kq.pdf", PDF, "application/pdf"),
        )
        act(people["b_leader"], dossier.code, "approve", t + dt.timedelta(minutes=30))
    now = t + dt.timedelta(minutes=40)
    soon = now + dt.timedelta(days=1)

    def returns(who) -> set[str]:  # type: ignore[no-untyped-def]
        tasks = queue_tasks(officer=who, filters=QueueFilter(queue="department"), now=now, soon=soon)
        return {t.dossier.code for t in tasks if t.step.kind == Step.Kind.COUNTER}

    assert returns(people["b_counter"]) == {at_home.code}
    assert returns(people["a_counter"]) == {elsewhere.code}
    assert returns(people["c_counter"]) == set()
