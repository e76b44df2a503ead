"""Reads on citizens' feedback: ratings, feedback (PAKN) by scope, the FAQ search, and the figures of the quality
index's group 5 (satisfaction; feedback handled within 15 working days)."""

import datetime as dt
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.calendar import VIETNAM
from core.errors import NotFound
from core.text import words
from dossiers.models import Dossier
from organizations.models import Agency, Role, Staff
from procedures.models import Field

from .models import RATEABLE, Faq, Feedback, Rating

OFFICER_FILTERS = ("received", "answered", "closed", "overdue")


def rating_for(*, dossier: Dossier) -> Rating | None:
    return Rating.objects.filter(dossier=dossier).first()


def can_rate(*, user: Any, dossier: Dossier) -> bool:
    """Whether this user may rate this dossier now: their own, result ready or returned, not yet rated."""
    return bool(
        user is not None
        and user.is_authenticated
        and dossier.citizen_id == user.pk
        and dossier.status in RATEABLE
        and not Rating.objects.filter(dossier=dossier).exists()
    )


# Citizens ------------------------------------------------------------------------------------------------------


def feedback_for_citizen(*, user: Any) -> QuerySet[Feedback]:
    """The citizen's own feedback, newest first."""
    if user is None or not user.is_authenticated:
        return Feedback.objects.none()
    return (
        Feedback.objects.filter(author_id=user.pk).select_related("agency", "dossier").order_by("-received_at", "-id")
    )


def access_feedback_for_citizen(*, user: Any, pk: int) -> Feedback:
    """One of the citizen's own feedback; NotFound for anyone else's."""
    feedback = feedback_for_citizen(user=user).select_related("field", "answered_by__user").filter(pk=pk).first()
    if feedback is None:
        raise NotFound(_("No such feedback."), code="feedback_not_found")
    return feedback


def dossier_choices_for_citizen(*, user: Any) -> list[tuple[str, str]]:
    """(code, "code — procedure") of the citizen's own dossiers that have a code, newest first: what feedback may
    be about."""
    if user is None or not user.is_authenticated:
        return []
    rows = (
        Dossier.objects.filter(citizen_id=user.pk, code__isnull=False)
        .order_by("-submitted_at", "-received_at", "-id")
        .values_list("code", "procedure__name")
    )
    return [(code, f"{code} — {name}") for code, name in rows]


def agency_choices() -> list[tuple[int, str, str]]:
    """(pk, name, level) of the agencies valid today, provincial first, by name: where general feedback may go."""
    return list(
        Agency.objects.valid_on(timezone.localdate()).order_by("-level", "name").values_list("pk", "name", "level")
    )


def feedback_published() -> QuerySet[Feedback]:
    """Answered feedback whose author agreed to publish it, newest answer first (the portal's public Q&A)."""
    return (
        Feedback.objects.filter(public=True, answered_at__isnull=False)
        .select_related("agency")
        .only("pk", "kind", "title", "content", "answer", "answered_at", "agency__name")
        .order_by("-answered_at", "-id")
    )


# Officers ------------------------------------------------------------------------------------------------------


def _officer_scope(officer: Staff) -> Q:
    return Q() if officer.role == Role.PROVINCE_ADMIN else Q(agency_id=officer.agency_id)


def feedback_for_officer(*, officer: Staff, status: str | None = None, now: dt.datetime | None = None) -> QuerySet[Any]:
    """The feedback of the officer's agency (every agency's for a province administrator): unanswered and overdue
    first, then unanswered by due date, then answered and closed, latest answer first.

    ``status`` is one of OFFICER_FILTERS ("overdue" = not answered and past its due date) or None for all.
    """
    now = now or timezone.now()
    overdue = Q(status=Feedback.Status.RECEIVED, due_at__lt=now)
    qs = Feedback.objects.filter(_officer_scope(officer))
    if status == "overdue":
        qs = qs.filter(overdue)
    elif status in Feedback.Status.values:
        qs = qs.filter(status=status)
    elif status:
        return Feedback.objects.none()
    return (
        qs.select_related("agency", "dossier")
        .annotate(
            urgency=Case(
                When(overdue, then=Value(0)),
                When(status=Feedback.Status.RECEIVED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("urgency", Case(When(status=Feedback.Status.RECEIVED, then=F("due_at"))), "-answered_at", "-id")
    )


def feedback_counts(*, officer: Staff, now: dt.datetime | None = None) -> dict[str, int]:
    """How many of the officer's feedback each filter holds, in one query."""
    now = now or timezone.now()
    return Feedback.objects.filter(_officer_scope(officer)).aggregate(
        all=Count("id"),
        received=Count("id", filter=Q(status=Feedback.Status.RECEIVED)),
        overdue=Count("id", filter=Q(status=Feedback.Status.RECEIVED, due_at__lt=now)),
        answered=Count("id", filter=Q(status=Feedback.Status.ANSWERED)),
        closed=Count("id", filter=Q(status=Feedback.Status.CLOSED)),
    )


def access_feedback_for_officer(*, officer: Staff, pk: int) -> Feedback:
    """Feedback of the officer's agency (any, for a province administrator); NotFound otherwise."""
    feedback = (
        Feedback.objects.filter(_officer_scope(officer))
        .select_related("agency", "field", "dossier__procedure", "answered_by__user")
        .filter(pk=pk)
        .first()
    )
    if feedback is None:
        raise NotFound(_("No such feedback."), code="feedback_not_found")
    return feedback


# FAQ -----------------------------------------------------------------------------------------------------------


def faq_search(*, q: str = "", field_id: int | None = None) -> QuerySet[Faq]:
    """Published questions and answers containing every word of ``q`` (in the question or the answer), regardless
    of case and diacritics: "dang ky khai sinh" finds "Đăng ký khai sinh"."""
    qs = Faq.objects.filter(published=True).select_related("field")
    if field_id is not None:
        qs = qs.filter(field_id=field_id)
    # The words are folded here as unaccent(lower()) folds the columns; PostgreSQL compares the two.
    for term in words(q or ""):
        qs = qs.filter(Q(question__unaccent__icontains=term) | Q(answer__unaccent__icontains=term))
    return qs.order_by("field__name", "order", "id")


def faq_fields() -> QuerySet[Field]:
    """The fields that have published questions, with how many, for the FAQ page's filter."""
    return (
        Field.objects.annotate(faq_count=Count("faqs", filter=Q(faqs__published=True)))
        .filter(faq_count__gt=0)
        .order_by("name")
    )


# Quality index, group 5 ----------------------------------------------------------------------------------------


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in Vietnam's time: the index's periods are local calendar days."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=VIETNAM),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=VIETNAM),
    )


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def satisfaction(*, agency_ids: list[int] | None, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Ratings given from ``start`` to ``end`` (both included) on dossiers of ``agency_ids`` (None: all agencies).

    ``by_level`` counts each level of Rating.Level; ``rate`` is the share of satisfied ratings ("satisfied" and "very
    satisfied") in percent, None when nobody rated.
    """
    low, high = _bounds(start, end)
    qs = Rating.objects.filter(created_at__gte=low, created_at__lt=high)
    if agency_ids is not None:
        qs = qs.filter(dossier__agency_id__in=agency_ids)
    counts = qs.aggregate(
        total=Count("id"), **{f"level_{level}": Count("id", filter=Q(level=level)) for level in Rating.Level.values}
    )
    by_level = {level: counts[f"level_{level}"] for level in Rating.Level.values}
    satisfied = by_level[Rating.Level.VERY_SATISFIED] + by_level[Rating.Level.SATISFIED]
    return {
        "total": counts["total"],
        "by_level": by_level,
        "satisfied": satisfied,
        "rate": _percent(satisfied, counts["total"]),
    }


def feedback_timeliness(
    *, agency_ids: list[int] | None, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Feedback received from ``start`` to ``end`` (both included) by ``agency_ids`` (None: all agencies):
    answered on time, answered late, still open within its 15 working days, open and overdue; ``rate`` is the share
    answered on time among those that are due (answered, or open past their due date), in percent."""
    now = now or timezone.now()
    low, high = _bounds(start, end)
    qs = Feedback.objects.filter(received_at__gte=low, received_at__lt=high)
    if agency_ids is not None:
        qs = qs.filter(agency_id__in=agency_ids)
    unanswered = Q(answered_at__isnull=True)
    counts = qs.aggregate(
        total=Count("id"),
        on_time=Count("id", filter=Q(answered_on_time=True)),
        late=Count("id", filter=Q(answered_on_time=False)),
        open=Count("id", filter=unanswered & Q(due_at__gte=now)),
        open_overdue=Count("id", filter=unanswered & Q(due_at__lt=now)),
    )
    due = counts["on_time"] + counts["late"] + counts["open_overdue"]
    return {**counts, "rate": _percent(counts["on_time"], due)}
