from django.db import models
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
