"""The nightly reconciliation: eConnect (outbox and inbox), the portal and AFAS compared per environment.

What is compared, over the documents of the last ``RECONCILIATION_WINDOW_DAYS`` days:

- eConnect's outbox against the portal's sales invoices, by eConnect document id: a sent document the portal does
  not know (``unseen_outbox``), and a status that differs from eConnect's (``outgoing_status``);
- eConnect's inbox against the portal's purchase invoices, by eConnect document id: a received document the portal
  never stored (``unseen_inbox``), and one the portal acknowledged that eConnect still lists as new
  (``incoming_status``);
- what the portal delivered to AFAS Profit against what Profit lists as received (read back through the
  ``delivered_purchase_invoices`` GetConnector), by invoice number and date: a delivered invoice missing in AFAS
  (``missing_in_afas``).

Documents younger than ``RECONCILIATION_GRACE_MINUTES`` are work in flight and not judged. Every remote read happens
before anything is written: a remote that fails marks the run failed with its reason and changes nothing else (the
next night tries again). Each side is read page by page, at most ``RECONCILIATION_MAX_DOCUMENTS`` documents per run;
a run that had to stop early says so and closes no findings of the side it could not read completely.

A finding is keyed by its condition: a rerun updates the open finding instead of adding one, and a complete run that
no longer finds the condition closes it as resolved. Fixing one is one call (``finding_fix``), audited as Events.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from integrations.econnect.models import InboxState, OutboxState
from integrations.http import RemoteError
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected
from portal.accounts.models import User
from portal.core import workflow
from portal.core.choices import DocumentType, ErrorKind
from portal.core.validators import checked_reason
from portal.events.messages import Choice, Msg, explained
from portal.events.services import event_record
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import clients
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun

logger = logging.getLogger(__name__)

Kind = ReconciliationFinding.Kind
FindingStatus = ReconciliationFinding.Status
RunStatus = ReconciliationRun.Status
Out = OutgoingInvoice.Status
In = IncomingInvoice.Status

NIGHT_TIME_ZONE = ZoneInfo("Europe/Amsterdam")
PAGE_SIZE = 100  # documents per eConnect or AFAS page
RUN_TIMEOUT = timedelta(hours=2)  # a run still "running" after this was interrupted (its worker stopped)
AFAS_CLOCK_SLACK = timedelta(minutes=10)
OUTBOX_FINAL = {
    OutboxState.DELIVERED: Out.DELIVERED,
    OutboxState.FAILED: Out.FAILED,
    OutboxState.REJECTED: Out.REJECTED,
}
# The portal's sending statuses that say something eConnect can confirm or contradict.
OUTGOING_COMPARABLE = (Out.SUBMITTED, Out.DELIVERED, Out.FAILED, Out.REJECTED, Out.STALE)
OUTGOING_IN_FLIGHT = (Out.READY, Out.SUBMITTING, Out.RETRY_WAIT)
INCOMING_IN_AFAS = (In.DELIVERED, In.ACKNOWLEDGED)
INBOX_STILL_NEW = (InboxState.NEW, InboxState.READ)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def window_days() -> int:
    return _setting("RECONCILIATION_WINDOW_DAYS", 30)


def grace() -> timedelta:
    return timedelta(minutes=_setting("RECONCILIATION_GRACE_MINUTES", 60))


def max_documents() -> int:
    return _setting("RECONCILIATION_MAX_DOCUMENTS", 5000)


def nightly_hour() -> int:
    return _setting("RECONCILIATION_NIGHTLY_HOUR", 2)


class ReconciliationBusy(Exception):
    """Another run of this environment is still going."""


class FindingNotFixable(Exception):
    """The fix cannot be applied (the finding is closed, the invoice moved on, or a remote refused); nothing changed."""


# --- comparing --------------------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    kind: str
    key: str
    document_at: datetime | None
    details: dict
    outgoing_invoice_id: int | None = None
    incoming_invoice_id: int | None = None
    econnect_document_id: str = ""
    afas_reference: str = ""


@dataclass
class Comparison:
    window_start: datetime
    cutoff: datetime  # documents newer than this are in flight and not judged
    candidates: dict[str, Candidate] = field(default_factory=dict)
    counts: dict[str, int | str] = field(default_factory=dict)
    complete: set[str] = field(default_factory=set)  # kinds whose side was read completely: only these auto-close
    truncated: bool = False

    def add(self, candidate: Candidate) -> None:
        self.candidates[candidate.key] = candidate


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _compare(environment: Environment, *, now: datetime) -> Comparison:
    comparison = Comparison(window_start=now - timedelta(days=window_days()), cutoff=now - grace())
    with clients.econnect_gateway_for(environment) as gateway:
        _compare_outbox(environment, gateway, comparison)
        _compare_inbox(environment, gateway, comparison)
    if environment.afas_edition == Environment.Edition.PROFIT:
        with clients.afas_client_for(environment) as afas:
            _compare_afas(environment, afas, comparison)
    else:
        # Small Business books a journal entry per invoice; there is nothing like Profit's e-invoice list to read.
        comparison.counts["afas"] = "not compared (AFAS Small Business)"
    return comparison


def _compare_outbox(environment: Environment, gateway, comparison: Comparison) -> None:
    limit, listed, page, seen = max_documents(), 0, None, set()
    while True:
        listing = gateway.list_outbox_documents(since=comparison.window_start, page=page, limit=PAGE_SIZE)
        documents = [d for d in listing.documents if d.external_id not in seen]
        seen.update(d.external_id for d in documents)
        known = {
            invoice.econnect_document_id: invoice
            for invoice in OutgoingInvoice.objects.filter(
                environment=environment, econnect_document_id__in=[d.external_id for d in documents]
            ).only("pk", "status", "status_changed_at", "submitted_at", "econnect_document_id", "invoice_number")
        }
        for document in documents:
            invoice = known.get(document.external_id)
            if invoice is None:
                _unseen_outbox(environment, document, comparison)
            else:
                _outgoing_status(invoice, document, gateway, comparison)
        listed += len(documents)
        page = listing.next_page
        if not page:
            comparison.complete.update((Kind.UNSEEN_OUTBOX, Kind.OUTGOING_STATUS))
            break
        if listed >= limit:
            comparison.truncated = True
            break
    comparison.counts["econnect_outbox"] = listed


def _unseen_outbox(environment: Environment, document, comparison: Comparison) -> None:
    if document.created_on is not None and document.created_on > comparison.cutoff:
        return
    number = document.invoice_number
    if (
        number
        and OutgoingInvoice.objects.filter(
            environment=environment, econnect_document_id="", invoice_number=number, status__in=OUTGOING_IN_FLIGHT
        ).exists()
    ):
        return  # a submit whose answer was lost: its own recovery finds the document at eConnect and adopts it
    status = document.status
    comparison.add(
        Candidate(
            kind=Kind.UNSEEN_OUTBOX,
            key=f"outbox:{document.external_id}",
            document_at=document.created_on,
            econnect_document_id=document.external_id[:100],
            details={
                "subject": document.subject,
                "invoice_number": number,
                "created_on": _iso(document.created_on),
                "econnect_state": status.state.value if status else "",
                "econnect_status": status.name if status else "",
                "receiver": document.receiver.econnect_party_id if document.receiver else "",
                "delivery_method": document.delivery_method.value,
            },
        )
    )


def _outgoing_status(invoice: OutgoingInvoice, document, gateway, comparison: Comparison) -> None:
    if invoice.status not in OUTGOING_COMPARABLE:
        return  # not sent by the portal, or a person resolved it: nothing to confirm
    status = document.status or gateway.outbox_status(document.external_id)
    remote = status.state
    if remote is OutboxState.UNKNOWN:
        return
    if remote.is_final:
        expected = OUTBOX_FINAL[remote]
        lagging = invoice.status == Out.SUBMITTED and invoice.status_changed_at > comparison.cutoff
        disagrees = invoice.status != expected and not lagging  # a young submission is still being followed
    else:
        disagrees = invoice.status in (Out.DELIVERED, Out.FAILED, Out.REJECTED)
    if not disagrees:
        return
    comparison.add(
        Candidate(
            kind=Kind.OUTGOING_STATUS,
            key=f"outgoing_status:{invoice.pk}",
            document_at=invoice.submitted_at or document.created_on,
            outgoing_invoice_id=invoice.pk,
            econnect_document_id=document.external_id[:100],
            details={
                "invoice_number": invoice.invoice_number,
                "portal_status": invoice.status,
                "econnect_state": remote.value,
                "econnect_status": status.name,
            },
        )
    )


def _compare_inbox(environment: Environment, gateway, comparison: Comparison) -> None:
    limit, listed, seen = max_documents(), 0, set()
    complete = True
    # Every listed state, then the documents eConnect holds back as duplicates (listed only when asked for).
    for state in (None, InboxState.DUPLICATE):
        page = None
        while True:
            listing = gateway.list_inbox_documents_since(
                since=comparison.window_start, state=state, page=page, limit=PAGE_SIZE
            )
            documents = [d for d in listing.documents if d.external_id not in seen]
            seen.update(d.external_id for d in documents)
            known = {
                invoice.econnect_document_id: invoice
                for invoice in IncomingInvoice.objects.filter(
                    environment=environment, econnect_document_id__in=[d.external_id for d in documents]
                ).only("pk", "status", "acknowledged_at", "created_at", "econnect_document_id", "invoice_number")
            }
            for document in documents:
                invoice = known.get(document.external_id)
                if invoice is None:
                    _unseen_inbox(document, comparison)
                else:
                    _incoming_status(invoice, document, comparison)
            listed += len(documents)
            page = listing.next_page
            if not page:
                break
            if listed >= limit:
                complete = False
                comparison.truncated = True
                break
        if not complete:
            break
    if complete:
        comparison.complete.update((Kind.UNSEEN_INBOX, Kind.INCOMING_STATUS))
    comparison.counts["econnect_inbox"] = listed


def _unseen_inbox(document, comparison: Comparison) -> None:
    if document.created_on is not None and document.created_on > comparison.cutoff:
        return  # the next fetch stores it
    comparison.add(
        Candidate(
            kind=Kind.UNSEEN_INBOX,
            key=f"inbox:{document.external_id}",
            document_at=document.created_on,
            econnect_document_id=document.external_id[:100],
            details={
                "subject": document.subject,
                "created_on": _iso(document.created_on),
                "econnect_state": document.state.value,
                "econnect_status": document.status_name,
                "sender": document.sender.name if document.sender else "",
                "sender_id": document.sender.econnect_party_id if document.sender else "",
            },
        )
    )


def _incoming_status(invoice: IncomingInvoice, document, comparison: Comparison) -> None:
    if invoice.status != In.ACKNOWLEDGED or document.state not in INBOX_STILL_NEW:
        return
    if invoice.acknowledged_at is not None and invoice.acknowledged_at > comparison.cutoff:
        return
    comparison.add(
        Candidate(
            kind=Kind.INCOMING_STATUS,
            key=f"incoming_status:{invoice.pk}",
            document_at=document.created_on or invoice.created_at,
            incoming_invoice_id=invoice.pk,
            econnect_document_id=document.external_id[:100],
            details={
                "invoice_number": invoice.invoice_number,
                "portal_status": invoice.status,
                "acknowledged_at": _iso(invoice.acknowledged_at),
                "econnect_state": document.state.value,
                "econnect_status": document.status_name,
            },
        )
    )


def _afas_key(number: str, issued: str) -> tuple[str, str]:
    return number.strip().casefold(), issued


def _compare_afas(environment: Environment, afas, comparison: Comparison) -> None:
    connector = afas.connectors.delivered_purchase_invoices
    if connector not in afas.metainfo().get_connectors:
        # Asking for a GetConnector the app connector lacks is answered like a refused token: ask first.
        comparison.counts["afas"] = f"not compared: the app connector lacks the GetConnector {connector}"
        return
    limit = max_documents()
    delivered = list(
        IncomingInvoice.objects.filter(
            environment=environment,
            status__in=INCOMING_IN_AFAS,
            delivered_at__gte=comparison.window_start,
            delivered_at__lte=comparison.cutoff,
        )
        .order_by("delivered_at", "pk")
        .only("pk", "invoice_number", "issue_date", "delivered_at", "econnect_document_id", "afas_reference")[:limit]
    )
    comparison.counts["portal_delivered_to_afas"] = len(delivered)
    complete = len(delivered) < limit
    if not delivered:
        comparison.counts["afas_delivered"] = 0
        if complete:
            comparison.complete.add(Kind.MISSING_IN_AFAS)
        return
    rows = afas.delivered_purchase_invoices(
        received_since=delivered[0].delivered_at - AFAS_CLOCK_SLACK, limit=limit, page_size=PAGE_SIZE
    )
    comparison.counts["afas_delivered"] = len(rows)
    horizon = None
    if len(rows) >= limit:
        # AFAS had more than one run reads: judge only what was delivered before the last row read.
        complete = False
        horizon = (rows[-1].received_at or comparison.cutoff) - AFAS_CLOCK_SLACK
    available = Counter(_afas_key(row.invoice_number, row.invoice_date) for row in rows)
    for invoice in delivered:
        if horizon is not None and invoice.delivered_at > horizon:
            break
        key = _afas_key(invoice.invoice_number, invoice.issue_date.isoformat() if invoice.issue_date else "")
        if available[key] > 0:
            available[key] -= 1
            continue
        comparison.add(
            Candidate(
                kind=Kind.MISSING_IN_AFAS,
                key=f"afas_missing:{invoice.pk}",
                document_at=invoice.delivered_at,
                incoming_invoice_id=invoice.pk,
                econnect_document_id=invoice.econnect_document_id,
                afas_reference=invoice.afas_reference,
                details={
                    "invoice_number": invoice.invoice_number,
                    "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
                    "delivered_at": _iso(invoice.delivered_at),
                    "file_name": f"{invoice.invoice_number or invoice.econnect_document_id}.xml"[:100],
                },
            )
        )
    if complete:
        comparison.complete.add(Kind.MISSING_IN_AFAS)
    else:
        comparison.truncated = True


# --- runs -------------------------------------------------------------------------------------------------------------


def reconciliation_start(*, environment: Environment) -> ReconciliationRun:
    """A manual run, unless one of this environment is still going."""
    now = timezone.now()
    running = ReconciliationRun.objects.filter(
        environment=environment, status=RunStatus.RUNNING, started_at__gte=now - RUN_TIMEOUT
    )
    if running.exists():
        raise ReconciliationBusy(f"A reconciliation of environment {environment.pk} is still running.")
    return ReconciliationRun.objects.create(environment=environment, trigger=ReconciliationRun.Trigger.MANUAL)


def reconciliation_execute(*, run: ReconciliationRun, now: datetime | None = None) -> ReconciliationRun:
    """Compare, then record: findings opened, updated and closed in one transaction. A failure changes nothing."""
    if run.status != RunStatus.RUNNING:
        return run
    environment = Environment.objects.get(pk=run.environment_id)
    now = now or timezone.now()
    started = time.perf_counter()
    try:
        comparison = _compare(environment, now=now)
    except RemoteError as exc:
        _fail(run, _remote_error(exc))
        logger.warning("Reconciliation of environment %s failed: %s", environment.pk, exc.message)
        return run
    except Exception as exc:  # a bug must not leave the run "running"; it is raised for the logs
        _fail(run, f"Unexpected error: {exc.__class__.__name__}")
        raise
    try:
        with transaction.atomic():
            _record(run, environment, comparison, now=now)
    except IntegrityError as exc:  # another run recorded the same findings meanwhile
        _fail(run, f"Could not record the findings: {exc.__class__.__name__}")
        return run
    run.refresh_from_db()
    logger.info(
        "Reconciliation of environment %s: %s opened, %s open, %s resolved in %.2f s (%s)",
        environment.pk,
        run.findings_opened,
        run.findings_still_open,
        run.findings_resolved,
        time.perf_counter() - started,
        run.counts,
    )
    return run


def reconciliation_run_now(*, environment: Environment, now: datetime | None = None) -> ReconciliationRun:
    return reconciliation_execute(run=reconciliation_start(environment=environment), now=now)


def _remote_error(exc: RemoteError) -> str:
    message = exc.message or exc.__class__.__name__
    if exc.service and exc.service.lower() not in message.lower():
        message = f"{exc.service}: {message}"
    return message


def _fail(run: ReconciliationRun, error: str) -> None:
    ReconciliationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:2000]
    )
    run.refresh_from_db()


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


def _record(run: ReconciliationRun, environment: Environment, comparison: Comparison, *, now: datetime) -> None:
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
            kind="reconciliation_finding",
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
            kind="reconciliation_resolved",
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


# --- nightly dispatch -------------------------------------------------------------------------------------------------


def reconciliation_fail_interrupted(*, now: datetime | None = None) -> int:
    """Runs whose worker stopped: failed, so that the next night (or a person) starts a fresh one."""
    now = now or timezone.now()
    return ReconciliationRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - RUN_TIMEOUT).update(
        status=RunStatus.FAILED,
        finished_at=now,
        error="Interrupted: the run did not finish (the worker stopped). The next night tries again.",
    )


def reconciliation_night(now: datetime | None = None) -> date | None:
    """Tonight's date once the nightly hour has come (Europe/Amsterdam), else None."""
    local = timezone.localtime(now or timezone.now(), NIGHT_TIME_ZONE)
    return local.date() if local.hour >= nightly_hour() else None


def reconciliation_dispatch(*, now: datetime | None = None) -> list[int]:
    """Create tonight's run for every environment that sends or receives and has none yet: each picked once (the
    one-run-per-night constraint decides between two dispatchers). Returns the new runs' ids."""
    now = now or timezone.now()
    reconciliation_fail_interrupted(now=now)
    night = reconciliation_night(now)
    if night is None:
        return []
    due = (
        Environment.objects.filter(Q(sending_enabled=True) | Q(receiving_enabled=True))
        .exclude(reconciliation_runs__night=night)
        .values_list("pk", flat=True)
    )
    created = []
    for environment_id in due:
        try:
            with transaction.atomic():
                run = ReconciliationRun.objects.create(
                    environment_id=environment_id, trigger=ReconciliationRun.Trigger.NIGHTLY, night=night
                )
        except IntegrityError:
            continue
        created.append(run.pk)
    return created


# --- fixing -----------------------------------------------------------------------------------------------------------


def _enqueue(module: str, task_name: str, pk: int) -> None:
    import importlib

    task = getattr(importlib.import_module(module), task_name)
    transaction.on_commit(lambda: task.delay(pk))


def _fix_missing_in_afas(finding: ReconciliationFinding, actor: User, reason: str) -> Msg:
    """Deliver again (``incoming_deliver_again`` semantics): the document goes to AFAS unchanged, then is
    acknowledged again."""
    invoice = finding.incoming_invoice
    if invoice is None:
        raise FindingNotFixable(gettext("The purchase invoice of this finding no longer exists."))
    moved = workflow.transition(
        invoice,
        subject="incoming_invoice",
        from_statuses=INCOMING_IN_AFAS,
        to_status=In.READY,
        message=Msg("incoming.deliver_again_reconciliation"),
        system_actor="reconciliation",
        actor=actor,
        reason=reason,
        kind="deliver_again",
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
    _enqueue("portal.incoming_invoices.tasks", "deliver", invoice.pk)
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
        kind="received",
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
    _enqueue("portal.incoming_invoices.tasks", "process", invoice.pk)
    return Msg("reconciliation.outcome.imported", pk=str(invoice.pk))


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


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
    if _has_field(OutgoingInvoice, "sha256"):  # the stored document's hash, where the model keeps one
        fields["sha256"] = hashlib.sha256(payload).hexdigest()
    invoice = OutgoingInvoice.objects.create(**fields)
    event_record(
        environment=environment,
        outgoing_invoice=invoice,
        kind="recorded_from_econnect",
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
    moved = workflow.transition(
        invoice,
        subject="outgoing_invoice",
        from_statuses=(invoice.status,),
        to_status=target,
        message=Msg("outgoing.status_adopted", status=name),
        system_actor="reconciliation",
        actor=actor,
        reason=reason,
        kind="status_adopted",
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
        gateway.set_inbox_document_status(invoice.econnect_document_id, InboxState.PROCESSED)
    event_record(
        environment=finding.environment,
        incoming_invoice=invoice,
        kind="acknowledged_again",
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


def _close(finding: ReconciliationFinding, *, status: str, actor: User, reason: str, outcome: Msg, kind: str) -> None:
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
            locked, status=FindingStatus.FIXED, actor=actor, reason=reason, outcome=outcome, kind="reconciliation_fixed"
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
            kind="reconciliation_dismissed",
        )
    finding.refresh_from_db()
    return True
