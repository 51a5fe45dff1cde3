"""Fixing or dismissing a reconciliation finding: one call per finding (``finding_fix``, ``finding_dismiss``), each
checked against the current state, audited as Events, and safe to repeat."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from integrations.http import RemoteError
from portal.accounts.models import User
from portal.core.validators import checked_reason
from portal.documents.lifecycle import CorrectionRefused
from portal.events.messages import Choice, Msg, explained
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.incoming_invoices.services import (
    incoming_acknowledge_again,
    incoming_deliver_again_missing,
    incoming_import_unlisted,
)
from portal.outgoing_invoices.corrections import outgoing_adopt_econnect_status, outgoing_record_from_econnect
from portal.reconciliation.models import ReconciliationFinding

logger = logging.getLogger(__name__)

Kind = ReconciliationFinding.Kind
FindingStatus = ReconciliationFinding.Status


class FindingNotFixable(Exception):
    """The fix cannot be applied (the finding is closed, the invoice moved on, or a remote refused); nothing changed."""


# --- fixing: each kind calls the service of the app that owns the invoice -----------------------------------------


def _fix_missing_in_afas(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Deliver again: the document goes to AFAS unchanged, then is acknowledged again."""
    invoice = finding.incoming_invoice
    if invoice is None:
        raise FindingNotFixable(gettext("The purchase invoice of this finding no longer exists."))
    if not incoming_deliver_again_missing(invoice=invoice, actor=actor, reason=reason, data={"finding": finding.pk}):
        raise FindingNotFixable(
            gettext("The purchase invoice is no longer marked as delivered (now: %(status)s).")
            % {"status": invoice.get_status_display()}
        )
    return Msg("reconciliation.outcome.delivered_again")


def _fix_unseen_inbox(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Store the document exactly as eConnect hands it over, as the fetch does, and process it like any other."""
    invoice, created = incoming_import_unlisted(
        environment=finding.environment,
        external_id=finding.econnect_document_id,
        actor=actor,
        reason=reason,
        data={"finding": finding.pk},
    )
    if not created:
        return Msg("reconciliation.outcome.already_have")
    ReconciliationFinding.objects.filter(pk=finding.pk).update(incoming_invoice=invoice)
    return Msg("reconciliation.outcome.imported", pk=str(invoice.pk))


def _fix_unseen_outbox(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Record the sent document in the portal with eConnect's status, so that it is followed and shown."""
    invoice, created = outgoing_record_from_econnect(
        environment=finding.environment,
        external_id=finding.econnect_document_id,
        actor=actor,
        reason=reason,
        data={"finding": finding.pk},
    )
    if not created:
        return Msg("reconciliation.outcome.already_have_sales", pk=str(invoice.pk))
    ReconciliationFinding.objects.filter(pk=finding.pk).update(outgoing_invoice=invoice)
    return Msg("reconciliation.outcome.recorded", pk=str(invoice.pk))


def _fix_outgoing_status(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Adopt eConnect's status as it is now (asked again, not taken from the night's run)."""
    invoice = finding.outgoing_invoice
    if invoice is None:
        raise FindingNotFixable(gettext("The sales invoice of this finding no longer exists."))
    name, moved = outgoing_adopt_econnect_status(
        invoice=invoice, actor=actor, reason=reason, data={"finding": finding.pk}
    )
    return Msg("reconciliation.outcome.adopted" if moved else "reconciliation.outcome.agree", status=name)


def _fix_incoming_status(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """The document is in AFAS: report it processed at eConnect again."""
    invoice = finding.incoming_invoice
    acknowledged = invoice is not None and incoming_acknowledge_again(
        invoice=invoice, actor=actor, reason=reason, data={"finding": finding.pk}
    )
    if not acknowledged:
        raise FindingNotFixable(gettext("The purchase invoice is no longer acknowledged in the portal."))
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
        except CorrectionRefused as exc:
            raise FindingNotFixable(str(exc)) from exc
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
