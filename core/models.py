from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class ValidityQuerySet(models.QuerySet):
    def valid_on(self, day):  # type: ignore[no-untyped-def]
        return self.filter(
            models.Q(valid_from__lte=day), models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=day)
        )


class ValidityModel(models.Model):
    """A row that is valid from one date until (excluding) another, so reorganisations keep history."""

    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Empty while still valid."))

    class Meta:
        abstract = True


class CalendarOverride(models.Model):
    """A province decision that makes one date a day off or a working day, whatever the national calendar says."""

    class Kind(models.TextChoices):
        OFF = "off", _("day off")
        WORK = "work", _("working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"


class OutboxMessage(models.Model):
    """One change an outside system must learn, written in the transaction of the change itself (transactional
    outbox). Workers deliver a key's messages in ``id`` order; what a message carries is built when it is sent,
    from the row ``ref`` points to (an event is never changed, a dossier's latest state is what the portal needs).
    ``agency_id`` is the organisations' agency id, kept as a plain number because core sits below them."""

    class Topic(models.TextChoices):
        DOSSIER = "dossier", _("dossier")
        PROCEDURE = "procedure", _("procedure")

    class Operation(models.TextChoices):
        ADD = "add", _("add")
        UPDATE = "update", _("update")
        PROGRESS = "progress", _("progress entry")
        CLOSE = "close", _("close")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("failed")

    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(_("topic"), max_length=12, choices=Topic.choices)
    key = models.CharField(_("ordering key"), max_length=40, help_text=_("Messages of one key are sent in order."))
    operation = models.CharField(_("operation"), max_length=10, choices=Operation.choices)
    ref = models.BigIntegerField(_("reference"))
    agency_id = models.IntegerField(_("agency"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    request = models.JSONField(_("message sent"), null=True, blank=True)
    answer = models.JSONField(_("answer received"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            # The drain's next batch: pending messages whose time has come, oldest first.
            models.Index(fields=["next_attempt_at", "id"], name="outbox_due", condition=models.Q(state="pending")),
            # "Is an earlier message of this key still undelivered?" (order per key; a failed one holds the rest).
            models.Index(fields=["key", "id"], name="outbox_undelivered", condition=~models.Q(state="delivered")),
            models.Index(fields=["created_at", "agency_id"], name="outbox_day_agency"),
            models.Index(fields=["topic", "ref"], name="outbox_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.topic}:{self.key} {self.operation} #{self.id}"
