"""Following a submitted invoice's status at eConnect: how often to ask, and what to do with a status nobody knows."""

from __future__ import annotations

import logging
from datetime import timedelta

from integrations.econnect.models import OutboxState, OutboxStatus
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.outgoing_invoices.models import OutgoingInvoice

logger = logging.getLogger(__name__)

# The eConnect outbox states that end sending, and the portal status each one ends in.
FINAL_STATUSES = {
    OutboxState.DELIVERED: OutgoingInvoice.Status.DELIVERED,
    OutboxState.FAILED: OutgoingInvoice.Status.FAILED,
    OutboxState.REJECTED: OutgoingInvoice.Status.REJECTED,
}


def flag_unknown_status(invoice: OutgoingInvoice, status: OutboxStatus) -> None:
    """eConnect wrote a status the portal's table does not have: shown as written, flagged for support, and the
    invoice stays submitted (it is asked again) rather than being guessed into a state."""
    logger.warning(
        "eConnect reports an unknown outbox status %r (code %r) for %s", status.name, status.code, status.external_id
    )
    event_record(
        environment=invoice.environment,
        outgoing_invoice=invoice,
        kind=EventKind.ECONNECT_STATUS_UNKNOWN,
        message=Msg("outgoing.econnect_status_unknown", status=status.name or "-", code=status.code or "-"),
        system_actor="status",
        data={"name": status.name[:100], "code": status.code[:20]},
    )


def poll_interval(age: timedelta) -> timedelta:
    """Poll young submissions often and old ones rarely."""
    if age < timedelta(minutes=5):
        return timedelta(seconds=30)
    if age < timedelta(hours=1):
        return timedelta(minutes=5)
    return timedelta(minutes=30)
