"""Writes of the sync monitor (retries live with the delivery: sync/outbox.py)."""

from __future__ import annotations

from django.db import transaction

from core.models import OutboxMessage
from core.outbox import outbox_write_many
from procedures.models import Procedure


@transaction.atomic
def catalogue_send_all() -> int:
    """Queue the whole procedure catalogue for the portal (first connection, or after a reconciliation found it
    behind): one message per procedure, published ones as updates, closed ones as closures."""
    rows = Procedure.objects.order_by("code").values_list("pk", "status")
    return len(
        outbox_write_many(
            [
                OutboxMessage(
                    topic=OutboxMessage.Topic.PROCEDURE,
                    key=f"p{pk}",
                    operation="close" if status == Procedure.Status.CLOSED else "update",
                    ref=pk,
                )
                for pk, status in rows
            ]
        )
    )
