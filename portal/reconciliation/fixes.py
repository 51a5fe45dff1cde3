"""Fixing or dismissing a reconciliation finding: one call per finding (``finding_fix``, ``finding_dismiss``), each
checked against the current state, audited as Events, and safe to repeat."""

from __future__ import annotations

import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from integrations.econnect.models import OutboxState
from integrations.http import RemoteError
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected
from portal.accounts.models import User
from portal.core.choices import DocumentType, ErrorKind
from portal.core.validators import checked_reason
from portal.documents import lifecycle
from portal.events.messages import Choice, Msg, explained
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.incoming_invoices.acknowledgement import econnect_acknowledge
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import clients
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.reconciliation.comparison import INCOMING_IN_AFAS, OUTBOX_FINAL
from portal.reconciliation.models import ReconciliationFinding

logger = logging.getLogger(__name__)

Kind = ReconciliationFinding.Kind
FindingStatus = ReconciliationFinding.Status
Out = OutgoingInvoice.Status
In = IncomingInvoice.Status


class FindingNotFixable(Exception):
    """The fix cannot be applied (the finding is closed, the invoice moved on, or a remote refused); nothing changed."""


# --- fixing -----------------------------------------------------------------------------------------------------------


def _fix_missing_in_afas(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Deliver again (``incoming_deliver_again`` semantics): the document goes to AFAS unchanged, then is
    acknowledged again."""
    invoice = finding.incoming_invoice
    if invoice is None:
        raise FindingNotFixable(gettext("The purchase invoice of this finding no longer exists."))
    moved = lifecycle.transition(
        invoice,
        subject="incoming_invoice",
        from_statuses=INCOMING_IN_AFAS,
        to_status=In.READY,
        message=Msg("incoming.deliver_again_reconciliation"),
        system_actor="reconciliation",
        actor=actor,
        reason=reason,
        kind=EventKind.DELIVER_AGAIN,
        data={"finding": finding.pk},
        hold_reason="",
        attempts=0,
        next_attempt_at=timezone.now(),
        dispatched_at=timezone.now(),
    )
    if not moved:
        raise FindingNotFixable(
            gettext("The purchase invoice is no longer marked as delivered (now: %(status)s).")
            % {"status": invoice.get_status_display()}
        )
    lifecycle.enqueue("incoming.deliver", invoice.pk)
    return Msg("reconciliation.outcome.delivered_again")


def _fix_unseen_inbox(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Store the document exactly as eConnect hands it over, as the fetch does, and process it like any other."""
    environment = finding.environment
    with clients.econnect_gateway_for(environment) as gateway:
        document = gateway.get_inbox_document(finding.econnect_document_id)
    payload = document.payload
    invoice, created = IncomingInvoice.objects.get_or_create(
        environment=environment,
        econnect_document_id=finding.econnect_document_id,
        defaults={
            "raw_xml": payload,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "econnect_duplicate_flag": document.summary.flagged_duplicate,
        },
    )
    if not created:
        return Msg("reconciliation.outcome.already_have")
    event_record(
        environment=environment,
        incoming_invoice=invoice,
        kind=EventKind.RECEIVED,
        to_status=In.RECEIVED,
        message=Msg(
            "incoming.imported_flagged" if document.summary.flagged_duplicate else "incoming.imported",
            size=len(payload),
        ),
        actor=actor,
        reason=reason,
        system_actor="reconciliation",
        data={"finding": finding.pk},
    )
    ReconciliationFinding.objects.filter(pk=finding.pk).update(incoming_invoice=invoice)
    lifecycle.enqueue("incoming.process", invoice.pk)
    return Msg("reconciliation.outcome.imported", pk=str(invoice.pk))


def _fix_unseen_outbox(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Record the sent document in the portal with eConnect's status, so that it is followed and shown."""
    environment = finding.environment
    external_id = finding.econnect_document_id
    existing = OutgoingInvoice.objects.filter(environment=environment, econnect_document_id=external_id).first()
    if existing is not None:
        return Msg("reconciliation.outcome.already_have_sales", pk=str(existing.pk))
    with clients.econnect_gateway_for(environment) as gateway:
        document = gateway.get_outbox_document(external_id)
    payload, summary = document.payload, document.summary
    try:
        read = parse_document(payload)
    except XmlRejected:
        read = None
    state = summary.status.state if summary.status else OutboxState.UNKNOWN
    status = OUTBOX_FINAL.get(state, Out.SUBMITTED)
    now = timezone.now()
    fields = {
        "environment": environment,
        "afas_identity": f"econnect:{external_id}"[:100],
        "ubl": payload,
        "submission_reference": f"econnect:{external_id}"[:64],
        "submission_prepared_at": summary.created_on or now,
        "econnect_document_id": external_id,
        "econnect_status": (summary.status.name if summary.status else "")[:100],
        "status": status,
        "submitted_at": summary.created_on or now,
        "completed_at": now if status != Out.SUBMITTED else None,
        "next_attempt_at": now if status == Out.SUBMITTED else None,
        "invoice_number": ((read.number if read else None) or summary.invoice_number)[:100],
        "issue_date": read.issue_date if read else None,
        "document_type": DocumentType.CREDIT_NOTE if read and read.is_credit_note else DocumentType.INVOICE,
        "customer_name": ((read.customer.display_name if read and read.customer else "") or "")[:255],
        "currency": (read.currency or "")[:3] if read and (read.currency or "").isalpha() else "",
        "payable_amount": read.totals.payable if read else None,
    }
    if status in (Out.FAILED, Out.REJECTED):
        fields.update(last_error_kind=ErrorKind.PERMANENT, last_error_message=fields["econnect_status"])
    fields["sha256"] = hashlib.sha256(payload).hexdigest()
    invoice = OutgoingInvoice.objects.create(**fields)
    event_record(
        environment=environment,
        outgoing_invoice=invoice,
        kind=EventKind.RECORDED_FROM_ECONNECT,
        to_status=status,
        message=Msg(
            "outgoing.recorded_from_econnect",
            document_id=external_id,
            status=fields["econnect_status"] or Msg("reconciliation.unknown_status"),
        ),
        actor=actor,
        reason=reason,
        system_actor="reconciliation",
        data={"finding": finding.pk},
    )
    ReconciliationFinding.objects.filter(pk=finding.pk).update(outgoing_invoice=invoice)
    return Msg("reconciliation.outcome.recorded", pk=str(invoice.pk))


def _fix_outgoing_status(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Adopt eConnect's status as it is now (asked again, not taken from the night's run)."""
    invoice = finding.outgoing_invoice
    if invoice is None:
        raise FindingNotFixable(gettext("The sales invoice of this finding no longer exists."))
    with clients.econnect_gateway_for(finding.environment) as gateway:
        status = gateway.outbox_status(invoice.econnect_document_id)
    if status.state is OutboxState.UNKNOWN:
        raise FindingNotFixable(
            gettext("eConnect reports a status the portal does not know: %(name)s.") % {"name": status.name}
        )
    target = OUTBOX_FINAL.get(status.state, Out.SUBMITTED)
    name = (status.name or status.state.value)[:100]
    if invoice.status == target:
        OutgoingInvoice.objects.filter(pk=invoice.pk).update(econnect_status=name)
        return Msg("reconciliation.outcome.agree", status=name)
    final = target != Out.SUBMITTED
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
        data={"finding": finding.pk},
        econnect_status=name,
        completed_at=timezone.now() if final else None,
        next_attempt_at=None if final else timezone.now(),
        last_error_kind=ErrorKind.PERMANENT if target in (Out.FAILED, Out.REJECTED) else "",
        last_error_message=name if target in (Out.FAILED, Out.REJECTED) else "",
    )
    if not moved:
        raise FindingNotFixable(gettext("The sales invoice changed meanwhile; run the reconciliation again."))
    return Msg("reconciliation.outcome.adopted", status=name)


def _fix_incoming_status(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """The document is in AFAS: report it processed at eConnect again."""
    invoice = finding.incoming_invoice
    if invoice is None or invoice.status != In.ACKNOWLEDGED:
        raise FindingNotFixable(gettext("The purchase invoice is no longer acknowledged in the portal."))
    with clients.econnect_gateway_for(finding.environment) as gateway:
        econnect_acknowledge(gateway, invoice)
    event_record(
        environment=finding.environment,
        incoming_invoice=invoice,
        kind=EventKind.ACKNOWLEDGED_AGAIN,
        message=Msg("incoming.acknowledged_again"),
        actor=actor,
        reason=reason,
        system_actor="reconciliation",
        data={"finding": finding.pk},
    )
    return Msg("reconciliation.outcome.acknowledged_again")


FIXES = {
    Kind.MISSING_IN_AFAS: _fix_missing_in_afas,
    Kind.UNSEEN_INBOX: _fix_unseen_inbox,
    Kind.UNSEEN_OUTBOX: _fix_unseen_outbox,
    Kind.OUTGOING_STATUS: _fix_outgoing_status,
    Kind.INCOMING_STATUS: _fix_incoming_status,
}


def _close(
    finding: ReconciliationFinding, *, status: str, actor: User, reason: str, outcome: Msg, kind: EventKind
) -> None:
    ReconciliationFinding.objects.filter(pk=finding.pk).update(
        status=status,
        closed_at=timezone.now(),
        closed_by=actor,
        reason=reason,
        **explained("outcome", outcome),
    )
    finding.refresh_from_db()
    event_record(
        environment=finding.environment,
        kind=kind,
        message=Msg("reconciliation.closed", kind=Choice(Kind, finding.kind), outcome=outcome),
        actor=actor,
        reason=reason,
        outgoing_invoice=finding.outgoing_invoice,
        incoming_invoice=finding.incoming_invoice,
        data={"finding": finding.pk, "finding_kind": finding.kind},
    )


def finding_fix(*, finding: ReconciliationFinding, actor: User, reason: str) -> ReconciliationFinding:
    """Fix one finding with the action of its kind, audited with the person and their reason. Raises
    ``FindingNotFixable`` (nothing changed) when it cannot, e.g. because a remote refused."""
    reason = checked_reason(reason, required=gettext("Say why this fix is right (it is kept in the timeline)."))
    with transaction.atomic():
        locked = ReconciliationFinding.objects.select_for_update().filter(pk=finding.pk).first()
        if locked is None or locked.status != FindingStatus.OPEN:
            raise FindingNotFixable(gettext("This finding is no longer open."))
        try:
            outcome = FIXES[locked.kind](locked, actor, reason)
        except RemoteError as exc:
            raise FindingNotFixable(
                gettext("The fix could not be applied: %(error)s") % {"error": exc.message}
            ) from exc
        _close(
            locked,
            status=FindingStatus.FIXED,
            actor=actor,
            reason=reason,
            outcome=outcome,
            kind=EventKind.RECONCILIATION_FIXED,
        )
    return locked


def finding_dismiss(*, finding: ReconciliationFinding, actor: User, reason: str) -> bool:
    """A person decides the finding needs no action (e.g. handled outside the portal). Audited."""
    reason = checked_reason(reason, required=gettext("Say why this finding needs no action."))
    with transaction.atomic():
        locked = ReconciliationFinding.objects.select_for_update().filter(pk=finding.pk).first()
        if locked is None or locked.status != FindingStatus.OPEN:
            return False
        _close(
            locked,
            status=FindingStatus.DISMISSED,
            actor=actor,
            reason=reason,
            outcome=Msg("reconciliation.outcome.dismissed"),
            kind=EventKind.RECONCILIATION_DISMISSED,
        )
    finding.refresh_from_db()
    return True
