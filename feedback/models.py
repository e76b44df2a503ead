"""Citizens' voice: satisfaction ratings of resolved dossiers, feedback (phản ánh, kiến nghị — PAKN) answered by the
agency, and the frequently asked questions of each field."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.national import Status as DossierStatus
from dossiers.models import Dossier
from organizations.models import Agency, Staff
from procedures.models import Field

# A dossier may be rated once its result is ready (resolved) or handed over (returned).
RATEABLE = frozenset({DossierStatus.RESOLVED, DossierStatus.RETURNED})


class Rating(models.Model):
    """A citizen's satisfaction with one resolved dossier (đánh giá mức độ hài lòng), once per dossier."""

    class Level(models.IntegerChoices):
        # The national portal's three-point scale; 766/QĐ-TTg counts "satisfied" and "very satisfied" as satisfied.
        VERY_SATISFIED = 3, _("Very satisfied")
        SATISFIED = 2, _("Satisfied")
        DISSATISFIED = 1, _("Dissatisfied")

    dossier = models.OneToOneField(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="rating")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("citizen account"), on_delete=models.PROTECT, related_name="ratings"
    )
    level = models.PositiveSmallIntegerField(_("satisfaction"), choices=Level.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.get_level_display()}"


class Feedback(models.Model):
    """Feedback from a citizen (phản ánh, kiến nghị), about one of their dossiers or in general, routed to an agency
    that answers it within 15 working days."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        SUGGESTION = "suggestion", _("Suggestion")
        QUESTION = "question", _("Question")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("citizen account"), on_delete=models.PROTECT, related_name="feedback"
    )
    # Copied from the citizen's account when sent: the answer goes to whom wrote, whatever the account becomes.
    name = models.CharField(_("full name"), max_length=255)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), null=True, blank=True, on_delete=models.PROTECT, related_name="feedback"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="feedback")
    field = models.ForeignKey(
        Field, verbose_name=_("field"), null=True, blank=True, on_delete=models.PROTECT, related_name="feedback"
    )
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        Staff, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_on_time = models.BooleanField(_("answered on time"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    public = models.BooleanField(
        _("may be published"), default=False, help_text=_("The citizen agrees to publish the question and answer.")
    )

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-received_at", "-id"]
        indexes = [
            # The agency's list (open first, by due date) and the timeliness statistics by period.
            models.Index(fields=["agency", "status", "due_at"], name="feedback_agency_status_due"),
            models.Index(fields=["received_at", "agency"], name="feedback_received_agency"),
            models.Index(fields=["author", "-received_at"], name="feedback_author_recent"),
            # The published questions and answers every visitor of the portal reads.
            models.Index(
                fields=["-answered_at"],
                name="feedback_published",
                condition=models.Q(public=True, answered_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        """Not yet answered and past the 15 working days."""
        return self.status == self.Status.RECEIVED and timezone.now() > self.due_at


class Faq(models.Model):
    """A frequently asked question of one field (hỏi đáp), with the answer the province publishes."""

    field = models.ForeignKey(Field, verbose_name=_("field"), on_delete=models.PROTECT, related_name="faqs")
    question = models.CharField(_("question"), max_length=500)
    answer = models.TextField(_("answer"))
    published = models.BooleanField(_("published"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("frequently asked question")
        verbose_name_plural = _("frequently asked questions")
        ordering = ["field__name", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["field", "question"], name="faq_unique_question_per_field")]

    def __str__(self) -> str:
        return self.question
