"""Internal electronic workflows (quy trình nội bộ điện tử): per (procedure, agency), versioned.

A workflow is a small directed graph of steps. Steps are ordered; a step goes on to the step after it unless it
names its next steps explicitly (a branch, e.g. "to the leader's signature" or "straight to the result"). A step
may belong to another agency (a liên thông leg): that agency's department acts on it under the same dossier code.
Only a published version runs dossiers; a dossier stays on the version it started with.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.national import Status
from organizations.models import Agency, Department, Role
from procedures.models import Procedure


class Action(models.TextChoices):
    """What an officer can do to a dossier. The first group is configured per step; the rest are always offered
    when they apply (taking a task, handing it to a colleague, resuming after the applicant answered)."""

    FORWARD = "forward", _("forward to the next step")
    SEND_BACK = "send_back", _("send back to an earlier step")
    REQUEST_SUPPLEMENT = "request_supplement", _("request a supplement")
    REQUEST_PAYMENT = "request_payment", _("request payment")
    REFUSE = "refuse", _("refuse")
    STOP = "stop", _("stop at the applicant's request")
    APOLOGISE = "apologise", _("apologise and re-appoint")
    HAND_OVER = "hand_over", _("hand over to another agency")
    APPROVE = "approve", _("approve and sign")
    RECORD_RESULT = "record_result", _("record the result")
    RETURN_RESULT = "return_result", _("return the result")
    # Always available when they apply:
    CLAIM = "claim", _("take the task")
    ASSIGN = "assign", _("assign to an officer")
    RESUME = "resume", _("resume")
    RECEIVE_BACK = "receive_back", _("receive back from the other agency")


CONFIGURABLE_ACTIONS = [
    Action.FORWARD,
    Action.SEND_BACK,
    Action.REQUEST_SUPPLEMENT,
    Action.REQUEST_PAYMENT,
    Action.REFUSE,
    Action.STOP,
    Action.APOLOGISE,
    Action.APPROVE,
    Action.RECORD_RESULT,
    Action.RETURN_RESULT,
]


class Workflow(TimeStampedModel):
    """The workflow of one procedure in one agency; its versions hold the steps."""

    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="workflows")

    class Meta:
        verbose_name = _("internal workflow")
        verbose_name_plural = _("internal workflows")
        constraints = [models.UniqueConstraint(fields=["procedure", "agency"], name="workflow_unique_pair")]

    def __str__(self) -> str:
        return f"{self.procedure_id} @ {self.agency_id}"


class Version(TimeStampedModel):
    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        RETIRED = "retired", _("retired")

    workflow = models.ForeignKey(
        Workflow, verbose_name=_("workflow"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    based_on = models.ForeignKey(
        "self", verbose_name=_("based on"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("workflow version")
        verbose_name_plural = _("workflow versions")
        ordering = ["workflow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="version_unique_number"),
            # One version runs new dossiers, and one draft is edited at a time.
            models.UniqueConstraint(
                fields=["workflow"], condition=models.Q(state="published"), name="version_one_published"
            ),
            models.UniqueConstraint(fields=["workflow"], condition=models.Q(state="draft"), name="version_one_draft"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.get_state_display()})"


class Step(models.Model):
    class Unit(models.TextChoices):
        DAYS = "days", _("working days")
        HOURS = "hours", _("working hours")

    class Kind(models.TextChoices):
        PROCESS = "process", _("processing")
        SIGN = "sign", _("leader's signature")
        COUNTER = "counter", _("one-stop counter")

    version = models.ForeignKey(Version, verbose_name=_("version"), on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.SlugField(_("key"), max_length=40, help_text=_("Stable name of the step inside its version."))
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PROCESS)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("acting agency"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The workflow's own agency, or another agency for an inter-agency leg."),
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for the receiving counter and for the agency's leaders."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    budget = models.DecimalField(_("time budget"), max_digits=6, decimal_places=1, default=Decimal("1"))
    budget_unit = models.CharField(_("budget unit"), max_length=5, choices=Unit.choices, default=Unit.DAYS)
    national_status = models.PositiveSmallIntegerField(
        _("national status"), choices=Status.choices, default=Status.IN_PROCESS
    )
    actions = ArrayField(models.CharField(max_length=20), verbose_name=_("actions allowed"), default=list)
    next_keys = ArrayField(
        models.SlugField(max_length=40),
        verbose_name=_("next steps"),
        default=list,
        blank=True,
        help_text=_("Empty: the step after it. Several: the officer chooses (a branch)."),
    )

    class Meta:
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="step_unique_key"),
            models.UniqueConstraint(
                fields=["version", "position"], name="step_unique_position", deferrable=models.Deferrable.DEFERRED
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class ChecklistItem(TimeStampedModel):
    """A procedure whose internal workflow an agency must (re)configure after a reorganisation (DOMAIN.md, the three
    cases): every procedure of a new agency; the procedures moved into an agency that keeps its name; the procedures
    whose handling department changed. Shown to the agency's administrators until a version is published."""

    class Reason(models.TextChoices):
        NEW_AGENCY = "new_agency", _("new agency: every procedure is configured")
        MOVED_IN = "moved_in", _("procedure moved in from another agency")
        DEPARTMENT_CHANGED = "department_changed", _("the handling department changed")

    reorganisation = models.ForeignKey(
        "organizations.Reorganisation",
        verbose_name=_("reorganisation"),
        on_delete=models.CASCADE,
        related_name="checklist_items",
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="checklist")
    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    source_agency = models.ForeignKey(
        Agency,
        verbose_name=_("former agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Where the procedure was handled before: its workflow can be copied."),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("done by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    version = models.ForeignKey(
        Version, verbose_name=_("published version"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("workflow checklist item")
        verbose_name_plural = _("workflow checklist items")
        ordering = ["agency", "done_at", "procedure__name"]
        constraints = [
            models.UniqueConstraint(fields=["reorganisation", "agency", "procedure"], name="checklist_item_unique")
        ]
        indexes = [models.Index(fields=["agency", "procedure"], condition=models.Q(done_at__isnull=True),
                                name="checklist_open")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.agency_id} {self.procedure_id} {self.reason}"
