"""What a reconciliation run compares: eConnect's outbox and inbox and what AFAS lists as received, against the
portal's documents, read page by page within the run's window and limits. Every remote read happens here, before the
run writes anything (``services._record``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from integrations.econnect.models import InboxState, OutboxState
from portal.incoming_invoices.models import IN_AFAS_STATUSES, IncomingInvoice
from portal.organisations import clients
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.status_follow import FINAL_STATUSES
from portal.reconciliation.models import ReconciliationFinding

Kind = ReconciliationFinding.Kind
Out = OutgoingInvoice.Status
In = IncomingInvoice.Status
PAGE_SIZE = 100  # documents per eConnect or AFAS page
AFAS_CLOCK_SLACK = timedelta(minutes=10)
OUTBOX_FINAL = FINAL_STATUSES  # the same mapping as the status follow-up
# The portal's sending statuses that say something eConnect can confirm or contradict.
OUTGOING_COMPARABLE = (Out.SUBMITTED, Out.DELIVERED, Out.FAILED, Out.REJECTED, Out.STALE)
OUTGOING_IN_FLIGHT = (Out.READY, Out.SUBMITTING, Out.RETRY_WAIT)
INCOMING_IN_AFAS = IN_AFAS_STATUSES
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


def compare_environment(environment: Environment, *, now: datetime) -> Comparison:
    comparison = Comparison(window_start=now - timedelta(days=window_days()), cutoff=now - grace())
    with clients.econnect_gateway_for(environment) as gateway:
        if environment.uses_psb:
            _compare_psb(environment, gateway, comparison)
        else:
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
            elif invoice.status in OUTGOING_COMPARABLE:
                status = document.status or gateway.outbox_status(document.external_id)
                _outgoing_status(invoice, document.external_id, document.created_on, status, comparison)
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


def _outgoing_status(
    invoice: OutgoingInvoice, external_id: str, created_on: datetime | None, status, comparison: Comparison
) -> None:
    if invoice.status not in OUTGOING_COMPARABLE:
        return  # not sent by the portal, or a person resolved it: nothing to confirm
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
            document_at=invoice.submitted_at or created_on,
            outgoing_invoice_id=invoice.pk,
            econnect_document_id=external_id[:100],
            details={
                "invoice_number": invoice.invoice_number,
                "portal_status": invoice.status,
                "econnect_state": remote.value,
                "econnect_status": status.name,
            },
        )
    )


def _compare_psb(environment: Environment, gateway, comparison: Comparison) -> None:
    """PSB lists neither the outbox nor the inbox: each invoice the portal sent in the window is asked for its status
    by its document id (which the portal chose, so eConnect cannot hold a sent document the portal does not know).
    Received documents are known only by webhook; those events keep their own retries (``webhooks``)."""
    sent = OutgoingInvoice.objects.filter(
        environment=environment,
        status__in=OUTGOING_COMPARABLE,
        submitted_at__gte=comparison.window_start,
        submitted_at__lte=comparison.cutoff,
    ).exclude(econnect_document_id="")
    limit, checked = max_documents(), 0
    for invoice in sent.order_by("submitted_at", "pk").only(
        "pk", "status", "status_changed_at", "submitted_at", "econnect_document_id", "invoice_number"
    )[: limit + 1]:
        if checked >= limit:
            comparison.truncated = True
            break
        status = gateway.outbox_status(invoice.econnect_document_id)
        _outgoing_status(invoice, invoice.econnect_document_id, invoice.submitted_at, status, comparison)
        checked += 1
    else:
        comparison.complete.update((Kind.UNSEEN_OUTBOX, Kind.OUTGOING_STATUS))
    comparison.counts["econnect_outbox"] = checked
    comparison.counts["econnect_inbox"] = "not listed (eConnect PSB: received by webhook)"


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
