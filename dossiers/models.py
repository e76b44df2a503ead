import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.national import Status
from organizations.models import AdministrativeUnit, Agency, Counter
from procedures.models import Component, Field, Procedure

personal_id_validator = RegexValidator(r"^\d{12}$", _("A personal identification number has exactly 12 digits."))
CODE_PATTERN = re.compile(r"^[0-9A-Z.]{1,35}-\d{6}-[0-9A-Z]{4,12}$")


class Channel(models.IntegerChoices):
    DIRECT = 1, _("At the counter")
    ONLINE = 2, _("Online")
    POSTAL = 3, _("By post")


class ApplicantType(models.IntegerChoices):
    """LoaiDoiTuong of the national portal."""

    CITIZEN = 1, _("Citizen")
    ENTERPRISE = 2, _("Enterprise")
    STATE_BODY = 3, _("State body")
    OTHER = 4, _("Other organisation")


class Delivery(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    POST = "post", _("By post (BCCI)")
    ONLINE = "online", _("Online")


class Dossier(TimeStampedModel):
    """One application by one citizen or organisation for one procedure (hồ sơ)."""

    code = models.CharField(_("dossier code"), max_length=60, unique=True, null=True, blank=True)
    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(
        Agency, verbose_name=_("competent agency"), on_delete=models.PROTECT, related_name="dossiers"
    )
    counter = models.ForeignKey(
        Counter,
        verbose_name=_("receiving counter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dossiers",
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("citizen account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dossiers_filed",
        help_text=_("The portal account that submitted the dossier online, or to which it was linked."),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.PositiveSmallIntegerField(_("channel"), choices=Channel.choices)
    status = models.PositiveSmallIntegerField(_("status"), choices=Status.choices, db_index=True)
    current_step = models.CharField(_("current step"), max_length=255, blank=True)

    applicant_type = models.PositiveSmallIntegerField(
        _("applicant type"), choices=ApplicantType.choices, default=ApplicantType.CITIZEN
    )
    applicant_name = models.CharField(_("applicant's full name"), max_length=255)
    applicant_id_number = models.CharField(_("personal identification number"), max_length=20, blank=True)
    applicant_birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    organisation_name = models.CharField(_("organisation name"), max_length=255, blank=True)
    organisation_code = models.CharField(_("organisation identification number"), max_length=20, blank=True)
    applicant_address = models.CharField(_("address"), max_length=255, blank=True)
    applicant_commune = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applicant_phone = models.CharField(_("phone"), max_length=20, blank=True)
    applicant_email = models.EmailField(_("email"), blank=True)
    representative_name = models.CharField(_("authorised representative"), max_length=255, blank=True)
    representative_id_number = models.CharField(_("representative's identification number"), max_length=20, blank=True)
    representative_phone = models.CharField(_("representative's phone"), max_length=20, blank=True)
    representative_authorisation = models.CharField(_("letter of authorisation"), max_length=255, blank=True)
    language = models.CharField(_("applicant's language"), max_length=5, default="vi")

    summary = models.TextField(_("request"), blank=True)
    # The procedure's online form (eForm) as the applicant filled it in, validated against the form's schema.
    # Database defaults too: the bulk generator (dossiers/generate.py) writes rows with COPY, naming its columns.
    form_data = models.JSONField(_("form data"), default=dict, db_default={}, blank=True)
    paid_online = models.BooleanField(_("fees paid online"), default=False, db_default=False)
    withdrawal_requested_at = models.DateTimeField(_("withdrawal requested at"), null=True, blank=True)
    sets = models.PositiveSmallIntegerField(_("number of sets"), default=1)
    delivery = models.CharField(_("result delivery"), max_length=10, choices=Delivery.choices, default=Delivery.COUNTER)
    delivery_address = models.CharField(_("delivery address"), max_length=255, blank=True)

    processing_time = models.DecimalField(_("statutory processing time"), max_digits=6, decimal_places=1)
    time_unit = models.CharField(_("time unit"), max_length=5, choices=Procedure.TimeUnit.choices)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, db_index=True)
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    refusal_reasons = models.TextField(_("reasons for refusal"), blank=True)

    # What the public lookup shows, written when the dossier is received: the names valid at that time (agencies
    # are renamed and merged; the lookup must still show who received and handles it) and one index probe to read.
    # Set when a reorganisation moved the open dossier to a successor agency: the competent agency it was received
    # for, whose name the statutory forms of that time carry.
    original_agency = models.ForeignKey(
        Agency,
        verbose_name=_("competent agency when received"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_counter = models.ForeignKey(
        Counter,
        verbose_name=_("receiving counter when received"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Set when a reorganisation closed the counter that received the open dossier."),
    )
    public_receiving_agency = models.CharField(_("receiving agency (as received)"), max_length=255, blank=True)
    public_departments = ArrayField(
        models.CharField(max_length=255), verbose_name=_("handling departments (as received)"), default=list, blank=True
    )

    # The internal workflow: the version the dossier started on (it stays there) and the step it is at now.
    workflow_version = models.ForeignKey(
        "workflows.Version",
        verbose_name=_("workflow version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    current_task = models.OneToOneField(
        "Task", verbose_name=_("current task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    original_appointment_at = models.DateTimeField(
        _("original appointment"), null=True, blank=True, help_text=_("Set when the appointment was moved (form 4).")
    )
    supplement_count = models.PositiveSmallIntegerField(_("supplement requests"), default=0)

    # Dossiers handled on a ministry's system: their progress arrives through the inbound API (sync app) and they
    # are not sent to the national portal from here (their own system does that).
    source_system = models.CharField(_("handled on system"), max_length=40, blank=True, default="", db_default="")

    register_field = models.ForeignKey(
        Field, verbose_name=_("register (field)"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    register_volume = models.CharField(_("register volume"), max_length=20, blank=True)
    register_number = models.PositiveIntegerField(_("register entry number"), null=True, blank=True)

    # Set by the deadline scan (dossiers/deadlines.py) when the dossier came within one working day of its
    # appointment, or past it, without an apology (form 4); never cleared, so it also records that one was due.
    needs_apology_at = models.DateTimeField(_("apology form needed since"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "status", "received_at"]),
            models.Index(fields=["counter", "received_at"]),
            models.Index(fields=["agency", "register_field", "received_at"]),
            # The deadline scan reads running dossiers only, through this small partial index whatever the number
            # of finished dossiers: whole and in id order, beside the alerts' unique index (a merge of two index-only
            # scans), and for the apology flag (hence the included columns).
            models.Index(
                fields=["id"],
                include=["appointment_at", "agency", "needs_apology_at", "original_appointment_at"],
                condition=models.Q(status__in=[Status.ACCEPTED, Status.IN_PROCESS], paused_at__isnull=True),
                name="dossier_running",
            ),
        ]
        constraints = [
            # The register book is the receiving agency's: a dossier a reorganisation moved keeps its entry in the
            # book of the agency it was received for.
            models.UniqueConstraint(
                Coalesce("original_agency", "agency"),
                "register_field",
                "register_volume",
                "register_number",
                name="dossier_unique_register_entry",
            )
        ]

    def __str__(self) -> str:
        return self.code or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    @property
    def is_overdue(self) -> bool:
        if self.appointment_at is None or not self.is_open or self.status == Status.RESOLVED:
            return False
        return timezone.now() > self.appointment_at


CLOSED = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.RETURNED})
# Actions that stay inside the agency: the national portal is not told, form 6 and the applicant's timeline leave
# them out.
INTERNAL_ACTIONS = frozenset({"claim", "assign"})


class Task(models.Model):
    """One pass of a dossier through one workflow step (bước xử lý): who acts, by when, and how it ended.

    Lateness is attributed here: a task finished after its ``due_at`` names its step, department and officer.
    """

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="tasks")
    step = models.ForeignKey("workflows.Step", verbose_name=_("step"), on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, verbose_name=_("acting agency"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        "organizations.Staff",
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    entered_at = models.DateTimeField(_("entered at"))
    due_at = models.DateTimeField(_("step deadline"))
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    awaiting_receipt = models.BooleanField(
        _("awaiting receipt"), default=False, help_text=_("Handed back by another agency; to be received back.")
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    finished_by = models.ForeignKey(
        "organizations.Staff",
        verbose_name=_("finished by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    late = models.BooleanField(_("late"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["dossier", "entered_at", "id"]
        indexes = [
            # The work queues read open tasks only: small partial indexes, whatever the number of dossiers.
            models.Index(
                fields=["assignee", "due_at"], condition=models.Q(finished_at__isnull=True), name="task_open_mine"
            ),
            models.Index(
                fields=["department", "due_at"],
                condition=models.Q(finished_at__isnull=True),
                name="task_open_department",
            ),
            models.Index(
                fields=["agency", "due_at"], condition=models.Q(finished_at__isnull=True), name="task_open_agency"
            ),
            models.Index(fields=["agency", "dossier"], name="task_agency_dossier"),
            # The deadline scan: open tasks whose clock runs, in id order like the alerts' unique index.
            models.Index(
                fields=["id"],
                include=["due_at", "agency", "dossier"],
                condition=models.Q(finished_at__isnull=True, paused_at__isnull=True),
                name="task_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.step_id}"


class Notice(models.Model):
    """A notice to the applicant issued while processing: supplement request (form 2), apology and new appointment
    (form 4), stop at the applicant's request (form 5), refusal to resolve."""

    class Kind(models.TextChoices):
        SUPPLEMENT = "supplement", _("supplement request")
        PAYMENT = "payment", _("payment request")
        APOLOGY = "apology", _("apology and new appointment")
        STOP = "stop", _("stop notice")
        REFUSAL = "refusal", _("refusal to resolve")

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="notices")
    task = models.ForeignKey(Task, verbose_name=_("task"), null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    items = ArrayField(models.TextField(), verbose_name=_("items"), default=list, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    contact = models.CharField(_("contact person"), max_length=255, blank=True)
    old_appointment_at = models.DateTimeField(_("original appointment"), null=True, blank=True)
    new_appointment_at = models.DateTimeField(_("new appointment"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        "organizations.Staff", verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["dossier", "issued_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.dossier_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.checksum[:2]}/{instance.checksum}"


class Attachment(models.Model):
    """A file added while processing: a working document handed on with the dossier, or the result."""

    class Kind(models.TextChoices):
        WORKING = "working", _("working document")
        RESULT = "result", _("result")

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="attachments"
    )
    task = models.ForeignKey(Task, verbose_name=_("task"), null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    file_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    checksum = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(
        "organizations.Staff", verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["dossier", "uploaded_at"]

    def __str__(self) -> str:
        return self.file_name


def document_path(instance: "Document", filename: str) -> str:
    # A generated name: the applicant's file name never reaches the file system.
    return (
        f"dossiers/{instance.dossier.received_at or timezone.now():%Y/%m}/{instance.checksum[:2]}/{instance.checksum}"
    )


class Document(models.Model):
    """A document received for one component of the dossier, with its scan when there is one."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="documents")
    component = models.ForeignKey(
        Component, verbose_name=_("component"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=500)
    originals = models.PositiveSmallIntegerField(_("originals"), default=0)
    copies = models.PositiveSmallIntegerField(_("copies"), default=0)
    file = models.FileField(_("scan"), upload_to=document_path, blank=True, max_length=255)
    file_name = models.CharField(_("original file name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    checksum = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # Taken from the applicant's personal data store instead of being uploaded again (DuocTaiSuDung).
    reused = models.BooleanField(_("reused from the personal data store"), default=False, db_default=False)

    class Meta:
        verbose_name = _("received document")
        verbose_name_plural = _("received documents")
        ordering = ["dossier", "id"]

    def __str__(self) -> str:
        return self.name


class DossierFee(models.Model):
    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="fees")
    name = models.CharField(_("name"), max_length=255)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    paid = models.BooleanField(_("paid"), default=False)

    class Meta:
        verbose_name = _("dossier fee")
        verbose_name_plural = _("dossier fees")
        ordering = ["dossier", "id"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """Append-only log of a dossier (the database refuses UPDATE and DELETE: migration 0002)."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("actor's name"), max_length=255, blank=True)
    unit_name = models.CharField(_("unit"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=40)
    status_from = models.PositiveSmallIntegerField(_("status from"), choices=Status.choices, null=True, blank=True)
    status_to = models.PositiveSmallIntegerField(_("status to"), choices=Status.choices, null=True, blank=True)
    step_from = models.CharField(_("step from"), max_length=255, blank=True)
    step_to = models.CharField(_("step to"), max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")
        ordering = ["dossier", "at", "id"]
        indexes = [models.Index(fields=["dossier", "at"])]

    def __str__(self) -> str:
        return f"{self.dossier} {self.action} {self.at:%Y-%m-%d %H:%M}"


class DailySequence(models.Model):
    """The last dossier number an agency gave on a day. Incremented under the row lock; see services."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "day"], name="daily_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day}: {self.last}"


class RegisterSequence(models.Model):
    """The last entry number of a register book (per agency, field and volume)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="+")
    volume = models.CharField(max_length=20)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "field", "volume"], name="register_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.field_id} {self.volume}: {self.last}"


# Deadline tracking (dossiers/deadlines.py) --------------------------------------------------------------------


class Threshold(models.TextChoices):
    STEP_DUE_SOON = "step_due_soon", _("Step due within one working day")
    STEP_OVERDUE = "step_overdue", _("Step overdue")
    DOSSIER_DUE_SOON = "dossier_due_soon", _("Dossier due within one working day")
    DOSSIER_OVERDUE = "dossier_overdue", _("Dossier overdue")


class DeadlineAlert(models.Model):
    """A deadline threshold a step (task) or a dossier reached, recorded once: the unique constraints are what makes
    the deadline scan idempotent (a later pass finds the alert and notifies nobody again)."""

    task = models.ForeignKey(
        Task,
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the per-task unique index below leads with it
    )
    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="deadline_alerts"
    )
    threshold = models.CharField(_("threshold"), max_length=20, choices=Threshold.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "threshold"], condition=models.Q(task__isnull=False), name="deadline_alert_task_once"
            ),
            models.UniqueConstraint(
                fields=["dossier", "threshold"],
                condition=models.Q(task__isnull=True),
                name="deadline_alert_dossier_once",
            ),
            models.CheckConstraint(
                condition=models.Q(task__isnull=False, threshold__in=[Threshold.STEP_DUE_SOON, Threshold.STEP_OVERDUE])
                | models.Q(task__isnull=True, threshold__in=[Threshold.DOSSIER_DUE_SOON, Threshold.DOSSIER_OVERDUE]),
                name="deadline_alert_subject_matches_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_threshold_display()} — {self.dossier_id}"


class Notification(models.Model):
    """A message to one staff member about one dossier, shown on their work page until they mark it read."""

    staff = models.ForeignKey(
        "organizations.Staff",
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # the index below leads with it
    )
    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Threshold.choices)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        # One officer's unread notifications, newest first, in index order: the page reads ten and stops.
        indexes = [models.Index(fields=["staff", "read_at", "-created_at", "-id"], name="notification_staff_unread")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


class Draft(TimeStampedModel):
    """An online application a citizen is preparing (hồ sơ nháp): saved at every step of the wizard, resumable,
    and turned into a dossier with status 1 when submitted."""

    class Stage(models.TextChoices):
        FORM = "form", _("form")
        DOCUMENTS = "documents", _("documents")
        DELIVERY = "delivery", _("result delivery")
        PAYMENT = "payment", _("fees")
        REVIEW = "review", _("review")

    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("citizen account"), on_delete=models.CASCADE, related_name="drafts"
    )
    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, verbose_name=_("competent agency"), on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("reached stage"), max_length=10, choices=Stage.choices, default=Stage.FORM)
    form_data = models.JSONField(_("form data"), default=dict, blank=True)
    delivery = models.CharField(_("result delivery"), max_length=10, choices=Delivery.choices, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=255, blank=True)
    pay_at_counter = models.BooleanField(_("fees paid at the counter"), default=False)
    dossier = models.OneToOneField(
        Dossier, verbose_name=_("dossier"), null=True, blank=True, on_delete=models.SET_NULL, related_name="draft"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("draft application")
        verbose_name_plural = _("draft applications")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.procedure.code} — {self.citizen_id}"

    @property
    def payment_reference(self) -> str:
        return f"draft-{self.pk}"


class DraftDocument(models.Model):
    """One document of a draft for one component: a file of the citizen's personal data store, uploaded for this
    application or chosen from what was stored before."""

    draft = models.ForeignKey(Draft, verbose_name=_("draft"), on_delete=models.CASCADE, related_name="documents")
    component = models.ForeignKey(Component, verbose_name=_("component"), on_delete=models.CASCADE, related_name="+")
    stored = models.ForeignKey(
        "citizens.StoredDocument", verbose_name=_("stored document"), on_delete=models.PROTECT, related_name="+"
    )
    reused = models.BooleanField(_("chosen from the personal data store"), default=False)
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("draft document")
        verbose_name_plural = _("draft documents")
        ordering = ["draft", "component__order", "added_at"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "component", "stored"], name="draft_document_unique_file")
        ]

    def __str__(self) -> str:
        return str(self.component)


class CitizenMessage(models.Model):
    """A message to the applicant about a status change of their dossier, by email or SMS (dossiers/notify.py).

    Written in the transaction of the status change (it is lost with it if that rolls back, and cannot be lost
    once it commits), then delivered by a worker with retries. Subject and body are rendered when the message is
    recorded: the row is what the applicant was told about that event, even when the dossier moved on before the
    message went out.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("SMS")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="citizen_messages"
    )
    event = models.ForeignKey(
        Event,
        verbose_name=_("status change"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the unique index below leads with it
    )
    channel = models.CharField(_("sending channel"), max_length=5, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254, help_text=_("Email address or phone number."))
    language = models.CharField(_("language"), max_length=5, default="vi")
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    state = models.CharField(_("state"), max_length=7, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_id = models.CharField(_("message id at the provider"), max_length=255, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("message to the applicant")
        verbose_name_plural = _("messages to the applicants")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="citizen_message_once")]
        indexes = [
            # The sender's next message: pending ones whose time has come, oldest first (sent ones are not in it).
            models.Index(
                fields=["next_attempt_at", "id"], condition=models.Q(state="pending"), name="citizen_message_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.recipient} — {self.dossier_id}"
