"""Following a submitted invoice's status at eConnect: how often to ask, what ends it, and what to do with a status
nobody knows."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from integrations.econnect.models import OutboxState, OutboxStatus
from integrations.http import RemoteError
from portal.core.choices import ErrorKind
from portal.documents import lifecycle
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice

logger = logging.getLogger(__name__)
Status = OutgoingInvoice.Status

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


def outgoing_follow_status(*, invoice: OutgoingInvoice, now: datetime | None = None) -> OutgoingInvoice:
    """Ask eConnect how a submitted invoice is doing; final statuses end it, old ones become stale."""
    now = now or timezone.now()
    if invoice.status != Status.SUBMITTED:
        return invoice
    stale_after = timedelta(hours=settings.OUTGOING_STALE_AFTER_HOURS)
    try:
        with clients.econnect_gateway_for(invoice.environment) as gateway:
            status = gateway.outbox_status(invoice.econnect_document_id)
    except RemoteError as exc:
        logger.info("Status of invoice %s not available now: %s", invoice.pk, exc)
        status, asked_to_wait = None, timedelta(seconds=min(exc.retry_after or 0, 24 * 60 * 60))
    else:
        asked_to_wait = timedelta(0)
    unknown = invoice.econnect_status_unknown
    if status is not None:
        unknown = status.state is OutboxState.UNKNOWN
        OutgoingInvoice.objects.filter(pk=invoice.pk).update(
            econnect_status=(status.name or status.code or status.state.value)[:100],
            econnect_status_code=status.code[:20],
            econnect_status_unknown=unknown,
        )
        if unknown and (status.name, status.code) != (invoice.econnect_status, invoice.econnect_status_code):
            flag_unknown_status(invoice, status)
        if status.state in FINAL_STATUSES:
            final = FINAL_STATUSES[status.state]
            if final == Status.DELIVERED and invoice.is_test:  # it comes back through the inbox: look soon
                Environment.objects.filter(pk=invoice.environment_id, receiving_enabled=True).update(next_fetch_at=now)
            lifecycle.transition(
                invoice,
                subject="outgoing_invoice",
                from_statuses=(Status.SUBMITTED,),
                to_status=final,
                message=Msg("outgoing.econnect_reports", status=status.name or status.state.value),
                system_actor="status",
                completed_at=now,
                next_attempt_at=None,
                **(
                    {"last_error_kind": ErrorKind.PERMANENT, "last_error_message": status.name}
                    if final != Status.DELIVERED
                    else {}
                ),
            )
            return invoice
    age = now - (invoice.submitted_at or now)
    if age >= stale_after and not unknown:  # a status nobody could read is for support, not "no status"
        lifecycle.transition(
            invoice,
            subject="outgoing_invoice",
            from_statuses=(Status.SUBMITTED,),
            to_status=Status.STALE,
            message=Msg("outgoing.stale", hours=f"{settings.OUTGOING_STALE_AFTER_HOURS:g}"),
            system_actor="status",
            next_attempt_at=None,
        )
        return invoice
    OutgoingInvoice.objects.filter(pk=invoice.pk, status=Status.SUBMITTED).update(
        next_attempt_at=now + max(poll_interval(age), asked_to_wait), dispatched_at=None
    )
    return invoice
