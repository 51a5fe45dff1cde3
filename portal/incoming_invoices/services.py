"""Receiving: from the eConnect inbox into AFAS, unchanged, exactly once, with honest duplicate flags.

A document is stored byte for byte before anything else happens, parsed (a bad or hostile one is held as
evidence), given the portal's duplicate verdict, delivered to AFAS unchanged, and only then marked processed
at eConnect. Delivery and acknowledgement are separate states, so a crash between them finishes the
acknowledgement next time and never delivers twice.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import partial

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from integrations.http import (
    AccessDenied,
    AuthenticationError,
    MalformedResponse,
    RemoteError,
    RemoteTimeout,
    RemoteUnavailable,
)
from integrations.peppol.parser import AttachmentUnavailable, attachment_content, parse_document
from integrations.peppol.xml import XmlRejected
from portal.accounts.models import User
from portal.core.choices import ErrorKind
from portal.core.validators import checked_reason
from portal.documents import lifecycle
from portal.events.messages import Bilingual, Choice, Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.incoming_invoices import fetching, selectors, small_business
from portal.incoming_invoices.acknowledgement import econnect_acknowledge
from portal.incoming_invoices.addressee import addressee_check
from portal.incoming_invoices.duplicates import duplicate_verdict, judging_lock
from portal.incoming_invoices.fetching import (  # noqa: F401  (receiving's services, in one place for callers)
    FetchResult,
    incoming_dispatch_fetches,
    incoming_import_unlisted,
)
from portal.incoming_invoices.models import IN_AFAS_STATUSES, IncomingInvoice
from portal.incoming_invoices.own_test_invoices import TestInvoiceMark, own_test_invoice
from portal.incoming_invoices.summaries import summary_fields
from portal.organisations import clients
from portal.organisations.models import Environment
from portal.outgoing_invoices.round_trip import outgoing_record_test_returned

logger = logging.getLogger(__name__)

Status = IncomingInvoice.Status
Hold = IncomingInvoice.HoldReason
Verdict = IncomingInvoice.DuplicateVerdict
HOSTILE_KINDS = {"dtd_forbidden", "too_large", "too_deep"}
PERMANENT_ACK_RETRY_SECONDS = 3600.0
PROCESS_TOGETHER = 50  # fetched documents whose steps are written together (the judging lock is held for as many)
# Delivering to AFAS: READY or due RETRY_WAIT → DELIVERING → DELIVERED, RETRY_WAIT, HELD or FAILED.
DELIVERY = lifecycle.RemoteStep(
    IncomingInvoice, "incoming_invoice", Status.DELIVERING, "deliver", "incoming.afas_unavailable", "incoming.deliver"
)


def _transition(invoice: IncomingInvoice, *, system_actor: str = "receiving", **kwargs) -> bool:
    return lifecycle.transition(invoice, subject="incoming_invoice", system_actor=system_actor, **kwargs)


# --- process: parse and judge ---------------------------------------------------------------------------------------


def incoming_fetch(*, environment: Environment) -> FetchResult:
    """Store every new inbox document exactly as received; each page's new documents are then processed, delivered
    and acknowledged in the order they were received (``incoming_process_stored``)."""
    return fetching.incoming_fetch(environment=environment, process=incoming_process_stored)


def incoming_receive_pushed_many(*, environment: Environment, external_ids: list[str]) -> dict[str, fetching.Pushed]:
    """Documents eConnect PSB announced by webhook, taken in as a fetch takes in what it listed: stored exactly as
    received, then processed, delivered and acknowledged in the order announced (``incoming_process_stored``)."""
    return fetching.incoming_receive_pushed_many(
        environment=environment, external_ids=external_ids, process=incoming_process_stored
    )


def incoming_process_stored(invoice_ids: list[int], gateway) -> None:
    """Documents a fetch (or a webhook's take-in) just stored, in the order received: processed, delivered and
    acknowledged a few at a time, with the gateway that downloaded them. What one chunk's processing leaves RECEIVED
    after an unexpected error, the stalled sweep takes; the others go on."""
    for start in range(0, len(invoice_ids), PROCESS_TOGETHER):
        chunk = invoice_ids[start : start + PROCESS_TOGETHER]
        try:
            _work_through(selectors.invoices_to_process(chunk), econnect=gateway)
        except Exception:
            logger.exception("Processing fetched documents failed; what is still received is processed again later")


def incoming_process_and_deliver(*, invoice: IncomingInvoice) -> IncomingInvoice:
    """``incoming_process_and_deliver_many`` for one document (one the stalled sweep queued)."""
    incoming_process_and_deliver_many(invoices=[invoice])
    return invoice


def incoming_process_and_deliver_many(*, invoices: list[IncomingInvoice]) -> None:
    """Process the documents, deliver what became READY and acknowledge what AFAS accepted, step by step in the
    order given (``lifecycle.work_through``): each step's writes are made together, and the documents of one
    environment share its clients. Of two documents with the same number and date the one judged first is the
    original, so an environment's documents are given in the order they were received, by one task at a time (the
    fetch, which holds the environment's lease), and each is judged under the judging lock seeing those before it."""
    _work_through(invoices)


def _work_through(invoices: list[IncomingInvoice], *, econnect=None) -> None:
    lifecycle.work_through(
        invoices, lifecycle.Step(_process_step, first=judging_lock), _deliver_step, _acknowledge_step,
        session_for=partial(EnvironmentReceiving, econnect=econnect),
    )  # fmt: skip


class EnvironmentReceiving(clients.EnvironmentClients):
    """One environment's clients for the documents of one task, and the first time each service did not answer in
    time or asked to wait: the documents after it are not sent to it (they wait for their retry), so a service that
    hangs costs one timeout, not one per document."""

    def __init__(self, environment: Environment, *, econnect=None):
        super().__init__(environment, econnect=econnect)
        self.afas_down: RemoteError | None = None
        self.econnect_down: RemoteError | None = None
        self.suppliers: dict[tuple[str, ...], str] = {}  # supplier identifiers → supplier key, as resolved


def _process_step(invoice: IncomingInvoice, remote: EnvironmentReceiving) -> lifecycle.Write | None:
    return _process(invoice, deliver_now=True, suppliers=remote.suppliers)


def _deliver_step(invoice: IncomingInvoice, remote: EnvironmentReceiving) -> lifecycle.Write | None:
    if invoice.status != Status.DELIVERING:
        return None
    if remote.afas_down is not None:  # never sent: retried later, not held as uncertain
        return partial(DELIVERY.failed, invoice, remote.afas_down)
    return _delivery(invoice, remote)


def _acknowledge_step(invoice: IncomingInvoice, remote: EnvironmentReceiving) -> lifecycle.Write | None:
    if invoice.status not in ACKNOWLEDGED_AFTER:
        return None
    if remote.econnect_down is not None:
        return partial(_acknowledge_failed, invoice, invoice.status, remote.econnect_down)
    return _acknowledgement(invoice, remote)


def incoming_process(*, invoice: IncomingInvoice, deliver_now: bool = False) -> IncomingInvoice:
    """RECEIVED → READY, or HELD (unreadable, hostile, duplicate, eConnect's flag disputed) with the reason. A READY
    document's delivery is queued, or (``deliver_now``) started in the same transaction for the caller to make."""
    write = _process(invoice, deliver_now=deliver_now)
    if write is not None:
        with transaction.atomic():
            judging_lock(invoice.environment)
            write()
    return invoice


def _process(invoice: IncomingInvoice, *, deliver_now: bool, suppliers: dict | None = None) -> lifecycle.Write | None:
    """``incoming_process`` up to the verdict, which it returns for the caller to write inside a transaction that
    holds the environment's ``judging_lock`` (None when the document is no longer received or its outcome is
    written: unreadable, another party's, a test)."""
    if invoice.status != Status.RECEIVED:
        return None
    raw = bytes(invoice.raw_xml)
    try:
        summary = parse_document(raw, max_bytes=settings.PEPPOL_MAX_DOCUMENT_BYTES)
    except XmlRejected as exc:
        hostile = exc.kind in HOSTILE_KINDS
        message = Msg(
            "incoming.held_unsafe" if hostile else "incoming.held_unreadable", reason=Bilingual.of(exc.message)
        )
        _hold(invoice, Hold.HOSTILE if hostile else Hold.UNPARSEABLE, message, parse_error=exc.message.en)
        return None

    # What the summary says is written with the status it leads to, in the same statement (so is the verdict).
    fields = summary_fields(environment=invoice.environment, summary=summary, suppliers=suppliers)
    for name, value in fields.items():
        setattr(invoice, name, value)

    addressee = addressee_check(environment=invoice.environment, summary=summary)
    if not addressee.ours:
        message = Msg(
            "incoming.held_other_party",
            receiver=addressee.receiver or "-",
            own=", ".join(addressee.evidence["own_identifiers"]) or "-",
        )
        _hold(invoice, Hold.OTHER_PARTY, message, receiver_evidence=addressee.evidence, **fields)
        return None

    mark = own_test_invoice(environment=invoice.environment, summary=summary)
    if mark is not None:
        _own_test_invoice_came_back(invoice, mark, fields)
        return None
    return partial(_judge, invoice, fields, deliver_now=deliver_now)


def _judge(invoice: IncomingInvoice, fields: dict, *, deliver_now: bool) -> None:
    """Inside the caller's transaction, which holds the environment's judging lock: the duplicate verdict, written with
    the status it leads to (READY, or HELD for a person)."""
    result = duplicate_verdict(invoice)
    verdict_fields = {
        **fields,
        "duplicate_verdict": result.verdict,
        "duplicate_of": result.duplicate_of,
        "duplicate_evidence": result.evidence,
    }
    if result.verdict in (Verdict.CERTAIN_DUPLICATE, Verdict.DUPLICATE, Verdict.SUSPECTED_DUPLICATE):
        verdict = Choice(IncomingInvoice.DuplicateVerdict, result.verdict)
        message = Msg("incoming.held_duplicate", verdict=verdict, original=str(result.duplicate_of))
        _hold(invoice, Hold.DUPLICATE, message, system_actor="duplicates", **verdict_fields)
    elif result.econnect_flag_disputed:
        _hold(
            invoice, Hold.ECONNECT_FLAG_DISPUTED, Msg("incoming.held_flag_disputed"), system_actor="duplicates",
            **verdict_fields,
        )  # fmt: skip
    else:
        _ready(invoice, Msg("incoming.ready"), start_now=_delivery_start if deliver_now else None, **verdict_fields)


def _hold(invoice: IncomingInvoice, reason: str, message: Msg, *, system_actor: str = "process", **fields) -> bool:
    """RECEIVED → HELD for a person to decide, with the reason."""
    return _transition(
        invoice,
        from_statuses=(Status.RECEIVED,),
        to_status=Status.HELD,
        message=message,
        system_actor=system_actor,
        hold_reason=reason,
        **fields,
    )


def _own_test_invoice_came_back(invoice: IncomingInvoice, mark: TestInvoiceMark, fields: dict) -> IncomingInvoice:
    """The organisation's own test invoice: acknowledged at eConnect, recorded on the test invoice that was sent, and
    never delivered to AFAS. One with the marker that matches no test invoice sent is held for a person."""
    if mark.sent is None:
        _hold(invoice, Hold.TEST_UNMATCHED, Msg("incoming.held_test_unmatched"), **fields)
        return invoice
    if _transition(
        invoice,
        from_statuses=(Status.RECEIVED,),
        to_status=Status.TEST_RECEIVED,
        message=Msg("incoming.test_returned", number=mark.sent.invoice_number),
        system_actor="process",
        next_attempt_at=timezone.now(),
        **fields,
    ):
        outgoing_record_test_returned(invoice=mark.sent, econnect_document_id=invoice.econnect_document_id)
        incoming_acknowledge(invoice=invoice)
    return invoice


def _ready(invoice: IncomingInvoice, message: Msg, **transition) -> bool:
    """→ READY, its delivery queued or (``start_now``) started in the same transaction."""
    transition.setdefault("from_statuses", (Status.RECEIVED,))
    transition.setdefault("system_actor", "receiving")
    return DELIVERY.ready(invoice, message=message, **transition)


# --- deliver and acknowledge ---------------------------------------------------------------------------------------


def incoming_deliver(*, invoice: IncomingInvoice, now: datetime | None = None) -> IncomingInvoice:
    """READY or due RETRY_WAIT → DELIVERING → DELIVERED (then acknowledged), RETRY_WAIT or FAILED."""
    now = now or timezone.now()
    # The claim and its event in one transaction: a worker killed in between must not leave a status change that
    # the timeline does not show.
    with transaction.atomic():
        claimed = DELIVERY.claim(invoice, now=now)
        if claimed is None:
            return invoice
        DELIVERY.start(claimed, starting=_delivery_start, now=now)
    with EnvironmentReceiving(claimed.environment) as remote:  # the claim read the keys as they are now
        return _deliver_claimed(claimed, remote)


def _delivery_start(claimed: IncomingInvoice, *, now: datetime) -> tuple[Msg, dict]:
    """What going to DELIVERING writes: its message (one attempt more)."""
    return Msg("incoming.delivering", attempt=claimed.attempts + 1), {}


def _deliver_claimed(invoice: IncomingInvoice, remote: EnvironmentReceiving) -> IncomingInvoice:
    """The delivery of a document in DELIVERING (committed): into AFAS, then acknowledged; or its failure."""
    _delivery(invoice, remote)()
    return incoming_acknowledge(invoice=invoice, remote=remote)


def _delivery(invoice: IncomingInvoice, remote: EnvironmentReceiving) -> lifecycle.Write:
    """The delivery of a document in DELIVERING (committed) into AFAS; returns the write of its outcome (DELIVERED,
    or the failure) for the caller to make."""
    try:
        return _delivered(invoice, remote)
    except RemoteError as exc:
        if exc.service_stalled:
            remote.afas_down = exc
        return partial(_deliver_failed, invoice, exc)


def _delivered(invoice: IncomingInvoice, remote: EnvironmentReceiving) -> lifecycle.Write:
    if invoice.environment.afas_edition != Environment.Edition.PROFIT:
        outcome = small_business.small_business_deliver(invoice=invoice)
        return partial(
            _transition, invoice, from_statuses=(Status.DELIVERING,), to_status=outcome.to_status,
            message=outcome.message, system_actor="deliver", data=outcome.data, **outcome.fields,
        )  # fmt: skip
    raw = bytes(invoice.raw_xml)
    pdf = _embedded_pdf(invoice, raw)
    result = remote.afas().deliver_purchase_invoice(
        ubl=raw,
        filename=f"{invoice.invoice_number or invoice.econnect_document_id}.xml"[:100],
        pdf=pdf[1] if pdf else None,
        pdf_filename=(pdf[0] if pdf else "invoice.pdf")[:100],
    )
    delivered = Msg("incoming.delivered_with_pdf" if pdf else "incoming.delivered")
    now = timezone.now()
    return partial(DELIVERY.done, invoice, Status.DELIVERED, delivered, afas_reference=str(result.keys or "")[:100],
                   delivered_at=now, next_attempt_at=now)  # fmt: skip


def _embedded_pdf(invoice: IncomingInvoice, raw: bytes) -> tuple[str, bytes] | None:
    for attachment in invoice.attachments:
        if attachment.get("mime_code") == "application/pdf":
            try:
                return attachment.get("filename") or "invoice.pdf", attachment_content(raw, attachment["index"])
            except (AttachmentUnavailable, XmlRejected):
                return None
    return None


def _may_have_reached_the_remote(exc: RemoteError) -> bool:
    """A transport failure after the request went out (timeout, dropped connection), or a success answer that cannot
    be read: the remote may have acted."""
    if isinstance(exc, MalformedResponse):
        return True
    if not isinstance(exc, RemoteTimeout | RemoteUnavailable) or exc.status is not None:
        return False
    return not isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _deliver_failed(invoice: IncomingInvoice, exc: RemoteError) -> None:
    if invoice.environment.afas_edition == Environment.Edition.PROFIT and _may_have_reached_the_remote(exc):
        # FiElectronicInvoicePurchase cannot be asked whether it got the invoice: retrying could book it twice.
        _transition(
            invoice,
            from_statuses=(Status.DELIVERING,),
            to_status=Status.HELD,
            message=Msg("incoming.delivery_uncertain", detail=exc.message),
            system_actor="deliver",
            hold_reason=Hold.DELIVERY_UNCERTAIN,
            last_error_kind=ErrorKind.TRANSIENT,
            last_error_message=exc.message,
        )
        return
    permanent = None
    if isinstance(exc, AuthenticationError | AccessDenied) or not exc.transient:
        kind = ErrorKind.CREDENTIALS if isinstance(exc, AuthenticationError | AccessDenied) else ErrorKind.PERMANENT
        permanent = (kind, Msg("incoming.afas_refused", detail=exc.message))
    DELIVERY.failed(invoice, exc, permanent=permanent)


# What a document becomes once eConnect took the acknowledgement: in AFAS, or the own test invoice (never booked).
ACKNOWLEDGED_AFTER = {Status.DELIVERED: Status.ACKNOWLEDGED, Status.TEST_RECEIVED: Status.TEST_DONE}


def incoming_acknowledge(*, invoice: IncomingInvoice, remote: EnvironmentReceiving | None = None) -> IncomingInvoice:
    """Only a document safely in AFAS (or the organisation's own test invoice, which is never booked) is marked
    processed at eConnect; a failure here is retried, never re-delivered. ``invoice`` is as it is now (the task loads
    it; the services pass the instance they just moved, and the clients they hold); the move to acknowledged is
    conditional on its status."""
    if invoice.status not in ACKNOWLEDGED_AFTER:
        return invoice
    with nullcontext(remote) if remote is not None else EnvironmentReceiving(invoice.environment) as held:
        write = _acknowledgement(invoice, held)
    write()
    return invoice


def _acknowledgement(invoice: IncomingInvoice, remote: EnvironmentReceiving) -> lifecycle.Write:
    """eConnect told that the document is processed; returns the write of the outcome for the caller to make."""
    before = invoice.status
    try:
        econnect_acknowledge(remote.econnect(), invoice)
    except RemoteError as exc:
        if exc.service_stalled:
            remote.econnect_down = exc
        return partial(_acknowledge_failed, invoice, before, exc)
    return partial(
        _transition, invoice, from_statuses=(before,), to_status=ACKNOWLEDGED_AFTER[before],
        message=Msg("incoming.acknowledged"), system_actor="acknowledge", acknowledged_at=timezone.now(),
        next_attempt_at=None, last_error_kind="", last_error_message="",
    )  # fmt: skip


def _acknowledge_failed(invoice: IncomingInvoice, before: str, exc: RemoteError) -> None:
    """Asked again later; a refusal waits for a setting or eConnect to change: asked again hourly, not hammered."""
    at_least = 1.0 if exc.transient else PERMANENT_ACK_RETRY_SECONDS
    IncomingInvoice.objects.filter(pk=invoice.pk, status=before).update(
        next_attempt_at=lifecycle.retry_at(attempts=invoice.attempts, retry_after=exc.retry_after, at_least=at_least),
        dispatched_at=None,
        last_error_kind=ErrorKind.TRANSIENT if exc.transient else ErrorKind.PERMANENT,
        last_error_code=(exc.code or "")[:50],
        **lifecycle.error_fields(Msg("incoming.acknowledge_failed", detail=exc.message)),
    )


# --- recovery and people's decisions -------------------------------------------------------------------------------


def incoming_sweep_stuck(*, now: datetime | None = None) -> int:
    """Deliveries whose worker died. AFAS Small Business answers a repeated tracking id with its first answer, so
    those are simply retried; Profit cannot be asked whether it got the invoice, so those are held for a person."""
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.DOCUMENT_STUCK_AFTER_SECONDS)
    swept = 0
    stuck = IncomingInvoice.objects.filter(status=Status.DELIVERING, status_changed_at__lt=before).select_related(
        "environment"
    )
    for invoice in stuck:
        if invoice.environment.afas_edition == Environment.Edition.SMALL_BUSINESS:
            swept += _transition(
                invoice,
                from_statuses=(Status.DELIVERING,),
                to_status=Status.RETRY_WAIT,
                message=Msg("incoming.sb_interrupted"),
                system_actor="sweeper",
                next_attempt_at=now,
            )
            continue
        swept += _transition(
            invoice,
            from_statuses=(Status.DELIVERING,),
            to_status=Status.HELD,
            message=Msg("incoming.interrupted"),
            system_actor="sweeper",
            hold_reason=Hold.DELIVERY_UNCERTAIN,
        )
    return swept


# Held documents a person may release as an original: duplicates, a disputed eConnect flag, and a document that
# carries the test-invoice marker without being one of the organisation's test invoices.
RELEASABLE_AS_ORIGINAL = (Hold.DUPLICATE, Hold.ECONNECT_FLAG_DISPUTED, Hold.TEST_UNMATCHED)


class IdenticalFileNotConfirmed(Exception):
    """The document is the very same file as an earlier one: releasing it needs an explicit second confirmation that
    names that earlier document (``earlier``)."""

    def __init__(self, earlier: IncomingInvoice | None):
        super().__init__(f"identical to {earlier}")
        self.earlier = earlier


def incoming_mark_as_original(
    *, invoice: IncomingInvoice, actor: User, reason: str, identical_to: int | None = None
) -> bool:
    """A person releases a held duplicate (or a disputed eConnect flag): audited, then delivered.

    An identical file (same SHA-256 as an earlier document) is released only when ``identical_to`` names that earlier
    document: the person confirmed, a second time, that AFAS must get the very same file again."""
    reason = checked_reason(reason, required=gettext("Say why this document is an original."))
    if invoice.status != Status.HELD or invoice.hold_reason not in RELEASABLE_AS_ORIGINAL:
        return False
    identical = invoice.duplicate_verdict == Verdict.CERTAIN_DUPLICATE
    if identical and (identical_to is None or identical_to != invoice.duplicate_of_id):
        raise IdenticalFileNotConfirmed(invoice.duplicate_of)
    released = _ready(
        invoice,
        Msg("incoming.marked_original"),
        from_statuses=(Status.HELD,),
        actor=actor,
        reason=reason,
        kind=EventKind.MARKED_ORIGINAL,
        hold_reason="",
        released_at=timezone.now(),
        data={"identical_to": invoice.duplicate_of_id} if identical else None,
    )
    if released and invoice.econnect_duplicate_flag:
        clients.econnect_release_duplicate(invoice.environment, invoice.econnect_document_id)
    return released


def incoming_deliver_again(*, invoice: IncomingInvoice, actor: User, reason: str) -> bool:
    """After a person checked AFAS: deliver a held (interrupted) or failed document again. Audited."""
    reason = checked_reason(
        reason, required=gettext("Say why it is safe to deliver again (e.g. checked: not in AFAS).")
    )
    if invoice.status == Status.HELD and invoice.hold_reason != Hold.DELIVERY_UNCERTAIN:
        return False
    return _ready(
        invoice,
        Msg("incoming.deliver_again"),
        from_statuses=(Status.HELD, Status.FAILED),
        actor=actor,
        reason=reason,
        kind=EventKind.DELIVER_AGAIN,
        hold_reason="",
        attempts=0,
    )


def incoming_deliver_again_missing(
    *, invoice: IncomingInvoice, actor: User, reason: str, data: dict | None = None
) -> bool:
    """The portal delivered the document but it is not in AFAS (the reconciliation found it missing): deliver it
    again, unchanged, and acknowledge it again afterwards. Audited; False when it is no longer marked as in AFAS."""
    return _ready(
        invoice,
        Msg("incoming.deliver_again_reconciliation"),
        from_statuses=IN_AFAS_STATUSES,
        system_actor="reconciliation",
        actor=actor,
        reason=reason,
        kind=EventKind.DELIVER_AGAIN,
        data=data,
        hold_reason="",
        attempts=0,
    )


def incoming_acknowledge_again(*, invoice: IncomingInvoice, actor: User, reason: str, data: dict | None = None) -> bool:
    """The document is in AFAS but eConnect does not show it processed: report it processed again. Audited; False
    when it is no longer acknowledged in the portal. A remote's failure is raised as its ``RemoteError``."""
    if invoice.status != Status.ACKNOWLEDGED:
        return False
    with clients.econnect_gateway_for(invoice.environment) as gateway:
        econnect_acknowledge(gateway, invoice)
    event_record(
        environment=invoice.environment,
        incoming_invoice=invoice,
        kind=EventKind.ACKNOWLEDGED_AGAIN,
        message=Msg("incoming.acknowledged_again"),
        actor=actor,
        reason=reason,
        system_actor="reconciliation",
        data=data,
    )
    return True


def incoming_confirm_in_afas(*, invoice: IncomingInvoice, actor: User, reason: str) -> bool:
    """After a person found an interrupted delivery in AFAS: it counts as delivered, so it is acknowledged at
    eConnect (retried like any acknowledgement) instead of staying "new" there for ever. Audited."""
    reason = checked_reason(reason, required=gettext("Say where you found it in AFAS (e.g. the entry number)."))
    if invoice.status != Status.HELD or invoice.hold_reason != Hold.DELIVERY_UNCERTAIN:
        return False
    now = timezone.now()
    confirmed = _transition(
        invoice,
        from_statuses=(Status.HELD,),
        to_status=Status.DELIVERED,
        message=Msg("incoming.confirmed_in_afas"),
        actor=actor,
        reason=reason,
        kind=EventKind.CONFIRMED_IN_AFAS,
        hold_reason="",
        delivered_at=now,
        next_attempt_at=now,
    )
    if confirmed:
        incoming_acknowledge(invoice=invoice)
    return confirmed


def incoming_resolve_manually(*, invoice: IncomingInvoice, actor: User, reason: str) -> bool:
    reason = checked_reason(reason, required=gettext("Say why the document is resolved manually."))
    return _transition(
        invoice,
        from_statuses=(Status.HELD, Status.FAILED, Status.RETRY_WAIT),
        to_status=Status.RESOLVED_MANUALLY,
        message=Msg("document.resolved_manually"),
        actor=actor,
        reason=reason,
        hold_reason="",
        next_attempt_at=None,
    )
