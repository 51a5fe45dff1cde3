"""What eConnect PSB pushes about a sent invoice by webhook: its status moved (the portal asks for it now, through
the same follow-up as the poll), or the customer answered with an Invoice Response (recorded on the timeline)."""

from __future__ import annotations

import json

from integrations.econnect.psb.models import plain_text
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.services import outgoing_follow_status

Status = OutgoingInvoice.Status
MAX_RESPONSE_TEXT = 500


def outgoing_status_pushed(*, environment: Environment, external_id: str) -> OutgoingInvoice | None:
    """The invoice eConnect knows as ``external_id`` is asked for its status now (if it is still being followed).
    None when the portal sent no such invoice."""
    invoice = OutgoingInvoice.objects.filter(environment=environment, econnect_document_id=external_id).first()
    if invoice is None:
        return None
    if invoice.status == Status.SUBMITTED:
        outgoing_follow_status(invoice=invoice)
    return invoice


def outgoing_customer_response(*, environment: Environment, external_id: str, body: bytes) -> OutgoingInvoice | None:
    """The customer's Invoice Response to a sent invoice, on its timeline ("accepted", "rejected: reason" …).
    [GUESS G-PSB-6] eConnect publishes no payload for ``InvoiceResponseReceived``: the event's ``message`` and
    ``details`` (status, reason) are shown as eConnect writes them."""
    invoice = OutgoingInvoice.objects.filter(environment=environment, econnect_document_id=external_id).first()
    if invoice is None:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = {}
    details = data.get("details") if isinstance(data, dict) and isinstance(data.get("details"), dict) else {}
    said = plain_text(data.get("message") if isinstance(data, dict) else "", limit=MAX_RESPONSE_TEXT)
    status = plain_text(details.get("status") or details.get("responseCode"), limit=20)
    event_record(
        environment=environment,
        outgoing_invoice=invoice,
        kind=EventKind.CUSTOMER_RESPONSE,
        message=Msg("outgoing.customer_response", status=status or "-", text=said or "-"),
        system_actor="webhook",
        data={
            "status": status,
            "details": {plain_text(k, limit=50): plain_text(v, limit=200) for k, v in list(details.items())[:20]},
        },
    )
    return invoice
