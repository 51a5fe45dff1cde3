"""Corrections to the record of sent invoices from what eConnect says, made by a person (the reconciliation's fixes).

Each is audited with the person and their reason, checked against the current state, and safe to repeat: a document
already recorded is not recorded twice, a status already adopted is not adopted twice. Anything that cannot be done
raises ``CorrectionRefused`` with the reason; a remote's failure is raised as its typed ``RemoteError``.
"""

from __future__ import annotations

import hashlib

from django.utils import timezone
from django.utils.translation import gettext

from integrations.econnect.models import OutboxState, OutboxStatus
from integrations.peppol.parser import DocumentSummary, parse_document
from integrations.peppol.xml import XmlRejected
from portal.accounts.models import User
from portal.core.choices import DocumentType, ErrorKind
from portal.documents import lifecycle
from portal.documents.lifecycle import CorrectionRefused
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.status_follow import FINAL_STATUSES

Status = OutgoingInvoice.Status
ENDED_BY_ECONNECT = (Status.FAILED, Status.REJECTED)


def outgoing_record_from_econnect(
    *, environment: Environment, external_id: str, actor: User, reason: str, data: dict | None = None
) -> tuple[OutgoingInvoice, bool]:
    """A document in eConnect's outbox the portal never sent: recorded with eConnect's status, so that it is followed
    and shown. Already recorded: that invoice, False."""
    existing = OutgoingInvoice.objects.filter(environment=environment, econnect_document_id=external_id).first()
    if existing is not None:
        return existing, False
    with clients.econnect_gateway_for(environment) as gateway:
        document = gateway.get_outbox_document(external_id)
    payload, summary = document.payload, document.summary
    try:
        read: DocumentSummary | None = parse_document(payload)
    except XmlRejected:
        read = None
    state = summary.status.state if summary.status else OutboxState.UNKNOWN
    status = FINAL_STATUSES.get(state, Status.SUBMITTED)
    econnect_status = (summary.status.name if summary.status else "")[:100]
    now = timezone.now()
    fields = {
        "environment": environment,
        "afas_identity": f"econnect:{external_id}"[:100],
        "ubl": payload,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "submission_reference": f"econnect:{external_id}"[:64],
        "submission_prepared_at": summary.created_on or now,
        "econnect_document_id": external_id,
        "econnect_status": econnect_status,
        "status": status,
        "submitted_at": summary.created_on or now,
        "completed_at": now if status != Status.SUBMITTED else None,
        "next_attempt_at": now if status == Status.SUBMITTED else None,
        "invoice_number": ((read.number if read else None) or summary.invoice_number)[:100],
        **_read_fields(read),
    }
    if status in ENDED_BY_ECONNECT:
        fields.update(last_error_kind=ErrorKind.PERMANENT, last_error_message=econnect_status)
    invoice = OutgoingInvoice.objects.create(**fields)
    event_record(
        environment=environment,
        outgoing_invoice=invoice,
        kind=EventKind.RECORDED_FROM_ECONNECT,
        to_status=status,
        message=Msg(
            "outgoing.recorded_from_econnect",
            document_id=external_id,
            status=econnect_status or Msg("reconciliation.unknown_status"),
        ),
        actor=actor,
        reason=reason,
        system_actor="reconciliation",
        data=data,
    )
    return invoice, True


def _read_fields(read: DocumentSummary | None) -> dict:
    """What the portal shows of a document it did not make, as far as the document can be read."""
    if read is None:
        return {"issue_date": None, "document_type": DocumentType.INVOICE, "customer_name": "", "currency": ""}
    currency = read.currency or ""
    return {
        "issue_date": read.issue_date,
        "document_type": DocumentType.CREDIT_NOTE if read.is_credit_note else DocumentType.INVOICE,
        "customer_name": ((read.customer.display_name if read.customer else "") or "")[:255],
        "currency": currency[:3] if currency.isalpha() else "",
        "payable_amount": read.totals.payable,
    }


def outgoing_adopt_econnect_status(
    *, invoice: OutgoingInvoice, actor: User, reason: str, data: dict | None = None
) -> tuple[str, bool]:
    """Adopt eConnect's status as it is now (asked again). Returns eConnect's status name and whether the invoice
    moved (False: the portal already agreed)."""
    with clients.econnect_gateway_for(invoice.environment) as gateway:
        status: OutboxStatus = gateway.outbox_status(invoice.econnect_document_id)
    if status.state is OutboxState.UNKNOWN:
        raise CorrectionRefused(
            gettext("eConnect reports a status the portal does not know: %(name)s.") % {"name": status.name}
        )
    target = FINAL_STATUSES.get(status.state, Status.SUBMITTED)
    name = (status.name or status.state.value)[:100]
    if invoice.status == target:
        OutgoingInvoice.objects.filter(pk=invoice.pk).update(econnect_status=name)
        return name, False
    final = target != Status.SUBMITTED
    ended = target in ENDED_BY_ECONNECT
    moved = lifecycle.transition(
        invoice,
        subject="outgoing_invoice",
        from_statuses=(invoice.status,),
        to_status=target,
        message=Msg("outgoing.status_adopted", status=name),
        system_actor="reconciliation",
        actor=actor,
        reason=reason,
        kind=EventKind.STATUS_ADOPTED,
        data=data,
        econnect_status=name,
        completed_at=timezone.now() if final else None,
        next_attempt_at=None if final else timezone.now(),
        last_error_kind=ErrorKind.PERMANENT if ended else "",
        last_error_message=name if ended else "",
    )
    if not moved:
        raise CorrectionRefused(gettext("The sales invoice changed meanwhile; run the reconciliation again."))
    return name, True
