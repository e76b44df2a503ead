"""Writes on citizens' feedback: ratings of resolved dossiers, feedback (PAKN) and its answer, the FAQ data."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.models import Citizen
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.ratelimit import hit
from core.selectors import calendar_for
from dossiers.models import Dossier
from dossiers.selectors import access_dossier_for_citizen
from organizations.models import Agency, Role, Staff
from procedures.models import Field

from .models import RATEABLE, Faq, Feedback, Rating

DATA_DIR = Path(__file__).resolve().parent / "data"
# Legal rule: feedback is handled on time within 15 working days of its receipt (766/QĐ-TTg, group 5).
ANSWER_WITHIN_DAYS = Decimal(15)
TITLE_MAX = 200
CONTENT_MAX = 5000
COMMENT_MAX = 2000
ANSWER_MAX = 10000


def _text(value: Any) -> str:
    return str(value or "").strip()


def _required_text(errors: dict[str, str], key: str, value: str, limit: int) -> None:
    if not value:
        errors[key] = _("This field is required.")
    elif len(value) > limit:
        errors[key] = _("At most %(limit)s characters.") % {"limit": limit}


@transaction.atomic
def rating_submit(*, user: Any, code: str, level: int, comment: str = "") -> Rating:
    """The citizen's satisfaction with one of their own dossiers, once its result is ready or returned; once."""
    found = access_dossier_for_citizen(user=user, code=code)
    # The dossier row is the lock: two clicks at once make one rating and one Conflict, never an IntegrityError.
    dossier = Dossier.objects.select_for_update().get(pk=found.pk)
    if dossier.status not in RATEABLE:
        raise Conflict(_("A dossier can be rated once its result is ready."), code="not_rateable")
    if Rating.objects.filter(dossier=dossier).exists():
        raise Conflict(_("This dossier has already been rated."), code="already_rated")
    comment = _text(comment)
    errors: dict[str, str] = {}
    if level not in Rating.Level.values:
        errors["level"] = _("Choose how satisfied you are.")
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("At most %(limit)s characters.") % {"limit": COMMENT_MAX}
    if errors:
        raise ValidationFailed(_("Please correct the rating."), detail=errors)
    return Rating.objects.create(dossier=dossier, user=user, level=level, comment=comment)


@transaction.atomic
def feedback_submit(
    *,
    user: Any,
    kind: str,
    title: str,
    content: str,
    dossier_code: str = "",
    agency_id: int | None = None,
    field_id: int | None = None,
    public: bool = False,
) -> Feedback:
    """Feedback from a signed-in citizen, routed to the agency of the dossier it is about, or for general feedback
    to the agency the citizen chose; due 15 working days later by that agency's calendar."""
    citizen = Citizen.objects.filter(user_id=getattr(user, "pk", None)).first()
    if citizen is None or not user.is_authenticated:
        raise PermissionDenied(_("Sign in with a citizen account to send feedback."), code="citizen_required")
    title, content, dossier_code = _text(title), _text(content), _text(dossier_code)
    errors: dict[str, str] = {}
    if kind not in Feedback.Kind.values:
        errors["kind"] = _("Choose the kind of feedback.")
    _required_text(errors, "title", title, TITLE_MAX)
    _required_text(errors, "content", content, CONTENT_MAX)

    dossier: Dossier | None = None
    agency: Agency | None = None
    field: Field | None = None
    if dossier_code:
        try:
            dossier = access_dossier_for_citizen(user=user, code=dossier_code)
        except NotFound:
            errors["dossier_code"] = _("Choose one of your own dossiers.")
        else:
            agency, field = dossier.agency, dossier.procedure.field
    else:
        if agency_id is not None:
            agency = Agency.objects.valid_on(timezone.localdate()).filter(pk=agency_id).first()
        if agency is None:
            errors["agency_id"] = _("Choose the agency your feedback is for.")
        if field_id is not None:
            field = Field.objects.filter(pk=field_id).first()
            if field is None:
                errors["field_id"] = _("Choose a field from the list.")
    if errors:
        raise ValidationFailed(_("Please correct the feedback."), detail=errors)
    assert agency is not None
    if hit(scope="feedback", client=str(user.pk), limit=settings.FEEDBACK_PER_DAY, window=24 * 3600) is not None:
        raise PermissionDenied(
            _("You have sent a lot of feedback today. Please try again tomorrow."), code="feedback_throttled"
        )
    now = timezone.now()
    return Feedback.objects.create(
        kind=kind,
        author=user,
        name=citizen.full_name,
        phone=citizen.phone,
        email=citizen.email,
        dossier=dossier,
        agency=agency,
        field=field,
        title=title,
        content=content,
        public=bool(public),
        received_at=now,
        due_at=calendar_for(working_hours=agency.working_hours).add(now, ANSWER_WITHIN_DAYS, "days"),
    )


def _may_handle(officer: Staff, feedback: Feedback) -> bool:
    return officer.role == Role.PROVINCE_ADMIN or feedback.agency_id == officer.agency_id


def _locked_for_officer(officer: Staff, feedback_id: int) -> Feedback:
    feedback = Feedback.objects.select_for_update().filter(pk=feedback_id).first()
    # Outside the officer's scope it does not exist for them, as with dossiers.
    if feedback is None or not _may_handle(officer, feedback):
        raise NotFound(_("No such feedback."), code="feedback_not_found")
    return feedback


@transaction.atomic
def feedback_answer(*, officer: Staff, feedback_id: int, answer: str) -> Feedback:
    """The agency's answer (officers of the feedback's agency, or province administrators); once. Whether it came
    within the 15 working days is recorded with it."""
    feedback = _locked_for_officer(officer, feedback_id)
    if feedback.status != Feedback.Status.RECEIVED:
        raise Conflict(_("This feedback has already been answered."), code="already_answered")
    answer = _text(answer)
    errors: dict[str, str] = {}
    _required_text(errors, "answer", answer, ANSWER_MAX)
    if errors:
        raise ValidationFailed(_("Please correct the answer."), detail=errors)
    now = timezone.now()
    feedback.answer = answer
    feedback.answered_by = officer
    feedback.answered_at = now
    feedback.answered_on_time = now <= feedback.due_at
    feedback.status = Feedback.Status.ANSWERED
    feedback.save(update_fields=["answer", "answered_by", "answered_at", "answered_on_time", "status"])
    return feedback


@transaction.atomic
def feedback_close(*, officer: Staff, feedback_id: int) -> Feedback:
    """Close answered feedback (the case is settled); unanswered feedback must be answered first."""
    feedback = _locked_for_officer(officer, feedback_id)
    if feedback.status == Feedback.Status.CLOSED:
        raise Conflict(_("This feedback is already closed."), code="already_closed")
    if feedback.status != Feedback.Status.ANSWERED:
        raise Conflict(_("Answer the feedback before closing it."), code="not_answered")
    feedback.status = Feedback.Status.CLOSED
    feedback.closed_at = timezone.now()
    feedback.save(update_fields=["status", "closed_at"])
    return feedback


@transaction.atomic
def faq_load_demo() -> int:
    """The demo questions and answers of feedback/data/faq.json (idempotent: matched by field and question).
    Returns how many were new; entries of fields the catalogue does not have are left out."""
    rows = json.loads((DATA_DIR / "faq.json").read_text(encoding="utf-8"))
    fields = {f.code: f for f in Field.objects.filter(code__in={row["field"] for row in rows})}
    created = 0
    for row in rows:
        field = fields.get(row["field"])
        if field is None:
            continue
        _faq, new = Faq.objects.update_or_create(
            field=field,
            question=row["question"],
            defaults={"answer": row["answer"], "order": row.get("order", 0), "published": True},
        )
        created += new
    return created
