"""Document retention and integrity: every received and sent document is kept byte for byte with its SHA-256 for the
fiscal retention period, can be verified against that hash, and is removed when the period is over.

When the period starts. Dutch fiscal retention (AWR art. 52: seven years) is counted from the end of the fiscal year
the document belongs to. The portal does not know a client's fiscal year, so it counts in calendar years from the
*later* of the document's issue date and the day the portal stored it: a document is kept until 31 December of that
year plus ``DOCUMENT_RETENTION_YEARS`` (7: an invoice of 12 March 2025 is kept until 31 December 2032). The later of
the two dates, because the issue date comes from outside: a supplier's document dated in 1999 must not be removed the
night it arrives, and an invoice received in December but dated January counts in the next year's books. A client
whose fiscal year does not end on 31 December needs one year more (``DOCUMENT_RETENTION_YEARS=8``).

What "removed" means. The document's bytes are emptied and ``document_removed_at`` set, in one conditional update; the
row, its metadata (number, dates, amounts, status), its SHA-256 (proof of what the document was) and its timeline stay.
Events reference invoices with PROTECT and are append-only, and the timeline is the audit trail: deleting rows would
destroy exactly the evidence the retention is for. The removal itself is an Event on the document's timeline.

What is never removed: a document that is not in a final state that nothing re-opens (a failed or rejected invoice
can still be retried, and would then need its bytes; it is kept until someone resolves it), a held document, and an
original that a held duplicate still points at (it is the evidence shown beside the duplicate).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length
from django.utils import timezone

from portal.events.messages import Msg, When
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice

logger = logging.getLogger(__name__)

MINIMUM_RETENTION_YEARS = 7
# At most this many documents of each kind are removed per run; a backlog (e.g. a first run on an old database, or
# the 1st of January, when a whole year expires at once) is worked off over the following days.
EXPIRE_LIMIT_PER_RUN = 5000
EXPIRE_TRANSACTION_SIZE = 100
VERIFY_BATCH_SIZE = 500


@dataclass(frozen=True)
class DocumentStore:
    """Where one kind of document keeps its bytes, and which of its states are final for retention."""

    kind: str
    model: type[models.Model]
    bytes_field: str
    event_subject: str
    # States no automatic step and no person's action leaves towards sending or delivering again.
    final_statuses: tuple[str, ...]

    def expirable(self, qs: models.QuerySet) -> models.QuerySet:
        """Leave out documents in a final state that must be kept anyway."""
        if self.model is IncomingInvoice:
            held_duplicates = IncomingInvoice.objects.filter(
                duplicate_of=OuterRef("pk"), status=IncomingInvoice.Status.HELD
            )
            qs = qs.filter(~Exists(held_duplicates))
        return qs


STORES = (
    DocumentStore(
        kind="outgoing",
        model=OutgoingInvoice,
        bytes_field="ubl",
        event_subject="outgoing_invoice",
        final_statuses=(
            OutgoingInvoice.Status.DELIVERED,
            OutgoingInvoice.Status.NOT_SENT,
            OutgoingInvoice.Status.RESOLVED_MANUALLY,
        ),
    ),
    DocumentStore(
        kind="incoming",
        model=IncomingInvoice,
        bytes_field="raw_xml",
        event_subject="incoming_invoice",
        final_statuses=(
            IncomingInvoice.Status.ACKNOWLEDGED,
            IncomingInvoice.Status.RESOLVED_MANUALLY,
            IncomingInvoice.Status.TEST_DONE,
        ),
    ),
)


# --- the period ------------------------------------------------------------------------------------------------------


def retention_years() -> int:
    years = settings.DOCUMENT_RETENTION_YEARS
    if years < MINIMUM_RETENTION_YEARS:  # settings refuse this too; a test override must not slip through either
        raise ImproperlyConfigured(f"DOCUMENT_RETENTION_YEARS must be at least {MINIMUM_RETENTION_YEARS}.")
    return years


def document_kept_until(*, issue_date: dt.date | None, stored_at: dt.datetime) -> dt.date:
    """The last day a document is kept: 31 December of the later of its issue and storage year, plus the period."""
    year = timezone.localdate(stored_at).year
    if issue_date is not None:
        year = max(year, issue_date.year)
    return dt.date(year + retention_years(), 12, 31)


def retention_cutoff(*, today: dt.date | None = None) -> dt.date:
    """Documents whose issue date and storage day both lie before this date have expired."""
    today = today or timezone.localdate()
    return dt.date(today.year - retention_years(), 1, 1)


# --- expiry ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiredDocument:
    kind: str
    pk: int
    environment_id: int
    number: str
    sha256: str
    size: int
    kept_until: dt.date

    def describe(self) -> str:
        return (
            f"{self.kind} id={self.pk} environment={self.environment_id} number={self.number or '-'} "
            f"sha256={self.sha256 or '-'} bytes={self.size} kept_until={self.kept_until.isoformat()}"
        )


@dataclass
class ExpireResult:
    cutoff: dt.date
    dry_run: bool
    limit: int
    documents: list[ExpiredDocument] = field(default_factory=list)
    limit_reached: bool = False

    def count(self, kind: str) -> int:
        return sum(1 for document in self.documents if document.kind == kind)


def _expired(store: DocumentStore, *, cutoff: dt.date, environment_id: int | None) -> models.QuerySet:
    cutoff_at = timezone.make_aware(dt.datetime.combine(cutoff, dt.time.min))
    qs = store.model.objects.filter(
        document_removed_at__isnull=True, status__in=store.final_statuses, created_at__lt=cutoff_at
    ).filter(Q(issue_date__isnull=True) | Q(issue_date__lt=cutoff))
    qs = store.expirable(qs)
    if environment_id is not None:
        qs = qs.filter(environment_id=environment_id)
    return qs


def documents_expired(
    *, today: dt.date | None = None, environment_id: int | None = None, limit: int = EXPIRE_LIMIT_PER_RUN
) -> tuple[dt.date, list[ExpiredDocument], bool]:
    """The documents whose retention period is over (oldest first, at most ``limit`` of each kind), never their bytes.
    Returns the cutoff, the documents and whether the limit cut the list short."""
    cutoff = retention_cutoff(today=today)
    documents, limit_reached = [], False
    for store in STORES:
        rows = list(
            _expired(store, cutoff=cutoff, environment_id=environment_id)
            .order_by("created_at", "pk")
            .annotate(size=Length(store.bytes_field))
            .values_list("pk", "environment_id", "invoice_number", "sha256", "size", "issue_date", "created_at")[
                : limit + 1
            ]
        )
        limit_reached |= len(rows) > limit
        documents += [
            ExpiredDocument(
                kind=store.kind,
                pk=pk,
                environment_id=env_id,
                number=number,
                sha256=sha256,
                size=size or 0,
                kept_until=document_kept_until(issue_date=issue_date, stored_at=created_at),
            )
            for pk, env_id, number, sha256, size, issue_date, created_at in rows[:limit]
        ]
    return cutoff, documents, limit_reached


def documents_expire(
    *,
    today: dt.date | None = None,
    environment_id: int | None = None,
    limit: int = EXPIRE_LIMIT_PER_RUN,
    dry_run: bool = False,
) -> ExpireResult:
    """Remove the bytes of documents whose retention period is over; metadata, SHA-256 and timeline stay.

    Every condition (final state, not held, not removed yet) is checked again under a row lock right before the
    removal, so a document that changed since it was listed is left alone. Logs one line per removed document and a
    summary.
    """
    cutoff, candidates, limit_reached = documents_expired(today=today, environment_id=environment_id, limit=limit)
    result = ExpireResult(cutoff=cutoff, dry_run=dry_run, limit=limit, limit_reached=limit_reached)
    if dry_run:
        result.documents = candidates
        return result
    environments = Environment.objects.in_bulk({document.environment_id for document in candidates})
    for store in STORES:
        listed = [document for document in candidates if document.kind == store.kind]
        for start in range(0, len(listed), EXPIRE_TRANSACTION_SIZE):
            chunk = {document.pk: document for document in listed[start : start + EXPIRE_TRANSACTION_SIZE]}
            with transaction.atomic():
                # Lock the rows that still qualify (final, not held, not removed): a document that changed since it
                # was listed, or that someone is acting on right now, is left for the next run.
                still_expired = list(
                    _expired(store, cutoff=cutoff, environment_id=None)
                    .filter(pk__in=chunk)
                    .select_for_update(skip_locked=True, of=("self",))
                    .values_list("pk", flat=True)
                )
                now = timezone.now()
                store.model.objects.filter(pk__in=still_expired).update(
                    **{store.bytes_field: b"", "document_removed_at": now, "updated_at": now}
                )
                removed = [document for pk, document in chunk.items() if pk in set(still_expired)]
                for document in removed:
                    event_record(
                        environment=environments[document.environment_id],
                        kind=EventKind.DOCUMENT_REMOVED,
                        message=Msg(
                            "document.removed", kept_until=When(document.kept_until, "date"), sha256=document.sha256
                        ),
                        system_actor="retention",
                        data={
                            "sha256": document.sha256,
                            "bytes": document.size,
                            "kept_until": str(document.kept_until),
                        },
                        **{store.event_subject: store.model(pk=document.pk)},
                    )
            # Logged once committed: a line in the log means the document is gone.
            for document in removed:
                logger.info("Document removed after the retention period: %s", document.describe())
            result.documents += removed
    logger.info(
        "Document expiry: removed %s outgoing and %s incoming documents issued and stored before %s "
        "(at most %s of each kind per run%s)",
        result.count("outgoing"),
        result.count("incoming"),
        cutoff.isoformat(),
        limit,
        "; more remain" if limit_reached else "",
    )
    return result


# --- integrity -------------------------------------------------------------------------------------------------------


@dataclass
class VerifyCounts:
    checked: int = 0
    ok: int = 0
    mismatched: int = 0
    missing: int = 0
    removed: int = 0
    bytes: int = 0


@dataclass
class VerifyReport:
    counts: dict[str, VerifyCounts] = field(default_factory=dict)
    mismatched: list[tuple[str, int]] = field(default_factory=list)
    missing: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> VerifyCounts:
        total = VerifyCounts()
        for counts in self.counts.values():
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(counts, name))
        return total

    @property
    def intact(self) -> bool:
        return not self.mismatched and not self.missing


def documents_verify(*, environment_id: int | None = None, batch_size: int = VERIFY_BATCH_SIZE) -> VerifyReport:
    """Recompute the SHA-256 of every stored document and compare it with the hash recorded when it was stored.

    Streams in batches (only the id, the hash and the bytes are read). A document whose bytes or recorded hash are
    gone although it was not removed by the retention counts as missing; one removed after its retention period
    is counted as removed, not checked.
    """
    report = VerifyReport()
    started = time.perf_counter()
    for store in STORES:
        counts = report.counts[store.kind] = VerifyCounts()
        qs = store.model.objects.all()
        if environment_id is not None:
            qs = qs.filter(environment_id=environment_id)
        counts.removed = qs.filter(document_removed_at__isnull=False).count()
        kept = qs.filter(document_removed_at__isnull=True).only("pk", "sha256", store.bytes_field).order_by("pk")
        for document in kept.iterator(chunk_size=batch_size):
            data = bytes(getattr(document, store.bytes_field) or b"")
            counts.checked += 1
            counts.bytes += len(data)
            if not data or not document.sha256:
                counts.missing += 1
                report.missing.append((store.kind, document.pk))
            elif hashlib.sha256(data).hexdigest() != document.sha256:
                counts.mismatched += 1
                report.mismatched.append((store.kind, document.pk))
            else:
                counts.ok += 1
    report.seconds = time.perf_counter() - started
    total = report.total
    log = logger.info if report.intact else logger.error
    log(
        "Document verification: %s checked, %s ok, %s mismatched, %s missing, %s removed after retention",
        total.checked,
        total.ok,
        total.mismatched,
        total.missing,
        total.removed,
    )
    return report
