import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from organizations.models import AdministrativeUnit, Agency, Counter
from procedures.models import Component, Field, Procedure

personal_id_validator = RegexValidator(r"^\d{12}$", _("A personal identification number has exactly 12 digits."))
CODE_PATTERN = re.compile(r"^[0-9A-Z.]{1,35}-\d{6}-[0-9A-Z]{4,12}$")


class Status(models.IntegerChoices):
    """The national status set synced to the national portal (DOMAIN.md)."""

    SUBMITTED = 1, _("Submitted online")
    ACCEPTED = 2, _("Accepted")
    REFUSED = 3, _("Refused at intake")
    IN_PROCESS = 4, _("In process")
    WAITING_SUPPLEMENT = 5, _("Waiting for supplement")
    WAITING_PAYMENT = 6, _("Waiting for payment")
    WITHDRAWN = 7, _("Withdrawn by the applicant")
    STOPPED = 8, _("Stopped")
    RESOLVED = 9, _("Resolved")
    RETURNED = 10, _("Result returned")


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
    public_receiving_agency = models.CharField(_("receiving agency (as received)"), max_length=255, blank=True)
    public_departments = ArrayField(
        models.CharField(max_length=255), verbose_name=_("handling departments (as received)"), default=list, blank=True
    )

    register_field = models.ForeignKey(
        Field, verbose_name=_("register (field)"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    register_volume = models.CharField(_("register volume"), max_length=20, blank=True)
    register_number = models.PositiveIntegerField(_("register entry number"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "status", "received_at"]),
            models.Index(fields=["counter", "received_at"]),
            models.Index(fields=["agency", "register_field", "received_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "register_field", "register_volume", "register_number"],
                name="dossier_unique_register_entry",
            )
        ]

    def __str__(self) -> str:
        return self.code or f"#{self.pk}"

    @property
    def is_overdue(self) -> bool:
        if self.appointment_at is None or self.status in (Status.RESOLVED, Status.RETURNED, Status.REFUSED):
            return False
        return timezone.now() > self.appointment_at


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
