"""Citizens' feedback: ratings of resolved dossiers, feedback (PAKN) routed, answered on time or late, the FAQ search,
the satisfaction and timeliness figures, and the pages of citizens and officers."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import redis
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citizens.models import Citizen
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.selectors import calendar_for
from dossiers.models import Dossier, Status
from dossiers.services import dossier_receive
from feedback.models import Faq, Feedback, Rating
from feedback.selectors import (
    access_feedback_for_officer,
    can_rate,
    faq_search,
    feedback_for_officer,
    feedback_timeliness,
    rating_for,
    satisfaction,
)
from feedback.services import faq_load_demo, feedback_answer, feedback_close, feedback_submit, rating_submit
from organizations.models import Agency
from procedures.models import Field

from .conftest import PASSWORD
from .dossier_helpers import intake, officer

pytestmark = pytest.mark.django_db

VN = dt.timezone(dt.timedelta(hours=7))
MONDAY = dt.datetime(2026, 11, 9, 8, 0, tzinfo=VN)  # an ordinary working week; 24 Nov 2026 is Cultural Day (off)
# 15 working days after Monday 9 Nov 2026 08:00: weekends and Tuesday 24 Nov are skipped.
MONDAY_DUE = dt.datetime(2026, 12, 1, 8, 0, tzinfo=VN)


@pytest.fixture(autouse=True)
def _no_feedback_budget_left_over():  # type: ignore[no-untyped-def]
    """The daily feedback budget lives in Redis, keyed by account id; ids repeat from one test database to the
    next, so every test starts with the budget of this scope empty."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("rl:feedback:*"):
        client.delete(key)


def citizen(username: str = "cd.an", full_name: str = "Nguyễn Văn An"):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Citizen.objects.create(
        user=user, full_name=full_name, phone="0912000111", email=f"{username}@example.vn", id_number="089095000111"
    )
    return user


def dossier_of(user, *, status: int = Status.RETURNED, agency_key: str = "ubnd_30307") -> Dossier:  # type: ignore[no-untyped-def]
    """A dossier received at the Long Xuyên counter for ``agency_key``, linked to the citizen's account, in
    ``status``."""
    dossier = dossier_receive(
        officer=officer(), intake=intake(agency=Agency.objects.get(key=agency_key), name=user.citizen.full_name)
    )
    Dossier.objects.filter(pk=dossier.pk).update(citizen=user, status=status)
    dossier.refresh_from_db()
    return dossier


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def general(user, agency: Agency, **kwargs) -> Feedback:  # type: ignore[no-untyped-def]
    values = {"kind": Feedback.Kind.SUGGESTION, "title": "Bãi giữ xe", "content": "Đề nghị mở rộng bãi giữ xe."}
    return feedback_submit(user=user, agency_id=agency.pk, **{**values, **kwargs})


# Ratings --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.RETURNED])
def test_the_citizen_rates_their_resolved_dossier_once(status):  # type: ignore[no-untyped-def]
    user = citizen()
    dossier = dossier_of(user, status=status)
    assert can_rate(user=user, dossier=dossier) is True and rating_for(dossier=dossier) is None

    rating = rating_submit(user=user, code=dossier.code, level=Rating.Level.VERY_SATISFIED, comment="  Nhanh, gọn.  ")

    assert (rating.level, rating.comment, rating.user, rating.dossier) == (3, "Nhanh, gọn.", user, dossier)
    assert rating_for(dossier=dossier) == rating and can_rate(user=user, dossier=dossier) is False
    with pytest.raises(Conflict):
        rating_submit(user=user, code=dossier.code, level=Rating.Level.DISSATISFIED)
    assert list(Rating.objects.values_list("level", flat=True)) == [3]


def test_another_citizen_cannot_rate_the_dossier():  # type: ignore[no-untyped-def]
    owner, other = citizen(), citizen("cd.binh", "Trần Thị Bình")
    dossier = dossier_of(owner)
    assert can_rate(user=other, dossier=dossier) is False
    with pytest.raises(NotFound):
        rating_submit(user=other, code=dossier.code, level=Rating.Level.SATISFIED)
    assert not Rating.objects.exists()


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.IN_PROCESS, Status.WAITING_SUPPLEMENT, Status.REFUSED])
def test_a_dossier_is_rated_only_once_its_result_is_ready(status):  # type: ignore[no-untyped-def]
    user = citizen()
    dossier = dossier_of(user, status=status)
    assert can_rate(user=user, dossier=dossier) is False
    with pytest.raises(Conflict):
        rating_submit(user=user, code=dossier.code, level=Rating.Level.SATISFIED)
    assert not Rating.objects.exists()


def test_a_rating_outside_the_scale_changes_nothing():  # type: ignore[no-untyped-def]
    user = citizen()
    dossier = dossier_of(user)
    with pytest.raises(ValidationFailed) as exc:
        rating_submit(user=user, code=dossier.code, level=5, comment="x" * 2001)
    assert set(exc.value.detail) == {"level", "comment"}
    assert not Rating.objects.exists() and can_rate(user=user, dossier=dossier) is True


# Feedback: submission and routing ------------------------------------------------------------------------------


def test_feedback_about_a_dossier_goes_to_the_dossiers_agency_due_in_15_working_days():  # type: ignore[no-untyped-def]
    user = citizen()
    # Received at a Long Xuyên counter for Phú Quốc: the competent agency answers, not the receiving one.
    dossier = dossier_of(user, status=Status.IN_PROCESS, agency_key="ubnd_31078")
    with time_machine.travel(MONDAY, tick=False):
        feedback = feedback_submit(
            user=user, kind="complaint", title=" Chậm trả kết quả ", content="Quá hẹn chưa có kết quả.",
            dossier_code=dossier.code, agency_id=Agency.objects.get(key="stp").pk, public=True,
        )  # fmt: skip
    assert feedback.agency == Agency.objects.get(key="ubnd_31078") == dossier.agency
    assert feedback.dossier == dossier and feedback.field == dossier.procedure.field
    assert (feedback.title, feedback.status, feedback.public) == ("Chậm trả kết quả", "received", True)
    assert (feedback.name, feedback.phone, feedback.email) == ("Nguyễn Văn An", "0912000111", "cd.an@example.vn")
    assert feedback.received_at == MONDAY and feedback.due_at == MONDAY_DUE
    assert feedback.due_at == calendar_for(working_hours=feedback.agency.working_hours).add(MONDAY, Decimal(15), "days")


def test_general_feedback_goes_to_the_agency_the_citizen_chose():  # type: ignore[no-untyped-def]
    user = citizen()
    stp = Agency.objects.get(key="stp")
    field = Field.objects.get(code="chung_thuc")
    # The agency's own working hours count: a late afternoon start keeps its time on the 15th working day.
    Agency.objects.filter(pk=stp.pk).update(working_hours=[["07:30", "11:30"], ["13:30", "17:30"]])
    start = MONDAY.replace(hour=16)
    with time_machine.travel(start, tick=False):
        feedback = general(user, stp, kind="question", field_id=field.pk)
    assert (feedback.agency, feedback.field, feedback.dossier, feedback.kind) == (stp, field, None, "question")
    assert feedback.due_at == dt.datetime(2026, 12, 1, 16, 0, tzinfo=VN)
    assert feedback.public is False


def test_bad_feedback_changes_nothing():  # type: ignore[no-untyped-def]
    user, other = citizen(), citizen("cd.binh", "Trần Thị Bình")
    with pytest.raises(ValidationFailed) as exc:
        feedback_submit(user=user, kind="praise", title="  ", content="", agency_id=None, field_id=999999)
    assert set(exc.value.detail) == {"kind", "title", "content", "agency_id", "field_id"}
    with pytest.raises(ValidationFailed) as exc:
        feedback_submit(user=user, kind="complaint", title="T" * 201, content="Nội dung", agency_id=999999)
    assert set(exc.value.detail) == {"title", "agency_id"}
    # Someone else's dossier is not one the citizen may name.
    foreign = dossier_of(other)
    with pytest.raises(ValidationFailed) as exc:
        feedback_submit(user=user, kind="complaint", title="T", content="N", dossier_code=foreign.code)
    assert set(exc.value.detail) == {"dossier_code"}
    # A staff account (no citizen profile) cannot send feedback.
    with pytest.raises(PermissionDenied):
        general(officer().user, Agency.objects.get(key="stp"))
    assert not Feedback.objects.exists()


def test_a_citizen_cannot_flood_the_agencies(settings):  # type: ignore[no-untyped-def]
    settings.FEEDBACK_PER_DAY = 2
    user, stp = citizen(), Agency.objects.get(key="stp")
    general(user, stp)
    general(user, stp)
    with pytest.raises(PermissionDenied):
        general(user, stp)
    assert Feedback.objects.count() == 2
    general(citizen("cd.binh", "Trần Thị Bình"), stp)  # another citizen has their own budget
    assert Feedback.objects.count() == 3


# Feedback: answers ----------------------------------------------------------------------------------------------


def test_an_officer_of_the_agency_answers_once_and_on_time():  # type: ignore[no-untyped-def]
    user, lx = citizen(), Agency.objects.get(key="ubnd_30307")
    with time_machine.travel(MONDAY, tick=False):
        feedback = general(user, lx)
    clerk = officer()
    with time_machine.travel(MONDAY + dt.timedelta(days=3), tick=False):
        answered = feedback_answer(officer=clerk, feedback_id=feedback.pk, answer="  Đã tiếp thu, sẽ mở rộng.  ")
    assert (answered.status, answered.answer, answered.answered_by) == ("answered", "Đã tiếp thu, sẽ mở rộng.", clerk)
    assert answered.answered_at == MONDAY + dt.timedelta(days=3) and answered.answered_on_time is True
    with pytest.raises(Conflict):
        feedback_answer(officer=clerk, feedback_id=feedback.pk, answer="Trả lời lần hai")
    feedback.refresh_from_db()
    assert feedback.answer == "Đã tiếp thu, sẽ mở rộng."


def test_an_officer_of_another_agency_cannot_answer_or_see_it():  # type: ignore[no-untyped-def]
    feedback = general(citizen(), Agency.objects.get(key="ubnd_30307"))
    outsider = officer(agency_key="ubnd_30742", username="x.rg", role="agency_admin")
    with pytest.raises(NotFound):
        feedback_answer(officer=outsider, feedback_id=feedback.pk, answer="Không phải việc của chúng tôi")
    with pytest.raises(NotFound):
        access_feedback_for_officer(officer=outsider, pk=feedback.pk)
    assert list(feedback_for_officer(officer=outsider)) == []
    feedback.refresh_from_db()
    assert feedback.status == "received" and feedback.answer == "" and feedback.answered_by is None


def test_a_province_administrator_may_answer_any_agencys_feedback(province_admin):  # type: ignore[no-untyped-def]
    feedback = general(citizen(), Agency.objects.get(key="ubnd_30307"))
    assert access_feedback_for_officer(officer=province_admin, pk=feedback.pk) == feedback
    assert feedback_answer(officer=province_admin, feedback_id=feedback.pk, answer="Đã chuyển xử lý.").status == (
        "answered"
    )


def test_an_answer_after_15_working_days_is_late_and_an_empty_answer_changes_nothing():  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        feedback = general(citizen(), Agency.objects.get(key="ubnd_30307"))
    clerk = officer()
    with pytest.raises(ValidationFailed) as exc:
        feedback_answer(officer=clerk, feedback_id=feedback.pk, answer="   ")
    assert set(exc.value.detail) == {"answer"}
    feedback.refresh_from_db()
    assert feedback.status == "received" and feedback.answered_at is None
    with time_machine.travel(MONDAY_DUE + dt.timedelta(minutes=1), tick=False):
        assert (
            feedback_answer(officer=clerk, feedback_id=feedback.pk, answer="Xin lỗi vì chậm.").answered_on_time is False
        )


def test_only_answered_feedback_is_closed():  # type: ignore[no-untyped-def]
    feedback = general(citizen(), Agency.objects.get(key="ubnd_30307"))
    clerk = officer()
    with pytest.raises(Conflict):
        feedback_close(officer=clerk, feedback_id=feedback.pk)
    feedback_answer(officer=clerk, feedback_id=feedback.pk, answer="Đã xử lý.")
    with pytest.raises(NotFound):
        feedback_close(officer=officer(agency_key="stp", username="x.stp"), feedback_id=feedback.pk)
    closed = feedback_close(officer=clerk, feedback_id=feedback.pk)
    assert closed.status == "closed" and closed.closed_at is not None
    with pytest.raises(Conflict):
        feedback_close(officer=clerk, feedback_id=feedback.pk)


def test_the_officers_list_puts_overdue_feedback_first():  # type: ignore[no-untyped-def]
    user, lx = citizen(), Agency.objects.get(key="ubnd_30307")
    with time_machine.travel(MONDAY, tick=False):
        old = general(user, lx, title="Cũ")
    with time_machine.travel(MONDAY_DUE + dt.timedelta(days=3), tick=False):
        answered = general(user, lx, title="Đã trả lời")
        fresh = general(user, lx, title="Mới")
        feedback_answer(officer=officer(), feedback_id=answered.pk, answer="OK")
        clerk = officer()
        assert [f.title for f in feedback_for_officer(officer=clerk)] == ["Cũ", "Mới", "Đã trả lời"]
        assert list(feedback_for_officer(officer=clerk, status="overdue")) == [old]
        assert list(feedback_for_officer(officer=clerk, status="received")) == [old, fresh]
        assert list(feedback_for_officer(officer=clerk, status="answered")) == [answered]
        assert list(feedback_for_officer(officer=clerk, status="nonsense")) == []


# FAQ ------------------------------------------------------------------------------------------------------------


def test_the_demo_faq_loads_once():  # type: ignore[no-untyped-def]
    created = faq_load_demo()
    assert created >= 10 and Faq.objects.count() == created
    assert set(Faq.objects.values_list("field__code", flat=True)) == {
        "ho_tich",
        "chung_thuc",
        "dat_dai",
        "ho_kinh_doanh",
    }
    assert faq_load_demo() == 0 and Faq.objects.count() == created


def test_the_faq_search_ignores_case_and_diacritics():  # type: ignore[no-untyped-def]
    ho_tich = Field.objects.get(code="ho_tich")
    chung_thuc = Field.objects.get(code="chung_thuc")
    capital = Faq.objects.create(field=ho_tich, question="Khai sinh cho trẻ sinh ở nước ngoài?", answer="Được.")
    plain = Faq.objects.create(field=ho_tich, question="dang ky khai sinh qua mang the nao", answer="Tren Cong DVC.")
    other = Faq.objects.create(field=chung_thuc, question="Chứng thực chữ ký ở đâu?", answer="Tại xã, phường.")
    Faq.objects.create(field=ho_tich, question="Khai sinh (bản nháp)", answer="Chưa công bố.", published=False)

    assert list(faq_search(q="khai sinh", field_id=None)) == [capital, plain]
    assert list(faq_search(q="KHAI SINH", field_id=ho_tich.pk)) == [capital, plain]
    # Typed with diacritics, found without; typed without, found with ("đ" folds to "d").
    assert list(faq_search(q="Đăng ký khai sinh", field_id=None)) == [plain]
    assert list(faq_search(q="chung thuc chu ky", field_id=None)) == [other]
    assert list(faq_search(q="xa phuong", field_id=None)) == [other]  # the answer is searched too
    assert list(faq_search(q="khai sinh", field_id=chung_thuc.pk)) == []
    assert list(faq_search(q="", field_id=chung_thuc.pk)) == [other]
    assert list(faq_search(q="100% _ %", field_id=None)) == []


# Quality index, group 5 ----------------------------------------------------------------------------------------


def test_satisfaction_counts_ratings_by_level_in_the_period_and_agencies():  # type: ignore[no-untyped-def]
    user = citizen()
    lx, pq = Agency.objects.get(key="ubnd_30307"), Agency.objects.get(key="ubnd_31078")
    plan = [
        (lx, Rating.Level.VERY_SATISFIED, dt.datetime(2026, 11, 2, 0, 30, tzinfo=VN)),  # first minutes of the period
        (lx, Rating.Level.SATISFIED, dt.datetime(2026, 11, 15, 9, 0, tzinfo=VN)),
        (lx, Rating.Level.DISSATISFIED, dt.datetime(2026, 11, 30, 23, 30, tzinfo=VN)),  # last minutes of the period
        (lx, Rating.Level.DISSATISFIED, dt.datetime(2026, 12, 1, 0, 10, tzinfo=VN)),  # the next period
        (pq, Rating.Level.VERY_SATISFIED, dt.datetime(2026, 11, 20, 10, 0, tzinfo=VN)),
    ]
    for agency, level, at in plan:
        dossier = dossier_of(user, agency_key=agency.key)
        with time_machine.travel(at, tick=False):
            rating_submit(user=user, code=dossier.code, level=level)

    november = {"start": dt.date(2026, 11, 2), "end": dt.date(2026, 11, 30)}
    assert satisfaction(agency_ids=[lx.pk], **november) == {
        "total": 3, "by_level": {3: 1, 2: 1, 1: 1}, "satisfied": 2, "rate": 66.67,
    }  # fmt: skip
    assert satisfaction(agency_ids=None, **november)["by_level"] == {3: 2, 2: 1, 1: 1}
    assert satisfaction(agency_ids=[lx.pk, pq.pk], **november)["rate"] == 75.0
    assert satisfaction(agency_ids=[Agency.objects.get(key="stp").pk], **november) == {
        "total": 0, "by_level": {3: 0, 2: 0, 1: 0}, "satisfied": 0, "rate": None,
    }  # fmt: skip


def test_timeliness_counts_answers_on_time_late_and_open_overdue():  # type: ignore[no-untyped-def]
    user, lx, stp = citizen(), Agency.objects.get(key="ubnd_30307"), Agency.objects.get(key="stp")
    clerk = officer()
    with time_machine.travel(MONDAY, tick=False):
        on_time, late, overdue = (general(user, lx, title=t) for t in ("a", "b", "c"))
        general(user, stp)  # another agency
    with time_machine.travel(MONDAY + dt.timedelta(days=2), tick=False):
        feedback_answer(officer=clerk, feedback_id=on_time.pk, answer="Đúng hạn")
    with time_machine.travel(MONDAY_DUE + dt.timedelta(days=3), tick=False):
        recent = general(user, lx, title="d")  # still within its 15 working days
        feedback_answer(officer=clerk, feedback_id=late.pk, answer="Trễ hạn")
    now = MONDAY_DUE + dt.timedelta(days=4)
    period = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 12, 31), "now": now}
    assert feedback_timeliness(agency_ids=[lx.pk], **period) == {
        "total": 4, "on_time": 1, "late": 1, "open": 1, "open_overdue": 1, "rate": 33.33,
    }  # fmt: skip
    assert feedback_timeliness(agency_ids=None, **period)["open_overdue"] == 2
    assert overdue.pk and recent.pk
    assert feedback_timeliness(agency_ids=[lx.pk], start=dt.date(2027, 1, 1), end=dt.date(2027, 1, 31))["total"] == 0


# Pages ----------------------------------------------------------------------------------------------------------


def test_the_citizen_rates_from_the_portal_page():  # type: ignore[no-untyped-def]
    user = citizen()
    dossier = dossier_of(user, status=Status.IN_PROCESS)
    client = signed_in(user)
    url = reverse("portal:dossier-rate", args=[dossier.code])
    page = client.get(url)
    assert page.status_code == 200 and 'name="level"' not in page.content.decode()
    assert client.post(url, {"level": "3"}).status_code == 409 and not Rating.objects.exists()

    Dossier.objects.filter(pk=dossier.pk).update(status=Status.RETURNED)
    html = client.get(url).content.decode()
    assert html.count('name="level"') == 3
    bad = client.post(url, {"level": "7"})
    assert bad.status_code == 400 and not Rating.objects.exists()
    assert re.search(r'<fieldset[^>]*aria-describedby="id_level_error"', bad.content.decode())
    assert 'id="id_level_error"' in bad.content.decode()
    assert client.post(url, {"level": "2", "comment": "Cán bộ nhiệt tình"}).status_code == 302
    assert Rating.objects.get().level == 2
    assert "Cán bộ nhiệt tình" in client.get(url).content.decode()
    assert signed_in(citizen("cd.binh", "Trần Thị Bình")).get(url).status_code == 404


def test_the_citizen_sends_feedback_and_reads_the_answer():  # type: ignore[no-untyped-def]
    user = citizen()
    dossier = dossier_of(user, status=Status.IN_PROCESS)
    client = signed_in(user)
    new = reverse("portal:feedback-new")
    form = client.get(new, {"ho-so": dossier.code}).content.decode()
    assert re.search(rf'<option value="{re.escape(dossier.code)}" selected>', form)

    bad = client.post(new, {"kind": "complaint", "title": "", "content": "Nội dung", "dossier_code": ""})
    html = bad.content.decode()
    assert bad.status_code == 400 and not Feedback.objects.exists()
    assert 'aria-describedby="id_title_error"' in html and 'id="id_title_error"' in html
    general_without_agency = client.post(new, {"kind": "question", "title": "Hỏi", "content": "Nội dung"})
    assert general_without_agency.status_code == 400 and not Feedback.objects.exists()
    assert 'aria-describedby="id_agency_id_helptext id_agency_id_error"' in general_without_agency.content.decode()

    sent = client.post(
        new, {"kind": "complaint", "title": "Hẹn trả chậm", "content": "Đã quá hẹn.", "dossier_code": dossier.code}
    )
    feedback = Feedback.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("portal:feedback-detail", args=[feedback.pk])
    assert feedback.agency == dossier.agency and feedback.dossier == dossier

    feedback_answer(officer=officer(), feedback_id=feedback.pk, answer="Hồ sơ đã có kết quả, mời ông nhận.")
    detail = client.get(sent["Location"]).content.decode()
    assert "Hồ sơ đã có kết quả, mời ông nhận." in detail
    listing = client.get(reverse("portal:feedback-list")).content.decode()
    assert "Hẹn trả chậm" in listing and 'data-status="answered"' in listing
    # Not published: the author did not agree; nobody else reaches the page.
    assert "Hồ sơ đã có kết quả" not in Client().get(reverse("portal:feedback-list")).content.decode()
    assert signed_in(citizen("cd.binh", "Trần Thị Bình")).get(sent["Location"]).status_code == 404


def test_published_answers_are_public_and_the_faq_page_searches():  # type: ignore[no-untyped-def]
    user, stp = citizen(), Agency.objects.get(key="stp")
    shown = general(user, stp, title="Giờ làm việc thứ Bảy?", kind="question", public=True)
    hidden = general(user, stp, title="Việc riêng", public=False)
    unanswered = general(user, stp, title="Chưa trả lời", public=True)
    for item in (shown, hidden):
        feedback_answer(officer=officer(agency_key="stp", username="cv.stp"), feedback_id=item.pk, answer="Trả lời")
    html = Client().get(reverse("portal:feedback-list")).content.decode()
    assert "Giờ làm việc thứ Bảy?" in html and "Việc riêng" not in html and "Chưa trả lời" not in html
    assert unanswered.pk

    faq_load_demo()
    page = Client().get(reverse("portal:faq"), {"q": "thoi han dang ky khai sinh"})
    assert page.status_code == 200
    assert "Thời hạn đi đăng ký khai sinh cho trẻ là bao lâu?" in page.content.decode()
    assert page.content.decode().count('class="qa faq-item"') == 1
    field = Field.objects.get(code="chung_thuc")
    filtered = Client().get(reverse("portal:faq"), {"field": field.pk}).content.decode()
    assert filtered.count('class="qa faq-item"') == Faq.objects.filter(field=field).count() > 0
    assert Client().get(reverse("portal:faq"), {"field": "abc"}).status_code == 400


def test_citizen_pages_need_a_signed_in_citizen():  # type: ignore[no-untyped-def]
    for url in (reverse("portal:feedback-new"), reverse("portal:feedback-detail", args=[1])):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_the_officer_answers_on_the_back_office_page():  # type: ignore[no-untyped-def]
    feedback = general(citizen(), Agency.objects.get(key="ubnd_30307"), title="Thiếu ghế chờ")
    clerk = officer()
    client = Client()
    assert client.login(username=clerk.user.username, password=PASSWORD)
    url = reverse("backoffice:pakn-detail", args=[feedback.pk])
    assert "Thiếu ghế chờ" in client.get(url).content.decode()

    bad = client.post(url, {"action": "answer", "answer": "  "})
    html = bad.content.decode()
    assert bad.status_code == 400 and 'aria-describedby="id_answer_error"' in html and 'id="id_answer_error"' in html
    feedback.refresh_from_db()
    assert feedback.status == "received"

    assert client.post(url, {"action": "answer", "answer": "Đã bổ sung ghế."}).status_code == 302
    feedback.refresh_from_db()
    assert (feedback.status, feedback.answer, feedback.answered_by) == ("answered", "Đã bổ sung ghế.", clerk)
    assert client.post(url, {"action": "answer", "answer": "Lần hai"}).status_code == 409
    assert client.post(url, {"action": "close"}).status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == "closed" and feedback.answer == "Đã bổ sung ghế."

    outsider = Client()
    assert outsider.login(username=officer(agency_key="stp", username="x.stp").user.username, password=PASSWORD)
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"action": "close"}).status_code == 404


def test_the_officers_list_page_runs_a_constant_number_of_queries():  # type: ignore[no-untyped-def]
    user, lx = citizen(), Agency.objects.get(key="ubnd_30307")
    dossier = dossier_of(user, status=Status.IN_PROCESS)
    clerk = officer()
    with time_machine.travel(MONDAY, tick=False):
        overdue = general(user, lx, title="Quá hạn rồi")
    # The page is read a few days after the first feedback's 15 working days ran out.
    with time_machine.travel(MONDAY_DUE + dt.timedelta(days=3), tick=False):
        client = Client()
        assert client.login(username=clerk.user.username, password=PASSWORD)
        url = reverse("backoffice:pakn")

        def queries_for_page() -> int:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200
            return len(ctx.captured_queries)

        feedback_submit(user=user, kind="complaint", title="Về hồ sơ", content="…", dossier_code=dossier.code)
        few = queries_for_page()
        for n in range(5):
            answered = general(user, lx, title=f"Góp ý {n}")
            feedback_answer(officer=clerk, feedback_id=answered.pk, answer="Cảm ơn")
        general(user, Agency.objects.get(key="stp"), title="Của sở khác")
        assert queries_for_page() == few

        html = client.get(url).content.decode()
        assert html.count("data-feedback=") == 7 and "Của sở khác" not in html
        first = re.search(r'<tr class="late" data-feedback="(\d+)">', html)
        assert first is not None and int(first.group(1)) == overdue.pk
        assert html.index(f'data-feedback="{overdue.pk}"') < html.index("Về hồ sơ") < html.index("Góp ý")
        assert re.search(r'data-filter="overdue">[^<]*<span class="badge" data-count="1"', html)
        overdue_only = client.get(url, {"status": "overdue"}).content.decode()
        assert overdue_only.count("data-feedback=") == 1
        assert client.get(url, {"status": "nope"}).status_code == 404


# Browser journey -----------------------------------------------------------------------------------------------


def _signed_in_context(browser, base: str, user, *, viewport):  # type: ignore[no-untyped-def]
    """A browser context carrying ``user``'s session, in English: the journey reads the msgids themselves, so it
    holds whatever the Vietnamese catalogue says."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="vi-VN", viewport=viewport)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


@pytest.mark.browser
def test_a_citizen_complains_an_officer_answers_and_the_citizen_rates(live_server, reseeded, browser):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base = live_server.url
    user = citizen()
    dossier = dossier_of(user, status=Status.RETURNED)
    clerk = officer()

    # On a phone: the complaint about the dossier, preselected from the link on the dossier's pages.
    phone = _signed_in_context(browser, base, user, viewport={"width": 390, "height": 844})
    phone.goto(f"{base}/phan-anh-kien-nghi/gui/?ho-so={dossier.code}")
    expect(phone.get_by_label("About one of your dossiers")).to_have_value(dossier.code)
    phone.get_by_label("Complaint").check()
    phone.get_by_role("button", name="Send the feedback").click()
    expect(phone.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    assert not Feedback.objects.exists()
    phone.get_by_label("Title").fill("Cán bộ hẹn lại nhiều lần")
    phone.get_by_label("Content").fill("Tôi phải đi lại ba lần mới nhận được kết quả.")
    phone.get_by_role("button", name="Send the feedback").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Cán bộ hẹn lại nhiều lần")
    expect(phone.get_by_text("Not answered yet.", exact=False)).to_be_visible()

    # The competent agency's officer finds it in the list and answers it.
    desk = _signed_in_context(browser, base, clerk.user, viewport={"width": 1280, "height": 900})
    desk.goto(f"{base}/mot-cua/")
    desk.get_by_role("link", name="Citizens' feedback").click()
    desk.get_by_role("link", name="Cán bộ hẹn lại nhiều lần").click()
    desk.get_by_role("button", name="Send the answer").click()
    expect(desk.get_by_text("This field is required.")).to_be_visible()
    desk.get_by_label("Answer to the citizen").fill("Đơn vị xin lỗi ông và đã nhắc nhở cán bộ.")
    desk.get_by_role("button", name="Send the answer").click()
    expect(desk.get_by_text("The answer was sent to the citizen.")).to_be_visible()
    desk.context.close()

    # The citizen reads the answer, then rates the dossier once.
    phone.reload()
    expect(phone.get_by_text("Đơn vị xin lỗi ông và đã nhắc nhở cán bộ.")).to_be_visible()
    phone.goto(f"{base}/ho-so-cua-toi/{dossier.code}/danh-gia/")
    phone.get_by_label("Dissatisfied").check()
    phone.get_by_label("Comment (optional)").fill("Chờ lâu.")
    phone.get_by_role("button", name="Send my rating").click()
    expect(phone.get_by_text("Thank you. Your rating was recorded.")).to_be_visible()
    expect(phone.locator("[data-level]")).to_have_text("Dissatisfied")
    assert Rating.objects.get().level == Rating.Level.DISSATISFIED
    phone.context.close()


@pytest.mark.browser
def test_anyone_searches_the_faq_without_diacritics(live_server, reseeded, page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    faq_load_demo()
    page.goto(live_server.url + "/hoi-dap/")
    items = page.locator(".faq-item")
    expect(items).to_have_count(Faq.objects.count())
    page.locator("#id_q").fill("chung thuc ban sao")
    expect(items.first).to_contain_text("Chứng thực bản sao")
    expect(items).to_have_count(Faq.objects.filter(question__icontains="bản sao").count())
