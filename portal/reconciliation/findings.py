"""A reconciliation run's findings: keyed by their condition, opened once, updated by every run that sees them again,
resolved by a complete run that no longer does. Each opening and resolution is an Event on the environment's
timeline (and the invoice's, when there is one)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from portal.events.messages import Choice, Msg, explained
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.reconciliation.comparison import Candidate, Comparison
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun

Kind = ReconciliationFinding.Kind
FindingStatus = ReconciliationFinding.Status
RunStatus = ReconciliationRun.Status
Out = OutgoingInvoice.Status


def _describe(candidate: Candidate) -> Msg:
    details = candidate.details
    number = str(details.get("invoice_number") or details.get("subject") or candidate.econnect_document_id)
    document_id = candidate.econnect_document_id
    if candidate.kind == Kind.MISSING_IN_AFAS:
        return Msg("reconciliation.missing_in_afas", number=number)
    if candidate.kind == Kind.UNSEEN_INBOX:
        return Msg("reconciliation.unseen_inbox", number=number, document_id=document_id)
    if candidate.kind == Kind.UNSEEN_OUTBOX:
        return Msg("reconciliation.unseen_outbox", number=number, document_id=document_id)
    if candidate.kind == Kind.OUTGOING_STATUS:
        portal_status = str(details.get("portal_status") or "")
        return Msg(
            "reconciliation.outgoing_status",
            portal=Choice(Out, portal_status) if portal_status in Out.values else portal_status,
            econnect=str(details.get("econnect_status") or details.get("econnect_state") or ""),
        )
    return Msg("reconciliation.incoming_status", econnect=str(details.get("econnect_status") or ""))


def findings_record(run: ReconciliationRun, environment: Environment, comparison: Comparison, *, now: datetime) -> None:
    """A run's comparison as findings: new conditions opened (with an event), known ones updated, those a complete
    run no longer finds (within its window) resolved; then the run's counts. Called inside the run's transaction."""
    open_findings = {
        finding.key: finding
        for finding in ReconciliationFinding.objects.select_for_update().filter(
            environment=environment, status=FindingStatus.OPEN
        )
    }
    opened = resolved = 0
    for key, candidate in comparison.candidates.items():
        finding = open_findings.get(key)
        if finding is not None:
            ReconciliationFinding.objects.filter(pk=finding.pk).update(
                details=candidate.details, last_run=run, last_seen_at=now
            )
            continue
        finding = ReconciliationFinding.objects.create(
            environment=environment,
            kind=candidate.kind,
            key=key,
            outgoing_invoice_id=candidate.outgoing_invoice_id,
            incoming_invoice_id=candidate.incoming_invoice_id,
            econnect_document_id=candidate.econnect_document_id,
            afas_reference=candidate.afas_reference[:100],
            document_at=candidate.document_at,
            details=candidate.details,
            first_run=run,
            last_run=run,
            last_seen_at=now,
        )
        opened += 1
        event_record(
            environment=environment,
            kind=EventKind.RECONCILIATION_FINDING,
            message=_describe(candidate),
            system_actor="reconciliation",
            outgoing_invoice=finding.outgoing_invoice,
            incoming_invoice=finding.incoming_invoice,
            data={"finding": finding.pk, "finding_kind": candidate.kind, "run": run.pk},
        )
    for key, finding in open_findings.items():
        if key in comparison.candidates or finding.kind not in comparison.complete:
            continue
        if finding.document_at is not None and finding.document_at < comparison.window_start:
            continue  # out of this run's sight: not evidence that it is resolved
        gone = Msg("reconciliation.outcome.no_longer_found", run=str(run.pk))
        ReconciliationFinding.objects.filter(pk=finding.pk, status=FindingStatus.OPEN).update(
            status=FindingStatus.RESOLVED, closed_at=now, **explained("outcome", gone)
        )
        resolved += 1
        event_record(
            environment=environment,
            kind=EventKind.RECONCILIATION_RESOLVED,
            message=Msg("reconciliation.resolved", kind=Choice(Kind, finding.kind)),
            system_actor="reconciliation",
            outgoing_invoice=finding.outgoing_invoice,
            incoming_invoice=finding.incoming_invoice,
            data={"finding": finding.pk, "finding_kind": finding.kind, "run": run.pk},
        )
    ReconciliationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        window_start=comparison.window_start,
        counts=comparison.counts,
        truncated=comparison.truncated,
        findings_opened=opened,
        findings_resolved=resolved,
        findings_still_open=ReconciliationFinding.objects.filter(
            environment=environment, status=FindingStatus.OPEN
        ).count(),
    )
