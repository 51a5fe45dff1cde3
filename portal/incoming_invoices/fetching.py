"""Fetching: every new document of an environment's eConnect inbox stored exactly as received, once.

The inbox is read for the environment's eConnect company and invoice templates, from its ``CreatedOn`` cursor on
(``inbox_cursor``). Each document is stored byte for byte with the statuses eConnect allows for it, before anything
else happens; ``incoming_process`` takes it from there (the fetch itself once every listing is read, or a task per
document).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q

from integrations.econnect.errors import UnreadableDocument
from integrations.econnect.gateway import EConnectGateway
from integrations.econnect.models import InboxState, StatusOption
from integrations.http import RemoteError
from portal.accounts.models import User
from portal.documents import lifecycle
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_build, events_record
from portal.incoming_invoices import inbox_cursor
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import clients
from portal.organisations.models import Environment

logger = logging.getLogger(__name__)

Status = IncomingInvoice.Status
FETCH_LEASE = timedelta(minutes=10)
FETCH = lifecycle.EnvironmentRun("receiving_enabled", "fetch_lease_until", FETCH_LEASE)
MAX_PAGES = 200  # per template, state and fetch; the next fetch goes on where this one stopped
# Documents a fetch stores before it processes them itself: a fetch stays well within its lease, and none of them
# waits so long that the stalled-processing sweep queues it beside the fetch.
MAX_PROCESSED_PER_FETCH = 500


# Only the platform SOAP API has an inbox to read; over PSB received documents arrive by webhook.
FETCHED = Q(econnect_transport=Environment.EConnectTransport.PLATFORM)


def incoming_dispatch_fetches(*, now: datetime | None = None) -> list[int]:
    return lifecycle.environments_due(
        enabled_field="receiving_enabled", next_field="next_fetch_at", now=now, eligible=FETCHED
    )


@dataclass(frozen=True)
class FetchResult:
    stored: int
    replays: int
    ran: bool = True


# What becomes of the documents a fetch stored, once every listing is read (acknowledging one while the listing is
# paged would shift the pages): given their ids in the order received and the fetch's eConnect gateway. None: each is
# queued for processing as it is stored.
ProcessStored = Callable[[list[int], EConnectGateway], None]


def incoming_fetch(*, environment: Environment, process: ProcessStored | None = None) -> FetchResult:
    """Store every new inbox document (and those eConnect flags as duplicates) exactly as received, then ``process``
    them."""
    return FETCH.run(environment, partial(_fetch, process=process), idle=FetchResult(0, 0, ran=False))


def _fetch(environment: Environment, *, process: ProcessStored | None) -> FetchResult:
    if environment.uses_psb:
        return FetchResult(0, 0, ran=False)
    return _fetch_inbox(environment, process)


def _fetch_inbox(environment: Environment, process: ProcessStored | None) -> FetchResult:
    """The environment's inbox (its eConnect company, the invoice templates) from the cursor on; the cursor moves to
    the newest document seen once every listing was read to its end."""
    stored: list[int] = []
    replays = 0
    since = inbox_cursor.inbox_since(environment)
    newest, complete = since, True
    with clients.econnect_gateway_for(environment) as gateway:
        for template_id in gateway.receive_template_ids:
            for state in (InboxState.NEW, InboxState.DUPLICATE):
                page = None
                for _ in range(MAX_PAGES):
                    if process is not None and len(stored) >= MAX_PROCESSED_PER_FETCH:
                        complete = False  # these are processed first; the next fetch goes on from the same cursor
                        break
                    listing = gateway.list_inbox_documents(state=state, page=page, since=since, template_id=template_id)
                    for summary in listing.documents:
                        if summary.created_on is not None:
                            newest = max(newest, summary.created_on)
                    page_stored, page_replays = _store_page(environment, listing.documents, gateway, process)
                    stored, replays = stored + page_stored, replays + page_replays
                    page = listing.next_page
                    if not page:
                        break
                else:
                    complete = False  # the next fetch goes on from the same cursor
        if complete:
            inbox_cursor.inbox_advance(environment, newest)
        if process is not None and stored:
            process(stored, gateway)
    return FetchResult(len(stored), replays)


def _store_page(
    environment: Environment, summaries, gateway: EConnectGateway, process: ProcessStored | None
) -> tuple[list[int], int]:
    """One listing page: what is not stored yet is downloaded, then stored together (each queued for processing
    without ``process``). Returns (the ids stored, how many were stored already)."""
    listed = {summary.external_id[:100]: summary for summary in summaries}
    known = _known(environment, listed)
    downloads = [
        (summary.external_id, summary.flagged_duplicate, _download(gateway, summary.external_id))
        for external_id, summary in listed.items()
        if external_id not in known
    ]
    created = [
        invoice.pk
        for invoice, is_new in _store_together(environment, downloads, queue_processing=process is None)
        if is_new
    ]
    return created, len(listed) - len(created)


def _known(environment: Environment, external_ids) -> dict[str, IncomingInvoice]:
    """The documents among these eConnect ids that are stored already, by id."""
    found = IncomingInvoice.objects.filter(environment=environment, econnect_document_id__in=list(external_ids))
    return {invoice.econnect_document_id: invoice for invoice in found.only("pk", "econnect_document_id", "status")}


def _store_together(
    environment: Environment, downloads: list, *, queue_processing: bool, **event
) -> list[tuple[IncomingInvoice, bool]]:
    """Downloaded documents (eConnect id, flagged, ``_Download``) stored with their RECEIVED events in one
    transaction; one by one, each once, when another run (a webhook, a person's import) stored one of them
    meanwhile. Each document's row and whether this call stored it, in the order given."""
    try:
        with transaction.atomic():
            invoices = IncomingInvoice.objects.bulk_create(
                [_received(environment, *download) for download in downloads]
            )
            events_record(
                [
                    _received_event(invoice, download[2], **event)
                    for invoice, download in zip(invoices, downloads, strict=True)
                ]
            )
            if queue_processing:
                lifecycle.enqueue("incoming.process", *(invoice.pk for invoice in invoices))
    except IntegrityError:
        return [_store(environment, *download, queue_processing=queue_processing, **event) for download in downloads]
    return [(invoice, True) for invoice in invoices]


@dataclass(frozen=True)
class _Download:
    payload: bytes
    allowed_statuses: tuple[StatusOption, ...] = ()
    unreadable: UnreadableDocument | None = None


def _download(gateway: EConnectGateway, external_id: str) -> _Download:
    """The document's payload; or, when eConnect's answer cannot be read safely twice in a row, the whole answer as
    received, with the refusal. One such document must not block every document listed after it, and it must not be
    lost: it is stored like any other, then held by ``incoming_process`` (it is no UBL document) for a person to
    decide; it is never acknowledged at eConnect by itself. Transient failures (5xx, timeouts) are raised as before:
    the fetch is retried later and nothing is stored."""
    for attempt in (1, 2):
        try:
            document = gateway.get_inbox_document(external_id)
            return _Download(document.payload, document.allowed_statuses)
        except UnreadableDocument as exc:
            if attempt == 2:
                logger.warning(
                    "eConnect's answer for inbox document %s cannot be read again; kept as evidence", external_id
                )
                return _Download(exc.raw, unreadable=exc)
            logger.warning(
                "eConnect's answer for inbox document %s cannot be read (%s); asking once more", external_id, exc.reason
            )
    raise AssertionError("unreachable")


def _received(environment: Environment, external_id: str, flagged_duplicate: bool, download: _Download):
    """The document as received, not yet saved."""
    payload = download.payload
    return IncomingInvoice(
        environment=environment,
        econnect_document_id=external_id[:100],
        raw_xml=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        econnect_duplicate_flag=flagged_duplicate,
        econnect_allowed_statuses=[
            {"code": option.code[:20], "name": option.name[:100]} for option in download.allowed_statuses[:50]
        ],
    )


def _received_event(
    invoice: IncomingInvoice,
    download: _Download,
    *,
    message_key: str = "incoming.received",
    system_actor: str = "fetch",
    **audit,
):
    """The RECEIVED timeline entry of a document just stored, not yet saved (``message_key``, or its ``_flagged``
    variant when eConnect flagged the document as a duplicate)."""
    size = len(download.payload)
    message = Msg(f"{message_key}_flagged" if invoice.econnect_duplicate_flag else message_key, size=size)
    if download.unreadable is not None:
        message = Msg("incoming.received_unreadable", reason=download.unreadable.reason.rstrip("."), size=size)
        audit["data"] = {**(audit.get("data") or {}), "unreadable_answer": True}
    return event_build(
        environment=invoice.environment,
        incoming_invoice=invoice,
        kind=EventKind.RECEIVED,
        to_status=Status.RECEIVED,
        message=message,
        system_actor=system_actor,
        **audit,
    )


def _stored(environment: Environment, external_id: str) -> IncomingInvoice | None:
    """The document already stored under this eConnect id (one at most: a unique constraint; no ORDER BY needed)."""
    found = IncomingInvoice.objects.filter(environment=environment, econnect_document_id=external_id[:100])[:1]
    return next(iter(found), None)


def _store(
    environment: Environment,
    external_id: str,
    flagged_duplicate: bool,
    download: _Download,
    *,
    queue_processing: bool = True,
    **event,
) -> tuple[IncomingInvoice, bool]:
    """The document as received, once per environment and eConnect id, with its RECEIVED event; then its processing
    queued (``queue_processing``)."""
    with transaction.atomic():
        invoice = _stored(environment, external_id)
        if invoice is not None:
            return invoice, False
        try:
            with transaction.atomic():
                invoice = _received(environment, external_id, flagged_duplicate, download)
                invoice.save()
        except IntegrityError:
            return IncomingInvoice.objects.get(environment=environment, econnect_document_id=external_id[:100]), False
        events_record([_received_event(invoice, download, **event)])
        if queue_processing:
            lifecycle.enqueue("incoming.process", invoice.pk)
    return invoice, True


def incoming_import_unlisted(
    *, environment: Environment, external_id: str, actor: User, reason: str, data: dict | None = None
) -> tuple[IncomingInvoice, bool]:
    """A person takes in one inbox document the fetch never listed (the reconciliation found it): stored exactly as
    eConnect hands it over, like every fetched document, with who asked and why. Already stored: that row, False."""
    return _take_in(
        environment, external_id, "incoming.imported", system_actor="reconciliation", actor=actor, reason=reason,
        data=data,
    )  # fmt: skip


@dataclass(frozen=True)
class Pushed:
    """What became of one announced document: stored now (``created``), stored already, or not downloaded
    (``error``: the event waits for its retry)."""

    invoice: IncomingInvoice | None = None
    created: bool = False
    error: RemoteError | None = None


def incoming_receive_pushed_many(
    *, environment: Environment, external_ids: list[str], process: ProcessStored | None = None
) -> dict[str, Pushed]:
    """Documents eConnect PSB announced by webhook, in the order announced: downloaded with one gateway, stored
    together exactly as received (like a fetch's listing page), then ``process``-ed with that gateway (each queued
    for processing without it). A failed download is that document's alone, but after one that did not answer in
    time or asked to wait, the rest are not asked for now: they fail with the same error. By eConnect id (cut to
    what is stored)."""
    wanted = list(dict.fromkeys(external_id[:100] for external_id in external_ids))
    known = _known(environment, wanted)
    pushed = {external_id: Pushed(invoice) for external_id, invoice in known.items()}
    downloads: list[tuple[str, bool, _Download]] = []
    stalled: RemoteError | None = None
    with clients.econnect_gateway_for(environment) as gateway:
        for external_id in (external_id for external_id in wanted if external_id not in known):
            if stalled is not None:
                pushed[external_id] = Pushed(error=stalled)
                continue
            try:
                document = gateway.get_inbox_document(external_id)
            except RemoteError as exc:
                pushed[external_id] = Pushed(error=exc)
                stalled = exc if exc.service_stalled else None
                continue
            download = _Download(document.payload, document.allowed_statuses)
            downloads.append((external_id, document.summary.flagged_duplicate, download))
        stored = _store_together(environment, downloads, queue_processing=process is None,
                                 message_key="incoming.received_pushed", system_actor="webhook")  # fmt: skip
        for (external_id, *_), (invoice, is_new) in zip(downloads, stored, strict=True):
            pushed[external_id] = Pushed(invoice, is_new)
        created = [invoice.pk for invoice, is_new in stored if is_new]
        if process is not None and created:
            process(created, gateway)
    return pushed


def _take_in(
    environment: Environment,
    external_id: str,
    message_key: str,
    *,
    system_actor: str,
    **audit,
) -> tuple[IncomingInvoice, bool]:
    """One document asked for by its id (not found by listing the inbox), stored once like every fetched one."""
    existing = _stored(environment, external_id)
    if existing is not None:
        return existing, False
    with clients.econnect_gateway_for(environment) as gateway:
        document = gateway.get_inbox_document(external_id)
    download = _Download(document.payload, document.allowed_statuses)
    return _store(environment, external_id, document.summary.flagged_duplicate, download, message_key=message_key,
                  system_actor=system_actor, **audit)  # fmt: skip
