"""Online submission: drafts, uploads, submission with status 1, acceptance or refusal at the counter, the citizen's
supplement answer, withdrawal, results into the personal data store, and who may see what."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from citizens.models import StoredDocument
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import OutboxMessage
from core.national import Status
from dossiers import online
from dossiers.engine import ActionInput, dossier_act
from dossiers.models import Document, Dossier, Draft, DraftDocument, Event, Task
from dossiers.selectors import QueueFilter, queue_tasks
from organizations.models import Agency, Role
from procedures.models import Procedure

from .citizen_helpers import PNG, citizen_user, pdf, submitted
from .conftest import PASSWORD
from .dossier_helpers import BIRTH, PDF, officer
from .workflow_helpers import handling_department, publish_standard, staff

VN = dt.timezone(dt.timedelta(hours=7))
MONDAY = dt.datetime(2026, 11, 9, 8, 0, tzinfo=VN)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120  # a Windows program's first bytes
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    publish_standard()
    department = handling_department()
    return {
        "citizen": citizen_user(),
        "other": citizen_user("089196000456", full_name="Trần Văn Bình", birth_date=dt.date(1996, 1, 2)),
        "counter": officer(),
        "counter2": officer(username="motcua.hai"),
        "elsewhere": officer(agency_key="ubnd_30316", username="motcua.khac"),
        "specialist": staff("cv.a", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng"),
        "leader": staff("ld.a", role=Role.AGENCY_LEADER, full_name="Trương Văn Phúc"),
    }


def act(who, dossier: Dossier, action: str, at: dt.datetime, **data) -> Dossier:  # type: ignore[no-untyped-def]
    fresh = Dossier.objects.get(pk=dossier.pk)
    return dossier_act(
        officer=who, code=dossier.code, action=action, task_id=fresh.current_task_id, data=ActionInput(**data), now=at
    )


# --- Drafts and uploads --------------------------------------------------------------------------------------------


def test_a_draft_is_resumed_not_duplicated_and_only_its_owner_reaches_it(people):  # type: ignore[no-untyped-def]
    agency = Agency.objects.get(key="ubnd_30307")
    first = online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=agency.pk)
    again = online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=agency.pk)
    assert first.pk == again.pk and Draft.objects.count() == 1
    with pytest.raises(NotFound):
        online.access_draft(user=people["other"], pk=first.pk)
    with pytest.raises(ValidationFailed) as failure:
        online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=None)
    assert "agency" in failure.value.detail
    with pytest.raises(PermissionDenied):  # a staff account has no citizen profile
        online.draft_start(user=people["counter"].user, procedure_code=BIRTH, agency_id=agency.pk)


def test_a_procedure_not_offered_online_cannot_be_started(people):  # type: ignore[no-untyped-def]
    offline = Procedure.objects.filter(online_level=Procedure.OnlineLevel.NONE).first()
    assert offline is not None
    with pytest.raises(ValidationFailed):
        online.draft_start(user=people["citizen"], procedure_code=offline.code, agency_id=None)
    assert not Draft.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("giay-khai-sinh.pdf", EXE, "file_type"),  # a renamed program: refused by its content
        ("anh.png", b"GIF89a" + b"\x00" * 40, "file_type"),
        ("virus.pdf", b"%PDF-1.4\n" + EICAR, "file_infected"),  # the virus-scan hook
    ],
)
def test_bad_uploads_get_a_clear_message_and_store_nothing(people, name, content, code):  # type: ignore[no-untyped-def]
    agency = Agency.objects.get(key="ubnd_30307")
    draft = online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=agency.pk)
    component = draft.procedure.components.first()
    with pytest.raises(ValidationFailed) as failure:
        online.draft_document_add(
            user=people["citizen"], pk=draft.pk, component_id=component.pk, upload=SimpleUploadedFile(name, content)
        )
    assert failure.value.code == code
    assert name in failure.value.detail[f"component_{component.pk}"]
    assert not DraftDocument.objects.exists() and not StoredDocument.objects.exists()


def test_an_oversized_upload_is_refused(people, settings):  # type: ignore[no-untyped-def]
    settings.UPLOAD_MAX_MB = 1
    agency = Agency.objects.get(key="ubnd_30307")
    draft = online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=agency.pk)
    component = draft.procedure.components.first()
    big = SimpleUploadedFile("lon.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(ValidationFailed) as failure:
        online.draft_document_add(user=people["citizen"], pk=draft.pk, component_id=component.pk, upload=big)
    assert failure.value.code == "file_too_large" and "1 MB" in failure.value.message
    assert not StoredDocument.objects.exists()


def test_uploads_go_to_the_data_store_once_and_can_be_reused(people):  # type: ignore[no-untyped-def]
    agency = Agency.objects.get(key="ubnd_30307")
    user = people["citizen"]
    draft = online.draft_start(user=user, procedure_code=BIRTH, agency_id=agency.pk)
    first, second = draft.procedure.components.all()[:2]
    added = online.draft_document_add(user=user, pk=draft.pk, component_id=first.pk, upload=pdf("cmnd.pdf"))
    stored = added.stored
    assert stored.owner == user and len(stored.checksum) == 64 and stored.file.name.endswith(stored.checksum)
    assert "cmnd" not in stored.file.name  # stored under a generated name
    again = online.draft_document_add(user=user, pk=draft.pk, component_id=second.pk, upload=pdf("cmnd.pdf"))
    assert again.stored_id == stored.pk and StoredDocument.objects.count() == 1
    reused = online.draft_document_add(user=user, pk=draft.pk, component_id=second.pk, stored_id=stored.pk)
    assert reused.pk == again.pk  # the same file for the same component is attached once
    # Another citizen cannot pick someone else's stored document.
    other_draft = online.draft_start(user=people["other"], procedure_code=BIRTH, agency_id=agency.pk)
    with pytest.raises(NotFound):
        online.draft_document_add(user=people["other"], pk=other_draft.pk, component_id=first.pk, stored_id=stored.pk)


def test_documents_step_needs_every_required_component(people):  # type: ignore[no-untyped-def]
    agency = Agency.objects.get(key="ubnd_30307")
    draft = online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=agency.pk)
    with pytest.raises(ValidationFailed) as failure:
        online.draft_documents_done(user=people["citizen"], pk=draft.pk)
    required = draft.procedure.components.filter(required=True)
    assert set(failure.value.detail) == {f"component_{c.pk}" for c in required}
    assert Draft.objects.get(pk=draft.pk).stage == Draft.Stage.FORM


def test_delivery_by_post_needs_an_address_and_a_procedure_that_allows_it(people):  # type: ignore[no-untyped-def]
    agency = Agency.objects.get(key="ubnd_30307")
    draft = online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=agency.pk)
    with pytest.raises(ValidationFailed) as failure:
        online.draft_delivery_set(user=people["citizen"], pk=draft.pk, delivery="post", address="")
    assert "delivery_address" in failure.value.detail
    with pytest.raises(ValidationFailed):
        online.draft_delivery_set(user=people["citizen"], pk=draft.pk, delivery="fax", address="")
    online.draft_delivery_set(user=people["citizen"], pk=draft.pk, delivery="post", address="5 Lê Lợi, Long Xuyên")
    assert Draft.objects.get(pk=draft.pk).delivery == "post"
    marriage = online.draft_start(user=people["citizen"], procedure_code="1.000894", agency_id=agency.pk)
    assert "post" not in dict(online.delivery_choices(procedure=marriage.procedure))  # no BCCI for this one
    assert "online" not in dict(online.delivery_choices(procedure=marriage.procedure))  # partly online


# --- Submission ----------------------------------------------------------------------------------------------------


def test_an_incomplete_draft_is_not_submitted_and_nothing_is_written(people):  # type: ignore[no-untyped-def]
    agency = Agency.objects.get(key="ubnd_30307")
    draft = online.draft_start(user=people["citizen"], procedure_code=BIRTH, agency_id=agency.pk)
    with pytest.raises(ValidationFailed) as failure:
        online.draft_submit(user=people["citizen"], pk=draft.pk)
    assert {"form", "delivery"} <= set(failure.value.detail)
    assert not Dossier.objects.exists() and not OutboxMessage.objects.exists()


def test_submission_gives_status_1_a_code_and_a_place_in_the_counters_queue(people):  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        dossier = submitted(people["citizen"])
    agency = Agency.objects.get(key="ubnd_30307")
    assert dossier.status == Status.SUBMITTED and dossier.channel == 2
    assert dossier.code == f"{agency.identifier}-261109-0001"
    assert dossier.citizen == people["citizen"] and dossier.applicant_id_number == "089195000123"
    assert dossier.submitted_at == MONDAY and dossier.received_at is None and dossier.appointment_at is None
    assert dossier.documents.count() == 3 and all(d.checksum for d in dossier.documents.all())
    assert Draft.objects.get(dossier=dossier).submitted_at == MONDAY
    # One event and the national portal's "add" in the same transaction.
    event = Event.objects.get(dossier=dossier)
    assert (event.action, event.status_from, event.status_to) == ("submit_online", None, Status.SUBMITTED)
    assert event.actor_name == "Nguyễn Thị Hồng Nhung"
    assert set(OutboxMessage.objects.filter(key=f"d{dossier.pk}").values_list("operation", flat=True)) == {
        "add", "progress",
    }  # fmt: skip
    # The receiving counter finds it among its unassigned tasks; another commune's counter does not.
    soon = MONDAY + dt.timedelta(days=1)
    filters = QueueFilter(queue="department")
    mine = queue_tasks(officer=people["counter"], filters=filters, now=MONDAY, soon=soon)
    assert dossier.current_task_id in set(mine.values_list("id", flat=True))
    theirs = queue_tasks(officer=people["elsewhere"], filters=filters, now=MONDAY, soon=soon)
    assert not theirs.filter(dossier=dossier).exists()
    # The public lookup shows the reduced view of a dossier not yet accepted.
    from dossiers.selectors import dossier_public_view

    view = dossier_public_view(code=dossier.code)
    assert view.valid is False and view.applicant_name == "Nguyễn Thị Hồng Nhung" and view.received_at == MONDAY


def test_the_counter_accepts_an_online_dossier(people):  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        dossier = submitted(people["citizen"])
    later = MONDAY + dt.timedelta(hours=2)
    with pytest.raises(NotFound):  # another commune cannot even see it
        online.dossier_accept_online(
            officer=people["elsewhere"], code=dossier.code, task_id=dossier.current_task_id, now=later
        )
    with pytest.raises(PermissionDenied):
        online.dossier_accept_online(
            officer=people["specialist"], code=dossier.code, task_id=dossier.current_task_id, now=later
        )
    accepted = online.dossier_accept_online(
        officer=people["counter"], code=dossier.code, task_id=dossier.current_task_id, now=later
    )
    assert accepted.status == Status.ACCEPTED and accepted.received_at == later
    assert accepted.appointment_at is not None and accepted.appointment_at > later
    assert accepted.register_number == 1 and accepted.code == dossier.code
    assert Task.objects.get(pk=accepted.current_task_id).assignee == people["counter"]
    assert OutboxMessage.objects.filter(key=f"d{dossier.pk}", operation="update").count() == 1
    # From here the ordinary workflow goes on.
    act(people["counter"], accepted, "forward", later + dt.timedelta(minutes=5))
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESS
    # The receipt (form 1) is the citizen's to download.
    client = Client()
    client.force_login(people["citizen"])
    response = client.get(reverse("portal:my-dossier-receipt", args=[dossier.code]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_counter_refuses_with_reasons_and_nothing_else_changes_on_bad_input(people):  # type: ignore[no-untyped-def]
    dossier = submitted(people["citizen"])
    with pytest.raises(ValidationFailed):
        online.dossier_refuse_online(
            officer=people["counter"], code=dossier.code, task_id=dossier.current_task_id, reasons="  "
        )
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SUBMITTED
    refused = online.dossier_refuse_online(
        officer=people["counter"], code=dossier.code, task_id=dossier.current_task_id, reasons="Ảnh giấy tờ bị mờ."
    )
    assert refused.status == Status.REFUSED and refused.refusal_reasons == "Ảnh giấy tờ bị mờ."
    assert refused.current_task is None and Task.objects.get(dossier=refused).outcome == "refuse_intake"
    with pytest.raises(Conflict):
        online.dossier_accept_online(officer=people["counter"], code=dossier.code, task_id=None)


@pytest.mark.django_db(transaction=True)
def test_two_officers_accepting_at_once_one_wins(reseeded):  # type: ignore[no-untyped-def]
    publish_standard()
    user = citizen_user()
    first, second = officer(), officer(username="motcua.hai")
    dossier = submitted(user)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(clerk):  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            online.dossier_accept_online(officer=clerk, code=dossier.code, task_id=dossier.current_task_id)
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(clerk,)) for clerk in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["accepted", "conflict"]
    assert Event.objects.filter(dossier=dossier, action="accept_online").count() == 1
    assert Dossier.objects.get(pk=dossier.pk).register_number == 1


# --- After submission: supplement, withdrawal, results -------------------------------------------------------------


def _in_process(people) -> Dossier:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        dossier = submitted(people["citizen"])
    online.dossier_accept_online(
        officer=people["counter"], code=dossier.code, task_id=dossier.current_task_id, now=MONDAY
    )
    act(people["counter"], dossier, "forward", MONDAY + dt.timedelta(minutes=5))
    act(people["specialist"], dossier, "claim", MONDAY + dt.timedelta(minutes=10))
    return Dossier.objects.get(pk=dossier.pk)


def test_the_citizen_answers_a_supplement_request_and_the_clock_runs_again(people):  # type: ignore[no-untyped-def]
    dossier = _in_process(people)
    asked = MONDAY + dt.timedelta(hours=1)
    act(people["specialist"], dossier, "request_supplement", asked, items=["Bản sao CCCD của cha"], reason="Thiếu")
    paused = Dossier.objects.get(pk=dossier.pk)
    assert paused.status == Status.WAITING_SUPPLEMENT and paused.paused_at == asked
    with pytest.raises(NotFound):
        online.dossier_supplement_answer(
            user=people["other"], code=dossier.code, note="", uploads=[pdf()], stored_ids=[]
        )
    with pytest.raises(ValidationFailed):
        online.dossier_supplement_answer(user=people["citizen"], code=dossier.code, note="x", uploads=[], stored_ids=[])
    with pytest.raises(ValidationFailed):  # a renamed program
        online.dossier_supplement_answer(
            user=people["citizen"],
            code=dossier.code,
            note="",
            uploads=[SimpleUploadedFile("a.pdf", EXE)],
            stored_ids=[],
        )
    assert Dossier.objects.get(pk=dossier.pk).status == Status.WAITING_SUPPLEMENT
    answered = MONDAY + dt.timedelta(days=1, hours=1)  # Tuesday 09:00: one working day later
    resumed = online.dossier_supplement_answer(
        user=people["citizen"],
        code=dossier.code,
        note="Đã bổ sung",
        uploads=[SimpleUploadedFile("cccd-cha.png", PNG)],
        stored_ids=[],
        now=answered,
    )
    assert resumed.status == Status.IN_PROCESS and resumed.paused_at is None
    assert resumed.appointment_at > paused.appointment_at  # moved by the working time it waited
    assert dossier.notices.get().answered_at == answered
    assert Document.objects.filter(dossier=dossier, name__contains="cccd-cha").exists()
    event = Event.objects.filter(dossier=dossier).latest("id")
    assert (event.action, event.note, event.actor_name) == ("supplement_answer", "Đã bổ sung", "Nguyễn Thị Hồng Nhung")
    with pytest.raises(Conflict):  # once answered, not again
        online.dossier_supplement_answer(
            user=people["citizen"], code=dossier.code, note="", uploads=[pdf()], stored_ids=[]
        )


def test_withdrawing_before_acceptance_is_immediate_after_it_a_request(people):  # type: ignore[no-untyped-def]
    waiting = submitted(people["citizen"])
    with pytest.raises(ValidationFailed):
        online.dossier_withdraw(user=people["citizen"], code=waiting.code, reason="")
    withdrawn = online.dossier_withdraw(user=people["citizen"], code=waiting.code, reason="Nộp nhầm thủ tục")
    assert withdrawn.status == Status.WITHDRAWN and withdrawn.current_task is None
    dossier = _in_process(people)
    requested = online.dossier_withdraw(user=people["citizen"], code=dossier.code, reason="Không còn nhu cầu")
    assert requested.status == Status.IN_PROCESS and requested.withdrawal_requested_at is not None
    with pytest.raises(Conflict):
        online.dossier_withdraw(user=people["citizen"], code=dossier.code, reason="Lần nữa")
    # The agency stops it (form 5): status 7.
    act(people["specialist"], dossier, "stop", MONDAY + dt.timedelta(hours=3), reason="Công dân xin rút hồ sơ")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.WITHDRAWN


def test_the_result_goes_to_the_citizens_data_store_and_only_they_download_it(people):  # type: ignore[no-untyped-def]
    dossier = _in_process(people)
    t = MONDAY + dt.timedelta(hours=1)
    act(people["specialist"], dossier, "forward", t)
    act(people["leader"], dossier, "claim", t)
    assert not online.results_of(dossier=Dossier.objects.get(pk=dossier.pk)).exists()
    act(people["leader"], dossier, "record_result", t, files=[SimpleUploadedFile("trich-luc.pdf", PDF + b"kq")])
    resolved = Dossier.objects.get(pk=dossier.pk)
    result = online.results_of(dossier=resolved).get()
    stored = StoredDocument.objects.get(owner=people["citizen"], origin=StoredDocument.Origin.RESULT)
    assert stored.checksum == result.checksum and stored.dossier_code == dossier.code
    client = Client()
    client.force_login(people["citizen"])
    url = reverse("portal:my-dossier-result", args=[dossier.code, result.pk])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(people["other"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("portal:my-dossier", args=[dossier.code])).status_code == 404


# --- Pages ---------------------------------------------------------------------------------------------------------


def test_the_wizard_pages_walk_through_to_submission(people):  # type: ignore[no-untyped-def]
    client = Client()
    signed_in = client.post(reverse("portal:login"), {"identifier": "089195000123", "password": PASSWORD})
    assert signed_in.status_code == 302
    agency = Agency.objects.get(key="ubnd_30307")
    response = client.post(reverse("portal:apply", args=[BIRTH]), {"agency": agency.pk})
    draft = Draft.objects.get(citizen=people["citizen"])
    assert response.status_code == 302 and response["Location"] == reverse("portal:draft-form", args=[draft.pk])
    assert client.post(reverse("portal:draft-form", args=[draft.pk]), {}).status_code == 302
    page = client.get(reverse("portal:draft-documents", args=[draft.pk]))
    assert page.status_code == 200 and "Đăng ký khai sinh" in page.content.decode()
    bad = client.post(
        reverse("portal:draft-documents", args=[draft.pk]),
        {"do": "add", "component": draft.procedure.components.first().pk, "file": SimpleUploadedFile("x.pdf", EXE)},
    )
    assert bad.status_code == 400 and "không phải là tệp PDF, JPEG hoặc PNG" in bad.content.decode()
    assert not StoredDocument.objects.exists()
    for component in draft.procedure.components.filter(required=True):
        client.post(
            reverse("portal:draft-documents", args=[draft.pk]),
            {"do": "add", "component": component.pk, "file": pdf(f"c{component.pk}.pdf")},
        )
    assert client.post(reverse("portal:draft-documents", args=[draft.pk]), {"do": "done"}).status_code == 302
    response = client.post(reverse("portal:draft-delivery", args=[draft.pk]), {"delivery": "online"})
    assert response.status_code == 302
    assert client.post(reverse("portal:draft-payment", args=[draft.pk]), {"do": "next"}).status_code == 302
    review = client.get(reverse("portal:draft-review", args=[draft.pk]))
    assert review.status_code == 200 and "Nộp hồ sơ" in review.content.decode()
    response = client.post(reverse("portal:draft-review", args=[draft.pk]))
    dossier = Dossier.objects.get(citizen=people["citizen"])
    assert response.status_code == 302 and response["Location"] == reverse("portal:my-dossier", args=[dossier.code])
    listing = client.get(reverse("portal:my-dossiers")).content.decode()
    assert dossier.code in listing and "Mới đăng ký" in listing
    # The counter's dossier page offers acceptance.
    counter = Client()
    counter.force_login(people["counter"].user)
    page = counter.get(reverse("backoffice:dossier", args=[dossier.code])).content.decode()
    assert "Tiếp nhận hồ sơ" in page or "Accept the dossier" in page
    response = counter.post(reverse("backoffice:online-accept", args=[dossier.code]), {"task": dossier.current_task_id})
    assert response.status_code == 302 and Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED
    again = counter.post(reverse("backoffice:online-accept", args=[dossier.code]), {"task": dossier.current_task_id})
    assert again.status_code == 409


def test_citizen_pages_need_a_citizen_account(people):  # type: ignore[no-untyped-def]
    client = Client()
    response = client.get(reverse("portal:my-dossiers"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]
    client.force_login(people["counter"].user)
    assert client.get(reverse("portal:my-dossiers")).status_code == 403
