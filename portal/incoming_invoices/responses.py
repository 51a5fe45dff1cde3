"""Answering a supplier from the inbox with an Invoice Response over eConnect PSB: rejected (RE) or under query (UQ),
with one of eConnect's coded reasons and an optional note. The acknowledgement (AB) goes automatically
(``acknowledgement``); these are a person's decisions, audited on the document's timeline.

The response's own document id is saved before the call: sending again after a timeout or crash is answered 409
("already processed") and counts as sent, so the supplier never gets the same answer twice.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from integrations.econnect.psb.models import InvoiceResponse, ResponseReason, ResponseStatus, plain_text
from integrations.http import RemoteError
from portal.accounts.models import User
from portal.core.fields import CredentialDecryptionError
from portal.events.messages import Choice, Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.incoming_invoices.models import (
    IncomingInvoice,
    ResponseCode,
    ResponseReasonCode,
    SupplierResponse,
)
from portal.organisations import clients

MAX_NOTE = 500


class ResponseRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def response_problem(invoice: IncomingInvoice) -> str:
    """Why no response can be sent for this document now ('' when one can)."""
    if not invoice.environment.uses_psb:
        return _(
            "Answering the supplier goes over eConnect PSB; this environment uses the eConnect platform (connection "
            "keys)."
        )
    if invoice.econnect_removed_at is not None:
        return _("The document was removed at eConnect after AFAS took it, so it can no longer be answered.")
    if invoice.document_removed_at is not None:
        return _("The document is past its retention period.")
    return ""


def new_response_key() -> str:
    """The document id a response form carries: a second submit of the same form is the same response."""
    return str(uuid.uuid4())


def incoming_respond(
    *, invoice: IncomingInvoice, code: str, reason: str, note: str, actor: User, response_key: str = ""
) -> SupplierResponse:
    """Record the response (with its document id, the form's ``response_key``) first, then send it. The same form
    submitted twice is the same response, sent once. Refused with a message a person can act on."""
    problem = response_problem(invoice)
    if problem:
        raise ResponseRefused(problem)
    if code not in ResponseCode.values:
        raise ResponseRefused(_("Choose whether you reject the invoice or have a query about it."))
    if reason not in ResponseReasonCode.values:
        raise ResponseRefused(_("Choose the reason eConnect passes on to the supplier."))
    note = plain_text(note, limit=MAX_NOTE + 1)  # control characters (NUL too) become spaces
    if len(note) > MAX_NOTE:
        raise ResponseRefused(_("The note is at most %(max)s characters.") % {"max": MAX_NOTE})
    key = response_key if _is_uuid(response_key) else new_response_key()
    earlier = SupplierResponse.objects.filter(response_document_id=key).first()
    if earlier is not None:
        if earlier.incoming_invoice_id != invoice.pk:
            raise ResponseRefused(_("This form belongs to another document: open the document again."))
        return earlier  # the same form submitted again
    try:
        with transaction.atomic():
            response = SupplierResponse.objects.create(
                incoming_invoice=invoice, code=code, reason=reason, note=note, response_document_id=key, actor=actor
            )
    except IntegrityError:
        raise ResponseRefused(_("A response to this invoice is already on its way.")) from None
    return incoming_response_send(response=response)


def incoming_response_send(*, response: SupplierResponse) -> SupplierResponse:
    """Send (or send again) a recorded response; its state says how it went, the timeline says it once sent."""
    invoice = response.incoming_invoice
    with translation.override("en"):  # for the supplier, when the note says nothing more
        default_text = str(ResponseReasonCode(response.reason).label)
    message = InvoiceResponse(
        ResponseStatus(response.code), reasons={ResponseReason(response.reason): response.note or default_text}
    )
    try:
        with clients.econnect_gateway_for(invoice.environment) as gateway:
            gateway.send_invoice_response(
                invoice.econnect_document_id, message, response_document_id=response.response_document_id
            )
    except (RemoteError, CredentialDecryptionError) as exc:
        detail = exc.message if isinstance(exc, RemoteError) else _("the eConnect credentials cannot be read")
        SupplierResponse.objects.filter(pk=response.pk).update(state=SupplierResponse.State.FAILED, last_error=detail)
        response.refresh_from_db()
        return response
    now = timezone.now()
    SupplierResponse.objects.filter(pk=response.pk).update(
        state=SupplierResponse.State.SENT, sent_at=now, last_error=""
    )
    response.refresh_from_db()
    event_record(
        environment=invoice.environment,
        incoming_invoice=invoice,
        kind=EventKind.RESPONSE_SENT,
        actor=response.actor,
        reason=response.note,
        message=Msg(
            "incoming.response_sent",
            response=Choice(ResponseCode, response.code),
            reason=Choice(ResponseReasonCode, response.reason),
        ),
        data={"code": response.code, "reason": response.reason, "response_id": response.response_document_id},
    )
    return response


def incoming_response_retry(*, response: SupplierResponse) -> SupplierResponse:
    """A response that was not sent, tried again with the same document id (so at most once at the supplier)."""
    claimed = SupplierResponse.objects.filter(pk=response.pk, state=SupplierResponse.State.FAILED).update(
        state=SupplierResponse.State.PENDING
    )
    if not claimed:
        raise ResponseRefused(_("This response is not waiting to be sent again."))
    response.refresh_from_db()
    return incoming_response_send(response=response)


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, TypeError, AttributeError):
        return False
