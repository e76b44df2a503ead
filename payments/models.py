from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Payment(models.Model):
    """One attempt to pay a fee online through the payment gateway (thanh toán trực tuyến). What is paid for is the
    caller's ``reference`` ("draft-12", "notice-7"); a citizen may need several attempts for one reference (a
    cancelled or expired one, then a paid one)."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for payment")
        PAID = "paid", _("paid")
        FAILED = "failed", _("unsuccessful")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    reference = models.CharField(_("paid for"), max_length=100)
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    description = models.CharField(_("description"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("payer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
    )
    txn_ref = models.CharField(_("transaction reference"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    transaction_no = models.CharField(_("gateway transaction number"), max_length=40, blank=True)
    bank_code = models.CharField(_("bank"), max_length=20, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    return_to = models.CharField(_("return to"), max_length=500)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.CharField(_("confirmed by"), max_length=10, blank=True)  # ipn / querydr / expiry
    # Every signed message of the gateway that changed this payment, as received: [{"source", "at", "params"}].
    answers = models.JSONField(_("gateway answers"), default=list, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["reference", "state"], name="payment_reference_state")]

    def __str__(self) -> str:
        return f"{self.txn_ref} ({self.reference})"

    @property
    def is_final(self) -> bool:
        return self.state != self.State.PENDING
