from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.core import keyset
from portal.core.choices import DocumentType
from portal.documents.lifecycle import not_dispatched_recently
from portal.events.models import Event
from portal.incoming_invoices.duplicates import normalise_invoice_number
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.models import CREDENTIAL_FIELDS, Environment

Status = IncomingInvoice.Status
BATCH = 500


def _due(statuses, now: datetime):
    return (
        IncomingInvoice.objects.filter(status__in=statuses)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(not_dispatched_recently(now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def deliveries_due(*, now: datetime | None = None) -> list[int]:
    return list(_due((Status.READY, Status.RETRY_WAIT), now or timezone.now()))


def acknowledgements_due(*, now: datetime | None = None) -> list[int]:
    return list(_due((Status.DELIVERED, Status.TEST_RECEIVED), now or timezone.now()))


def processing_stalled(*, now: datetime | None = None) -> list[int]:
    """RECEIVED documents nobody processed within a few minutes (the message was lost), not queued again meanwhile."""
    now = now or timezone.now()
    return list(
        IncomingInvoice.objects.filter(status=Status.RECEIVED, status_changed_at__lt=now - timedelta(minutes=5))
        .filter(not_dispatched_recently(now))
        .values_list("pk", flat=True)[:BATCH]
    )


def invoices_to_process(invoice_ids: list[int]) -> list[IncomingInvoice]:
    """The documents still to process of these, in the order they were received, with their environment and its own
    Peppol identifiers (each document's addressee is checked against them)."""
    return list(
        IncomingInvoice.objects.filter(pk__in=invoice_ids, status=Status.RECEIVED)
        .select_related("environment")
        .prefetch_related("environment__own_identifiers")
        .order_by("pk")
    )


def mark_dispatched(invoice_ids: list[int], *, now: datetime | None = None) -> None:
    IncomingInvoice.objects.filter(pk__in=invoice_ids).update(dispatched_at=now or timezone.now())


# --- the inbox pages ------------------------------------------------------------------------------------------------
#
# A firm may have a million received documents: lists are keyset-paginated on (created_at, id) (the created_at index
# and incoming_inbox_idx serve the order), never counted, and never load the stored bytes.

Verdict = IncomingInvoice.DuplicateVerdict
Hold = IncomingInvoice.HoldReason

DUPLICATE_VERDICTS = (Verdict.CERTAIN_DUPLICATE, Verdict.DUPLICATE, Verdict.SUSPECTED_DUPLICATE)
# Verdicts after which the portal did not find a duplicate from the same supplier.
NOT_DUPLICATE_VERDICTS = (Verdict.ORIGINAL, Verdict.SUPPLIER_UNKNOWN)
# Statuses that do not change without a person: the status fragment stops polling.
SETTLED_STATUSES = (Status.HELD, Status.FAILED, Status.ACKNOWLEDGED, Status.RESOLVED_MANUALLY, Status.TEST_DONE)
INBOX_PAGE_SIZE = 50
INBOX_LIST_FIELDS = (
    "id",
    "created_at",
    "environment_id",
    "econnect_document_id",
    "document_type",
    "invoice_number",
    "issue_date",
    "currency",
    "supplier_name",
    "payable_amount",
    "econnect_duplicate_flag",
    "duplicate_verdict",
    "duplicate_of_id",
    "status",
    "hold_reason",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # normalised invoice numbers use these only, in this order


def disagrees_with_econnect_q() -> Q:
    """eConnect flagged it but the portal found no duplicate from this supplier (or held it as a disputed flag), or the
    portal found one that eConnect did not flag. The inbox filter and the dashboard count the same documents."""
    flagged = Q(econnect_duplicate_flag=True) & (
        Q(duplicate_verdict__in=NOT_DUPLICATE_VERDICTS) | Q(hold_reason=Hold.ECONNECT_FLAG_DISPUTED)
    )
    return flagged | Q(econnect_duplicate_flag=False, duplicate_verdict__in=DUPLICATE_VERDICTS)


def econnect_disagreement(invoice: IncomingInvoice) -> str:
    """``"flag_not_confirmed"``, ``"not_flagged"`` or ``""`` (they agree, or the portal has not judged yet)."""
    if invoice.econnect_duplicate_flag and invoice.duplicate_verdict in NOT_DUPLICATE_VERDICTS:
        return "flag_not_confirmed"
    if not invoice.econnect_duplicate_flag and invoice.duplicate_verdict in DUPLICATE_VERDICTS:
        return "not_flagged"
    return ""


@dataclass(frozen=True)
class InboxFilters:
    status: str = ""
    hold_reason: str = ""
    held_duplicates: bool = False
    disagreements: bool = False
    received_from: date | None = None
    received_until: date | None = None
    search: str = ""


def number_search_range(search: str) -> tuple[str, str | None] | None:
    """The range of normalised invoice numbers that every number starting with ``search`` falls in.

    A range rather than LIKE 'x%', so the (environment, normalised_invoice_number, issue_date) index serves it in any
    collation. Digit runs lose their leading zeros when normalised; the last run of the search may be the start of a
    longer run ("F-00" of "F-0012"), so all its leading zeros go: a few more matches, never fewer.
    """
    typed = search.strip()
    if not typed:
        return None
    last_digits = re.search(r"\d*$", typed).group()
    prefix = normalise_invoice_number(typed[: len(typed) - len(last_digits)]) + last_digits.lstrip("0")
    if not prefix:
        return None
    # The smallest string after every string that starts with prefix: drop trailing Zs, step the last character up.
    stem = prefix.rstrip("Z")
    upper = stem[:-1] + _ALPHABET[_ALPHABET.index(stem[-1]) + 1] if stem else None
    return prefix, upper


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def inbox_for_environments(*, environment_ids: list[int], filters: InboxFilters) -> QuerySet[IncomingInvoice]:
    """Received documents of these environments matching ``filters``; only the list's columns are loaded."""
    documents = IncomingInvoice.objects.filter(environment_id__in=environment_ids).only(*INBOX_LIST_FIELDS)
    if filters.status:
        documents = documents.filter(status=filters.status)
    if filters.hold_reason:
        documents = documents.filter(hold_reason=filters.hold_reason)
    if filters.held_duplicates:
        documents = documents.filter(status=Status.HELD, hold_reason=Hold.DUPLICATE)
    if filters.disagreements:
        documents = documents.filter(disagrees_with_econnect_q())
    if filters.received_from:
        documents = documents.filter(created_at__gte=_day_start(filters.received_from))
    if filters.received_until:
        documents = documents.filter(created_at__lt=_day_start(filters.received_until + timedelta(days=1)))
    if filters.search:
        matches = Q(supplier_name__icontains=filters.search.strip())
        number_range = number_search_range(filters.search)
        if number_range:
            prefix, upper = number_range
            by_number = Q(normalised_invoice_number__gte=prefix)
            if upper:
                by_number &= Q(normalised_invoice_number__lt=upper)
            matches |= by_number
        documents = documents.filter(matches)
    return documents


def cursor_token(invoice: IncomingInvoice) -> str:
    """Where a page starts or ends: the microseconds of created_at and the id, exact and opaque enough for a URL."""
    return f"{(invoice.created_at - _EPOCH) // timedelta(microseconds=1)}-{invoice.pk}"


def cursor_parse(token: str | None) -> tuple[datetime, int] | None:
    """``None`` for an absent or malformed token (the first page is shown instead)."""
    match = re.fullmatch(r"(\d{1,18})-(\d{1,18})", token or "")
    if not match:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except OverflowError:
        return None


@dataclass(frozen=True)
class KeysetPage:
    rows: list[IncomingInvoice]
    newer: str | None  # token for the page of newer documents, when there are any
    older: str | None  # token for the page of older documents, when there are any


def inbox_page(
    documents: QuerySet[IncomingInvoice],
    *,
    older_than: tuple[datetime, int] | None = None,
    newer_than: tuple[datetime, int] | None = None,
    size: int = INBOX_PAGE_SIZE,
) -> KeysetPage:
    """One page, newest first, after (``older_than``) or before (``newer_than``) a cursor; one query, no count."""
    window = keyset.newest_first(documents, size=size, older_than=older_than, newer_than=newer_than)
    return KeysetPage(
        window.rows,
        cursor_token(window.newer) if window.newer else None,
        cursor_token(window.older) if window.older else None,
    )


def inbox_environment_labels(*, firm) -> dict[int, str]:
    """The firm's environments as the list names them (like ``str(environment)``), by organisation; read as plain
    values because a firm may have hundreds and the list needs only their names."""
    rows = (
        Environment.objects.filter(organisation__firm=firm)
        .order_by("organisation__name", "pk")
        .values_list("pk", "organisation__name", "afas_environment_type", "afas_participant_number")
    )
    types = dict(Environment.Type.choices)
    return {pk: f"{name} · {types.get(kind, kind)} ({number})" for pk, name, kind, number in rows}


# --- one document: its timeline and the evidence of its duplicate verdict --------------------------------------------


def incoming_for_firm(*, firm) -> QuerySet[IncomingInvoice]:
    """The firm's received documents with their environment and organisation (never the environment's credentials)."""
    return (
        IncomingInvoice.objects.filter(environment__organisation__firm=firm)
        .select_related("environment__organisation")
        .defer(*(f"environment__{name}" for name in CREDENTIAL_FIELDS))
    )


def incoming_timeline(*, invoice: IncomingInvoice, limit: int = 200) -> list[Event]:
    """The document's timeline, newest first."""
    return list(invoice.events.select_related("actor").order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class DocumentFacts:
    """What the duplicate check compares, of this document or of one it was compared with."""

    pk: int | None
    econnect_document_id: str
    supplier_name: str
    supplier_identifiers: tuple[str, ...]
    supplier_key: str | None  # None: not known (only the evidence's description is left)
    invoice_number: str
    normalised_invoice_number: str
    issue_date: date | None
    document_type: str
    payable_amount: Decimal | None
    currency: str
    sha256: str
    received_at: datetime | None

    @property
    def document_type_label(self) -> str:
        return DocumentType(self.document_type).label if self.document_type in DocumentType.values else ""

    @classmethod
    def of(cls, invoice: IncomingInvoice) -> DocumentFacts:
        return cls(
            pk=invoice.pk,
            econnect_document_id=invoice.econnect_document_id,
            supplier_name=invoice.supplier_name,
            supplier_identifiers=tuple(invoice.supplier_identifiers or ()),
            supplier_key=invoice.supplier_key,
            invoice_number=invoice.invoice_number,
            normalised_invoice_number=invoice.normalised_invoice_number,
            issue_date=invoice.issue_date,
            document_type=invoice.document_type,
            payable_amount=invoice.payable_amount,
            currency=invoice.currency,
            sha256=invoice.sha256,
            received_at=invoice.created_at,
        )

    @classmethod
    def described(cls, description: dict) -> DocumentFacts:
        """From the evidence's description of a document (when the document itself cannot be read any more)."""

        def parsed(parse, value):
            try:
                return parse(value) if value not in (None, "") else None
            except (ValueError, TypeError, ArithmeticError):
                return None

        number = str(description.get("invoice_number") or "")
        return cls(
            pk=description.get("id") if isinstance(description.get("id"), int) else None,
            econnect_document_id=str(description.get("econnect_document_id") or ""),
            supplier_name=str(description.get("supplier_name") or ""),
            supplier_identifiers=tuple(str(i) for i in description.get("supplier_identifiers") or ()),
            supplier_key=None,
            invoice_number=number,
            normalised_invoice_number=normalise_invoice_number(number),
            issue_date=parsed(date.fromisoformat, description.get("issue_date")),
            document_type=str(description.get("document_type") or ""),
            payable_amount=parsed(Decimal, description.get("payable_amount")),
            currency=str(description.get("currency") or ""),
            sha256=str(description.get("sha256") or ""),
            received_at=parsed(datetime.fromisoformat, description.get("received_at")),
        )


@dataclass(frozen=True)
class Comparison:
    """This document beside one it was compared with; each field ``same``, ``equivalent``, ``partly`` or ``different``
    (``unknown`` when a side does not say)."""

    role: str  # "matched": the portal's match; "other_supplier" / "other_type": what eConnect probably matched
    this: DocumentFacts
    other: DocumentFacts
    fields: dict[str, str]

    @property
    def differing(self) -> list[str]:
        return [name for name, outcome in self.fields.items() if outcome == "different"]


def _compare(role: str, this: DocumentFacts, other: DocumentFacts) -> Comparison:
    def equal(a, b) -> str:
        if a in (None, "") or b in (None, ""):
            return "same" if a in (None, "") and b in (None, "") else "unknown"
        return "same" if a == b else "different"

    if this.invoice_number == other.invoice_number:
        number = "same"
    elif this.normalised_invoice_number and this.normalised_invoice_number == other.normalised_invoice_number:
        number = "equivalent"  # e.g. F-0012 and F12: the same number written differently
    else:
        number = "different"
    mine, theirs = set(this.supplier_identifiers), set(other.supplier_identifiers)
    if not mine or not theirs:
        identifiers = "unknown"
    elif mine == theirs:
        identifiers = "same"
    else:
        identifiers = "partly" if mine & theirs else "different"
    if this.supplier_key is None or other.supplier_key is None or not this.supplier_key or not other.supplier_key:
        supplier = "unknown" if role == "matched" else ("different" if role == "other_supplier" else "same")
    else:
        supplier = "same" if this.supplier_key == other.supplier_key else "different"
    name = equal(this.supplier_name.strip().casefold(), other.supplier_name.strip().casefold())
    amount = equal(
        (this.payable_amount, this.currency) if this.payable_amount is not None else None,
        (other.payable_amount, other.currency) if other.payable_amount is not None else None,
    )
    return Comparison(
        role,
        this,
        other,
        {
            "supplier": supplier,
            "supplier_name": name,
            "supplier_identifiers": identifiers,
            "invoice_number": number,
            "issue_date": equal(this.issue_date, other.issue_date),
            "document_type": equal(this.document_type, other.document_type),
            "amount": amount,
            "sha256": equal(this.sha256, other.sha256),
        },
    )


@dataclass(frozen=True)
class DuplicateEvidence:
    verdict: str
    econnect_flag: bool
    disagreement: str  # see econnect_disagreement
    rule: str  # as recorded by the duplicate check (English)
    econnect_note: str  # as recorded (English); empty when eConnect did not flag it
    comparisons: list[Comparison]


def duplicate_evidence_for(*, invoice: IncomingInvoice) -> DuplicateEvidence:
    """The verdict, eConnect's flag and each document they point at, side by side with this one.

    The documents are read again (without their bytes) so the comparison shows them as they are; a description
    in the evidence stands in for one that cannot be read.
    """
    evidence = invoice.duplicate_evidence if isinstance(invoice.duplicate_evidence, dict) else {}
    wanted: list[tuple[str, dict]] = []
    if invoice.duplicate_of_id or isinstance(evidence.get("matched"), dict):
        matched = evidence.get("matched") if isinstance(evidence.get("matched"), dict) else {}
        wanted.append(("matched", {**matched, "id": invoice.duplicate_of_id or matched.get("id")}))
    for role, key in (
        ("other_supplier", "other_suppliers_same_number_and_date"),
        ("other_type", "other_document_types_same_number_and_date"),
    ):
        wanted.extend((role, item) for item in evidence.get(key) or () if isinstance(item, dict))
    ids = {item["id"] for _, item in wanted if isinstance(item.get("id"), int)}
    found = {
        document.pk: document
        for document in IncomingInvoice.objects.filter(environment_id=invoice.environment_id, pk__in=ids).defer(
            "raw_xml", "duplicate_evidence", "vat_breakdown", "attachments"
        )
    }
    this = DocumentFacts.of(invoice)
    comparisons = []
    for role, item in wanted:
        document = found.get(item.get("id"))
        other = DocumentFacts.of(document) if document is not None else DocumentFacts.described(item)
        comparisons.append(_compare(role, this, other))
    return DuplicateEvidence(
        verdict=invoice.duplicate_verdict,
        econnect_flag=invoice.econnect_duplicate_flag,
        disagreement=econnect_disagreement(invoice),
        rule=str(evidence.get("rule") or ""),
        econnect_note=str(evidence.get("econnect") or ""),
        comparisons=comparisons,
    )
