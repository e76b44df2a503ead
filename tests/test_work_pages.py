"""Officers' pages: the dossier page offers only permitted actions; forms, conflicts and queues."""

import re

import pytest
from django.test import Client

from dossiers.models import Dossier, Event, Status
from dossiers.services import dossier_receive
from organizations.models import Role

from .conftest import PASSWORD
from .dossier_helpers import intake, officer
from .workflow_helpers import handling_department, publish_standard, staff


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    publish_standard()
    department = handling_department()
    return {
        "counter": officer(),
        "specialist": staff("cv.p1", role=Role.SPECIALIST, department=department, full_name="Ngô Văn Hùng"),
        "specialist2": staff("cv.p2", role=Role.SPECIALIST, department=department, full_name="Lê Thị Bé"),
    }


def signed_in(who) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=who.user.username, password=PASSWORD)
    return client


def offered(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', html)


def test_the_page_offers_only_what_the_officer_may_do(people):  # type: ignore[no-untyped-def]
    dossier = dossier_receive(officer=people["counter"], intake=intake())
    counter = signed_in(people["counter"])
    html = counter.get(f"/mot-cua/ho-so/{dossier.code}/").content.decode()
    assert offered(html) == ["forward", "stop"]
    assert "Tiếp nhận và chuyển hồ sơ" in html
    assert re.search(r'data-deadline="(on_time|due_soon)"', html)  # a one-day procedure may be due tomorrow
    assert offered(signed_in(people["specialist"]).get(f"/mot-cua/ho-so/{dossier.code}/").content.decode()) == []

    response = counter.post(f"/mot-cua/ho-so/{dossier.code}/xu-ly/forward/", {"task": dossier.current_task_id})
    assert response.status_code == 302
    page = signed_in(people["specialist"]).get(f"/mot-cua/ho-so/{dossier.code}/").content.decode()
    assert offered(page) == ["claim"] and "Thẩm định, xử lý hồ sơ" in page


def test_a_second_officer_gets_a_clear_conflict(people):  # type: ignore[no-untyped-def]
    dossier = dossier_receive(officer=people["counter"], intake=intake())
    counter = signed_in(people["counter"])
    counter.post(f"/mot-cua/ho-so/{dossier.code}/xu-ly/forward/", {"task": dossier.current_task_id})
    task = Dossier.objects.get(pk=dossier.pk).current_task_id
    one, two = signed_in(people["specialist"]), signed_in(people["specialist2"])
    assert one.post(f"/mot-cua/ho-so/{dossier.code}/xu-ly/claim/", {"task": task}).status_code == 302
    late = two.post(f"/mot-cua/ho-so/{dossier.code}/xu-ly/claim/", {"task": task})
    assert late.status_code == 409
    assert "Ngô Văn Hùng đã nhận xử lý hồ sơ này" in late.content.decode()
    assert Event.objects.filter(dossier=dossier, action="claim").count() == 1


def test_a_form_error_is_shown_beside_the_field_and_changes_nothing(people):  # type: ignore[no-untyped-def]
    dossier = dossier_receive(officer=people["counter"], intake=intake())
    signed_in(people["counter"]).post(
        f"/mot-cua/ho-so/{dossier.code}/xu-ly/forward/", {"task": dossier.current_task_id}
    )
    task = Dossier.objects.get(pk=dossier.pk).current_task_id
    client = signed_in(people["specialist"])
    client.post(f"/mot-cua/ho-so/{dossier.code}/xu-ly/claim/", {"task": task})
    response = client.post(
        f"/mot-cua/ho-so/{dossier.code}/xu-ly/request_supplement/", {"task": task, "reason": "Thiếu giấy tờ"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Liệt kê các giấy tờ người nộp cần bổ sung." in html and "Thiếu giấy tờ" in html  # kept as typed
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESS
    ok = client.post(
        f"/mot-cua/ho-so/{dossier.code}/xu-ly/request_supplement/",
        {"task": task, "reason": "Thiếu giấy tờ", "items": "Bản sao giấy chứng sinh\nTờ khai"},
    )
    assert ok.status_code == 302
    page = client.get(f"/mot-cua/ho-so/{dossier.code}/").content.decode()
    assert 'data-deadline="paused"' in page and offered(page) == ["resume"]
    notice = Dossier.objects.get(pk=dossier.pk).notices.get()
    assert notice.items == ["Bản sao giấy chứng sinh", "Tờ khai"]
    assert client.get(f"/mot-cua/ho-so/{dossier.code}/phieu/{notice.pk}.pdf").status_code == 200


def test_the_queue_page_runs_a_constant_number_of_queries(people, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    client = signed_in(people["specialist"])

    def queries_for_page() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/mot-cua/viec-cua-toi/", {"queue": "department"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    def one_more() -> None:
        d = dossier_receive(officer=people["counter"], intake=intake())
        signed_in(people["counter"]).post(f"/mot-cua/ho-so/{d.code}/xu-ly/forward/", {"task": d.current_task_id})

    one_more()
    few = queries_for_page()
    for _ in range(4):
        one_more()
    assert queries_for_page() == few
    html = client.get("/mot-cua/viec-cua-toi/", {"queue": "department"}).content.decode()
    assert html.count('class="code"') == 5 and 'data-count="5"' in html
    assert client.get("/mot-cua/viec-cua-toi/", {"queue": "nope"}).status_code == 404


def test_queue_rows_show_the_task_escaped_and_filters_count_their_own_rows(people):  # type: ignore[no-untyped-def]
    from procedures.models import Procedure

    first = dossier_receive(officer=people["counter"], intake=intake())
    second = dossier_receive(officer=people["counter"], intake=intake())
    for d in (first, second):
        signed_in(people["counter"]).post(f"/mot-cua/ho-so/{d.code}/xu-ly/forward/", {"task": d.current_task_id})
    Procedure.objects.filter(pk=first.procedure_id).update(name="Cấp <b>giấy</b> & phép")
    client = signed_in(people["specialist"])
    html = client.get("/mot-cua/viec-cua-toi/", {"queue": "department"}).content.decode()
    row = re.search(rf'<tr[^>]*><td><a class="code" href="/mot-cua/ho-so/{first.code}/">{first.code}</a>.*?</tr>', html)
    assert row is not None
    assert "Cấp &lt;b&gt;giấy&lt;/b&gt; &amp; phép" in row.group(0) and "<b>giấy" not in html
    assert "Đang xử lý" in row.group(0)
    assert re.search(r'deadline-(on_time|due_soon)">\d\d:\d\d \d\d/\d\d/\d{4}</span>', row.group(0))
    assert f'<option value="{first.procedure_id}">Cấp &lt;b&gt;giấy&lt;/b&gt; &amp; phép</option>' in html
    # Filtered, the page counts the filtered rows (not the whole queue's badge).
    other = Procedure.objects.exclude(pk=first.procedure_id).values_list("pk", flat=True).first()
    html = client.get("/mot-cua/viec-cua-toi/", {"queue": "department", "procedure": other}).content.decode()
    assert 'class="code"' not in html and "Không có mục nào." in html
    assert f'<option value="{other}" selected>' in html or other is None
