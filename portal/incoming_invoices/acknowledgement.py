"""Telling eConnect a received document is safely in AFAS: with one of the document's own allowed statuses.

eConnect's statuses belong to the document's template, and ``SetInboxDocumentStatus`` accepts only those that
``GetInboxDocument`` listed for it. They are kept when the document is fetched; a document fetched before they were
kept is asked for them once more. Which of them says "processed" is ``ECONNECT_ACKNOWLEDGE_STATUSES`` (codes or
names, first match wins); when the document offers none of them, nothing is set and the error says so.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone

from integrations.econnect.gateway import EConnectGateway
from integrations.econnect.models import StatusOption
from integrations.econnect.psb.models import InvoiceResponse, ResponseStatus
from integrations.econnect.statuses import ACKNOWLEDGE_PREFERENCE, acknowledgement_status
from portal.incoming_invoices.models import IncomingInvoice

ACKNOWLEDGEMENT_IDS = uuid.UUID("7d3c8c2e-4b8e-4f57-9d6e-6a1f0b2c9e11")  # the namespace of our AB response ids


def econnect_acknowledge(gateway: EConnectGateway, invoice: IncomingInvoice) -> StatusOption | None:
    if invoice.environment.uses_psb:
        _psb_acknowledge(gateway, invoice)
        return None
    allowed = tuple(
        StatusOption(code=str(item.get("code", "")), name=str(item.get("name", "")))
        for item in invoice.econnect_allowed_statuses or ()
        if isinstance(item, dict)
    )
    if not allowed:
        allowed = gateway.get_inbox_document(invoice.econnect_document_id).allowed_statuses
    preference = tuple(settings.ECONNECT_ACKNOWLEDGE_STATUSES) or ACKNOWLEDGE_PREFERENCE
    option = acknowledgement_status(invoice.econnect_document_id, allowed, preference)
    gateway.set_inbox_document_status(invoice.econnect_document_id, option.code)
    return option


def _psb_acknowledge(gateway, invoice: IncomingInvoice) -> None:
    """PSB has no "processed" status to set: downloading already shortened eConnect's retention to seven days. When
    the environment sends acknowledgements, the supplier gets an Invoice Response AB, once per document: its own
    document id is derived from the document, so a repeat is answered 409 ("already processed"). When it removes
    received documents, the document is deleted at eConnect last (a repeat finds it gone, which counts as done)."""
    environment = invoice.environment
    if environment.econnect_psb_send_acknowledgement:
        response_id = str(uuid.uuid5(ACKNOWLEDGEMENT_IDS, f"{invoice.environment_id}:{invoice.econnect_document_id}"))
        gateway.send_invoice_response(
            invoice.econnect_document_id,
            InvoiceResponse(ResponseStatus.ACKNOWLEDGED),
            response_document_id=response_id,
        )
    if environment.econnect_psb_remove_after_delivery and invoice.econnect_removed_at is None:
        gateway.remove_received_document(invoice.econnect_document_id)
        invoice.econnect_removed_at = timezone.now()
        IncomingInvoice.objects.filter(pk=invoice.pk).update(econnect_removed_at=invoice.econnect_removed_at)
