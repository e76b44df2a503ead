"""Reads on payments."""

from django.db.models import QuerySet

from .models import Payment


def paid_payment(*, reference: str) -> Payment | None:
    """The payment that paid for ``reference`` (the first, should two attempts both have been paid)."""
    return Payment.objects.filter(reference=reference, state=Payment.State.PAID).order_by("paid_at", "pk").first()


def payments_for(*, reference: str) -> QuerySet[Payment]:
    """Every attempt to pay for ``reference``, newest first."""
    return Payment.objects.filter(reference=reference).order_by("-created_at", "-pk")
