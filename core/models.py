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

    def is_valid_on(self, day) -> bool:  # type: ignore[no-untyped-def]
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)
