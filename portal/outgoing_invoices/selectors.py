from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core import keyset
from portal.core.choices import ErrorKind
from portal.documents.lifecycle import not_dispatched_recently
from portal.outgoing_invoices.models import OutgoingInvoice

Status = OutgoingInvoice.Status
BATCH = 500


def submits_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = (
        OutgoingInvoice.objects.filter(status__in=(Status.READY, Status.RETRY_WAIT))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(not_dispatched_recently(now))
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])


def status_checks_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = OutgoingInvoice.objects.filter(status=Status.SUBMITTED, next_attempt_at__lte=now).filter(
        not_dispatched_recently(now)
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])


def preparations_stalled(*, now: datetime | None = None) -> list[int]:
    """NEW invoices nobody prepared within a few minutes (the prepare message was lost), not queued again meanwhile:
    a backlog older than the threshold must not be queued once more on every run."""
    now = now or timezone.now()
    stalled = OutgoingInvoice.objects.filter(status=Status.NEW, status_changed_at__lt=now - timedelta(minutes=5))
    stalled = stalled.filter(not_dispatched_recently(now)).order_by("environment_id", "pk")
    return list(stalled.values_list("pk", flat=True)[:BATCH])


def invoices_to_prepare(invoice_ids) -> list[OutgoingInvoice]:
    """Those of the invoices still to prepare, with their environment and their contact's identifiers, grouped by
    environment."""
    return list(
        OutgoingInvoice.objects.filter(pk__in=invoice_ids, status=Status.NEW)
        .select_related("environment", "contact")
        .prefetch_related("contact__identifiers")
        .order_by("environment_id", "pk")
    )


def mark_dispatched(invoice_ids: list[int], *, now: datetime | None = None) -> None:
    OutgoingInvoice.objects.filter(pk__in=invoice_ids).update(dispatched_at=now or timezone.now())


def outbox_for_environment(*, environment):
    return OutgoingInvoice.objects.filter(environment=environment).defer("ubl").order_by("-created_at", "-pk")


# --- the outbox pages ---------------------------------------------------------------------------------------------

OUTBOX_PAGE_SIZE = 50
# Statuses the portal moves on by itself: a page showing one of them polls until it is left.
IN_FLIGHT = (Status.NEW, Status.READY, Status.SUBMITTING, Status.RETRY_WAIT, Status.SUBMITTED)
# Statuses a person has to look at.
NEEDS_ACTION = (Status.NEEDS_ATTENTION, Status.FAILED, Status.REJECTED, Status.STALE)
STATUS_GROUPS = {"needs_action": NEEDS_ACTION, "in_progress": IN_FLIGHT}
# What the list shows: never the UBL blob or the JSON of findings and lookups.
LIST_FIELDS = (
    "id",
    "environment_id",
    "created_at",
    "invoice_number",
    "customer_name",
    "document_type",
    "issue_date",
    "currency",
    "payable_amount",
    "status",
    "status_changed_at",
    "is_test",
    "validated_at",
    "validation_rules",
)


@dataclass(frozen=True)
class OutboxCursor:
    """A position in the outbox order (newest first): the (created_at, id) of a row."""

    created_at: datetime
    pk: int

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}_{self.pk}"

    @classmethod
    def decode(cls, raw: str | None) -> OutboxCursor | None:
        """The cursor of a link, or None for anything that is not one (a hand-edited URL starts at the top)."""
        if not raw or "_" not in raw:
            return None
        when, _, pk = raw.rpartition("_")
        try:
            created_at = datetime.fromisoformat(when)
            number = int(pk)
            if timezone.is_naive(created_at) or not 1 <= number < 2**63:
                return None
            created_at.astimezone(UTC)  # a year-9999 time with a negative offset is beyond what databases hold
        except (ValueError, OverflowError):
            return None
        return cls(created_at, number)

    @classmethod
    def of(cls, invoice: OutgoingInvoice) -> OutboxCursor:
        return cls(invoice.created_at, invoice.pk)


@dataclass(frozen=True)
class OutboxFilters:
    environment_ids: tuple[int, ...] | None = None  # None: every environment of the firm
    status: str = ""  # an OutgoingInvoice.Status value or a key of STATUS_GROUPS
    is_test: bool | None = None
    created_from: date | None = None  # local dates, both inclusive
    created_to: date | None = None
    search: str = ""  # invoice number (prefix) or customer name (part), case-insensitive


@dataclass(frozen=True)
class OutboxPage:
    invoices: list[OutgoingInvoice]
    newer: OutboxCursor | None  # the cursor for the "newer" link, None on the first page
    older: OutboxCursor | None  # the cursor for the "older" link, None on the last page


def outgoing_for_firm(*, firm) -> QuerySet[OutgoingInvoice]:
    """Every outgoing invoice of the firm; another firm's are simply not there (404, not 403)."""
    return OutgoingInvoice.objects.filter(environment__organisation__firm=firm)


def outgoing_detail_for_firm(*, firm, pk: int) -> OutgoingInvoice:
    """One invoice of the firm with its environment and organisation (never the environment's credentials)."""
    from django.shortcuts import get_object_or_404

    from portal.organisations.models import CREDENTIAL_FIELDS

    invoices = outgoing_for_firm(firm=firm).select_related("environment__organisation", "contact")
    return get_object_or_404(invoices.defer(*(f"environment__{name}" for name in CREDENTIAL_FIELDS)), pk=pk)


def outgoing_status_for_firm(*, firm, pk: int) -> OutgoingInvoice:
    """Just what the status fragment shows, for polling every few seconds."""
    from django.shortcuts import get_object_or_404

    fields = ("id", "environment_id", "status", "status_changed_at", "next_attempt_at", "last_error_message")
    return get_object_or_404(outgoing_for_firm(firm=firm).only(*fields), pk=pk)


def _filtered(queryset: QuerySet[OutgoingInvoice], filters: OutboxFilters) -> QuerySet[OutgoingInvoice]:
    if filters.status in STATUS_GROUPS:
        queryset = queryset.filter(status__in=STATUS_GROUPS[filters.status])
    elif filters.status in Status.values:
        queryset = queryset.filter(status=filters.status)
    if filters.is_test is not None:
        queryset = queryset.filter(is_test=filters.is_test)
    if filters.created_from:
        queryset = queryset.filter(created_at__gte=_start_of(filters.created_from))
    if filters.created_to:
        queryset = queryset.filter(created_at__lt=_start_of(filters.created_to + timedelta(days=1)))
    search = filters.search.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    if search:
        queryset = queryset.filter(Q(invoice_number__istartswith=search) | Q(customer_name__icontains=search))
    return queryset


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def outbox_page(
    *,
    environment_ids: list[int],
    filters: OutboxFilters,
    cursor: OutboxCursor | None = None,
    newer: bool = False,
    size: int = OUTBOX_PAGE_SIZE,
) -> OutboxPage:
    """One page of the outbox, newest first, by keyset: no COUNT, no OFFSET. ``environment_ids`` are the firm's;
    ``filters.environment_ids`` narrows them (an id outside the firm's gives nothing). ``newer`` pages back.

    On PostgreSQL one environment is a range scan of outgoing_outbox_idx (environment, -created_at); several are a
    backward scan of the created_at index with the environments as a filter, which stops after the page (measured:
    0.2 ms for a firm with 600 environments and 1M invoices). A UNION of per-environment scans merged by Merge
    Append was tried and is slower: planning 600 branches alone takes ~90 ms.
    """
    allowed = [pk for pk in environment_ids if filters.environment_ids is None or pk in filters.environment_ids]
    if not allowed:
        return OutboxPage([], None, None)
    queryset = _filtered(OutgoingInvoice.objects.only(*LIST_FIELDS), filters).filter(environment_id__in=allowed)
    position = (cursor.created_at, cursor.pk) if cursor is not None else None
    window = keyset.newest_first(
        queryset, size=size, older_than=None if newer else position, newer_than=position if newer else None
    )
    return OutboxPage(
        window.rows,
        OutboxCursor.of(window.newer) if window.newer else None,
        OutboxCursor.of(window.older) if window.older else None,
    )


def outgoing_timeline(*, invoice: OutgoingInvoice, limit: int = 200):
    """The invoice's events, newest first."""
    from portal.events.models import Event

    return list(Event.objects.filter(outgoing_invoice=invoice).order_by("-created_at", "-id")[:limit])


# --- validation findings with what to change in AFAS -----------------------------------------------------------------

# Rule families without a specific hint in integrations.peppol.hints: (id prefix, hint), first match wins.
FAMILY_HINTS = (
    (
        "BR-NL-",
        _(
            "A Dutch rule (NLCIUS) is not met. Usually a field on the debtor's organisation card (KvK number, "
            "address) or on your own administration in AFAS is missing: fill it in and send the invoice again."
        ),
    ),
    (
        "NL-R-",
        _(
            "A Dutch Peppol rule is not met. Check the KvK number, address and payment details of your own "
            "administration and of the debtor in AFAS."
        ),
    ),
    (
        "PEPPOL-EN16931-R",
        _(
            "A Peppol rule is not met. The message names the field; correct it on the invoice or on the debtor in "
            "AFAS and send the invoice again."
        ),
    ),
    (
        "BR-CO-",
        _(
            "The amounts of the invoice do not add up. Recalculate the invoice in AFAS (VAT codes, rounding per line, "
            "discounts) and send it again."
        ),
    ),
    (
        "BR-CL-",
        _(
            "A code is not on the official list (country, currency, unit or VAT category). Check the code named in "
            "the message in the AFAS settings of the debtor or the article."
        ),
    ),
    (
        "BR-",
        _(
            "A rule of the European invoice standard (EN 16931) is not met. The message names the field; correct it "
            "in AFAS and send the invoice again."
        ),
    ),
    (
        "UBL-",
        _("An element appears more often than allowed. Check the field named in the message in AFAS."),
    ),
    (
        "XML-",
        _("The file from AFAS cannot be read as an invoice. Export the invoice from AFAS again as UBL."),
    ),
    (
        "XSD",
        _(
            "The file does not follow the UBL structure. This comes from the program that made the UBL file, not "
            "from a field you can fill in: report it with this message."
        ),
    ),
)
GENERIC_HINT = _(
    "Read the message: it names the field that is wrong. Correct it on the invoice or on the debtor in AFAS, then "
    "choose Retry."
)
# Why the last attempt failed (OutgoingInvoice.last_error_kind): what a person can do about it.
ERROR_KIND_HINTS = {
    ErrorKind.RECIPIENT: _(
        "The customer cannot be found on Peppol. Fill in the debtor's Peppol-ID (EnId) or KvK number (for government "
        "customers: their OIN) on the debtor in AFAS, check on the Peppol readiness page that the customer can "
        "receive invoices, then choose Retry."
    ),
    ErrorKind.CREDENTIALS: _(
        "eConnect refused the connection keys of this environment. Enter the App Key and Secret again on the "
        "environment page and use Test connection, then choose Retry."
    ),
    ErrorKind.INVALID_DOCUMENT: _(
        "The invoice does not meet the Peppol rules: see the findings below for what to change in AFAS. After "
        "correcting it, send a corrected invoice from AFAS or choose Retry."
    ),
    ErrorKind.PERMANENT: _(
        "eConnect or the customer's access point refused the invoice. Read the message; after correcting the cause "
        "choose Retry, or resolve it outside the portal."
    ),
    ErrorKind.TRANSIENT: _(
        "A temporary failure (network or eConnect busy). The portal retries by itself; nothing to do unless it keeps "
        "failing."
    ),
}


@dataclass(frozen=True)
class FindingDisplay:
    rule_id: str
    severity: str
    message: str
    location: str
    hint: str

    @property
    def is_fatal(self) -> bool:
        return self.severity == "fatal"


def finding_fix_hint(*, rule_id: str, message: str = "", stored_hint: str = "", language: str = "en") -> str:
    """What to change, in the reader's language: the hint stored with the finding, the known hint for the rule,
    the hint for its rule family, or a general one."""
    from integrations.peppol.hints import hint_for

    if stored_hint:
        return stored_hint
    known = hint_for(rule_id, message)
    if known is not None:
        return known.in_language(language)
    for prefix, hint in FAMILY_HINTS:
        if rule_id.startswith(prefix):
            return str(hint)
    return str(GENERIC_HINT)


def outgoing_findings(*, invoice: OutgoingInvoice, language: str = "en") -> list[FindingDisplay]:
    """The validation findings, fatal ones first, each with a fix hint in ``language``."""
    hint_key = "hint_nl" if language.lower().startswith("nl") else "hint_en"
    shown = []
    for finding in invoice.validation_findings or []:
        if not isinstance(finding, dict):
            continue
        rule_id = str(finding.get("rule_id") or "")
        message = str(finding.get("message") or "")
        shown.append(
            FindingDisplay(
                rule_id=rule_id,
                severity=str(finding.get("severity") or ""),
                message=message,
                location=str(finding.get("location") or ""),
                hint=finding_fix_hint(
                    rule_id=rule_id, message=message, stored_hint=str(finding.get(hint_key) or ""), language=language
                ),
            )
        )
    return sorted(shown, key=lambda finding: not finding.is_fatal)


def last_error_hint(invoice: OutgoingInvoice) -> str:
    hint = ERROR_KIND_HINTS.get(invoice.last_error_kind)
    return str(hint) if hint else ""
