import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Agency


def new_key_id() -> str:
    return f"ag_{secrets.token_hex(12)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class InboundSystem(models.Model):
    """A ministry's system that pushes the progress and results of dossiers it handles (hệ thống của bộ, ngành).

    Requests are signed with ``secret`` (HMAC-SHA256, see sync.inbound); ``key_id`` only names the system.
    """

    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("Stored on its dossiers as their source system.")
    )
    name = models.CharField(_("name"), max_length=255)
    key_id = models.CharField(_("API key"), max_length=64, unique=True, default=new_key_id)
    # Kept in clear: verifying an HMAC needs the secret itself (a hash of it would not do).
    secret = models.CharField(_("signing secret"), max_length=128, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    agencies = models.ManyToManyField(
        Agency,
        verbose_name=_("agencies it reports for"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to accept dossiers of any agency."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inbound system")
        verbose_name_plural = _("inbound systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InboundReceipt(models.Model):
    """One update accepted from an inbound system: what answers a repeat of it (same idempotency key and body)
    and what rejects a replay of its signature."""

    system = models.ForeignKey(
        InboundSystem, verbose_name=_("system"), on_delete=models.PROTECT, related_name="receipts"
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    signature = models.CharField(_("signature"), max_length=64)
    body_sha256 = models.CharField(_("body SHA-256"), max_length=64)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    dossier_code = models.CharField(_("dossier code"), max_length=60, db_index=True)
    payload = models.JSONField(_("payload"))
    answer = models.JSONField(_("answer"))

    class Meta:
        verbose_name = _("inbound receipt")
        verbose_name_plural = _("inbound receipts")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "idempotency_key"], name="inbound_receipt_unique_key"),
            models.UniqueConstraint(fields=["system", "signature"], name="inbound_receipt_unique_signature"),
        ]

    def __str__(self) -> str:
        return f"{self.system_id} {self.dossier_code} {self.received_at:%Y-%m-%d %H:%M:%S}"
