"""Telling eConnect a received document is safely in AFAS: with one of the document's own allowed statuses.

eConnect's statuses belong to the document's template, and ``SetInboxDocumentStatus`` accepts only those that
``GetInboxDocument`` listed for it. They are kept when the document is fetched; a document fetched before they were
kept is asked for them once more. Which of them says "processed" is ``ECONNECT_ACKNOWLEDGE_STATUSES`` (codes or
names, first match wins); when the document offers none of them, nothing is set and the error says so.
"""

from __future__ import annotations

from django.conf import settings

from integrations.econnect.gateway import EConnectGateway
from integrations.econnect.models import StatusOption
from integrations.econnect.statuses import ACKNOWLEDGE_PREFERENCE, acknowledgement_status
from portal.incoming_invoices.models import IncomingInvoice


def econnect_acknowledge(gateway: EConnectGateway, invoice: IncomingInvoice) -> StatusOption:
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
