"""What other apps do when a payment becomes paid, without payments importing them (they sit above it).

An app registers a handler for the references it creates, from its AppConfig.ready()::

    from payments.hooks import on_paid

    @on_paid("draft-")
    def draft_paid(payment: Payment) -> None:
        ...

``payments.services.payment_confirm`` calls every handler whose prefix starts the payment's reference, once, inside
its own transaction and while it holds the payment's row lock: what the handler writes commits together with the
payment, and an exception in a handler rolls both back (the gateway is then answered "99" and sends the IPN again).
Handlers must not call outside systems; use ``transaction.on_commit`` for that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Payment

Handler = Callable[["Payment"], None]

_handlers: dict[str, list[Handler]] = {}


def on_paid(prefix: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for payments whose reference starts with ``prefix`` (e.g. "draft-")."""
    if not prefix:
        raise ValueError("on_paid needs a non-empty reference prefix")

    def register(handler: Handler) -> Handler:
        handlers = _handlers.setdefault(prefix, [])
        if handler not in handlers:  # ready() may run more than once (tests); a handler runs once per payment
            handlers.append(handler)
        return handler

    return register


def paid_handlers(reference: str) -> list[Handler]:
    """The handlers for a reference, in the order they were registered under each prefix."""
    return [handler for prefix, handlers in _handlers.items() if reference.startswith(prefix) for handler in handlers]
