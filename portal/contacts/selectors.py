"""Reads: contacts of an environment, and the Peppol readiness report per environment and per firm."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.peppol.identifiers import IdentifierSyntaxError, parse_identifier
from portal.contacts.models import ISSUE_METHOD_ROUTES, Contact, ContactJob, ContactRoute
from portal.core.choices import DocumentType
from portal.organisations.models import CREDENTIAL_FIELDS, Environment, Firm
from portal.outgoing_invoices.models import OutgoingInvoice

Outcome = Contact.LookupOutcome
NOT_REACHABLE = (Outcome.NOT_ON_PEPPOL, Outcome.CANNOT_RECEIVE)
# The invoiced amount is summed in euros; invoices in other currencies are counted apart, not converted.
REPORT_CURRENCY = "EUR"


def customers_of(*, environment: Environment) -> QuerySet[Contact]:
    """The environment's customers (debtors) as they are in AFAS, deleted ones included (they are marked)."""
    return Contact.objects.filter(environment=environment, kind=Contact.Kind.DEBTOR)


def contacts_page(
    *, environment: Environment, outcome: str = "", route: str = "", search: str = "", include_inactive: bool = False
) -> QuerySet[Contact]:
    customers = customers_of(environment=environment).prefetch_related("identifiers")
    if not include_inactive:
        customers = customers.filter(afas_state=Contact.AfasState.ACTIVE)
    if outcome in Outcome.values:
        customers = customers.filter(lookup_outcome=outcome)
    if route:
        methods = [method for method, value in ISSUE_METHOD_ROUTES.items() if value == route]
        if route == ContactRoute.OTHER:
            customers = customers.exclude(issue_method__in=list(ISSUE_METHOD_ROUTES))
        elif methods:
            customers = customers.filter(issue_method__in=methods)
    if search:
        search = search.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
        matches = Q(name__icontains=search) | Q(afas_id=search) | Q(kvk_number=search) | Q(identifiers__value=search)
        try:  # a whole identifier in either notation: 0106:12345678, NL:KVK:12345678
            identifier = parse_identifier(search)
        except IdentifierSyntaxError:
            pass
        else:
            matches |= Q(identifiers__scheme=identifier.scheme, identifiers__value=identifier.value)
        customers = customers.filter(matches).distinct()
    return customers.order_by("name", "pk")


def latest_jobs(*, environment: Environment) -> dict[str, ContactJob]:
    """The most recent bulk job of each kind (running or not)."""
    jobs = {}
    for kind in ContactJob.Kind.values:
        job = ContactJob.objects.filter(environment=environment, kind=kind).order_by("-created_at", "-pk").first()
        if job is not None:
            jobs[kind] = job
    return jobs


@dataclass
class Readiness:
    customers: int = 0
    reachable: int = 0
    not_reachable: int = 0
    invalid: int = 0
    unchecked: int = 0
    blocked_or_deleted: int = 0
    invoiced: Decimal = Decimal("0")  # last 12 months, EUR, invoices (not credit notes)
    invoiced_reachable: Decimal = Decimal("0")
    invoices_other_currency: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)

    @property
    def reachable_share(self) -> Decimal | None:
        """The share (0-100) of the invoiced amount that went to customers reachable via Peppol; None without any."""
        if not self.invoiced:
            return None
        return (100 * self.invoiced_reachable / self.invoiced).quantize(Decimal("0.1"))

    @property
    def reachable_percent(self) -> int | None:
        return round(100 * self.reachable / self.customers) if self.customers else None

    def add(self, other: Readiness) -> None:
        for name in ("customers", "reachable", "not_reachable", "invalid", "unchecked", "blocked_or_deleted",
                     "invoiced", "invoiced_reachable", "invoices_other_currency"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for outcome, count in other.by_outcome.items():
            self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + count


def report_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months: from the day after the same date a year ago up to today."""
    today = today or timezone.localdate()
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + timedelta(days=1), today


def readiness_by_environment(
    environment_ids: Iterable[int], *, today: date | None = None, with_amounts: bool = True
) -> dict[int, Readiness]:
    """Per environment: customers by lookup outcome, and last year's invoiced amount in total and to reachable
    customers. Two grouped queries however many environments (no per-row work); one without the amounts, which
    sum a year of invoices (hundreds of thousands of rows for a large firm)."""
    ids = list(environment_ids)
    report: dict[int, Readiness] = defaultdict(Readiness)
    counts = (
        Contact.objects.filter(environment_id__in=ids, kind=Contact.Kind.DEBTOR)
        .values_list("environment_id", "afas_state", "lookup_outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for environment_id, state, outcome, n in counts:
        row = report[environment_id]
        if state != Contact.AfasState.ACTIVE:
            row.blocked_or_deleted += n
            continue
        row.customers += n
        row.by_outcome[outcome] = row.by_outcome.get(outcome, 0) + n
        if outcome == Outcome.REACHABLE:
            row.reachable += n
        elif outcome in NOT_REACHABLE:
            row.not_reachable += n
        elif outcome == Outcome.IDENTIFIER_INVALID:
            row.invalid += n
        else:
            row.unchecked += n
    if not with_amounts:
        return {environment_id: report[environment_id] for environment_id in ids}
    start, end = report_period(today)
    amounts = (
        OutgoingInvoice.objects.filter(
            environment_id__in=ids,
            issue_date__gte=start,
            issue_date__lte=end,
            document_type=DocumentType.INVOICE,
            is_test=False,
            payable_amount__isnull=False,
        )
        .values_list("environment_id", "currency", "contact__lookup_outcome")
        .annotate(total=Sum("payable_amount"), n=Count("pk"))
        .order_by()
    )
    for environment_id, currency, outcome, total, n in amounts:
        row = report[environment_id]
        if currency and currency != REPORT_CURRENCY:
            row.invoices_other_currency += n
            continue
        row.invoiced += total or 0
        if outcome == Outcome.REACHABLE:
            row.invoiced_reachable += total or 0
    return {environment_id: report[environment_id] for environment_id in ids}


@dataclass(frozen=True)
class FirmReadiness:
    rows: list[tuple[Environment, Readiness]]
    total: Readiness


def readiness_for_firm(*, firm: Firm, today: date | None = None) -> FirmReadiness:
    environments = list(
        Environment.objects.filter(organisation__firm=firm)
        .select_related("organisation")
        .defer(*CREDENTIAL_FIELDS)
        .order_by("organisation__name", "afas_environment_type", "afas_participant_number")
    )
    by_environment = readiness_by_environment([e.pk for e in environments], today=today)
    total = Readiness()
    rows = []
    for environment in environments:
        readiness = by_environment[environment.pk]
        total.add(readiness)
        rows.append((environment, readiness))
    return FirmReadiness(rows=rows, total=total)


# --- CSV exports -------------------------------------------------------------------------------------------------

# Column names in the language of the request (lazy: translated when a row is written).
CONTACT_CSV_HEADER = (
    gettext_lazy("AFAS number"), gettext_lazy("Name"), gettext_lazy("State in AFAS"), gettext_lazy("Route"),
    gettext_lazy("Outcome"), gettext_lazy("Peppol identifier"), gettext_lazy("Invoices"), gettext_lazy("Credit notes"),
    gettext_lazy("Access point"), gettext_lazy("Checked at"), gettext_lazy("eConnect id in AFAS"), gettext_lazy("KvK"),
    gettext_lazy("OIN"), gettext_lazy("VAT number"), gettext_lazy("Explanation"),
)  # fmt: skip
FIRM_CSV_HEADER = (
    gettext_lazy("Organisation"), gettext_lazy("KvK"), gettext_lazy("Environment"), gettext_lazy("Participant"),
    gettext_lazy("Customers"), gettext_lazy("Reachable"), gettext_lazy("Not reachable"),
    gettext_lazy("Identifier invalid"), gettext_lazy("Not checked"), gettext_lazy("Invoiced last 12 months (EUR)"),
    gettext_lazy("To reachable customers (EUR)"), gettext_lazy("Share via Peppol (%)"),
)  # fmt: skip


def _cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is quoted: AFAS names come from outside."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _money(amount) -> Decimal:
    """An amount with its two decimals; the export writes it with the reader's decimal separator."""
    return Decimal(amount).quantize(Decimal("0.01"))


def _yes_no(value: bool | None) -> str:
    return "" if value is None else (_("yes") if value else _("no"))


def contacts_csv_rows(*, environment: Environment) -> Iterator[tuple]:
    """One row per customer (active, blocked and deleted), streamed in pages."""
    yield tuple(str(name) for name in CONTACT_CSV_HEADER)
    customers = customers_of(environment=environment).order_by("name", "pk")
    for contact in customers.iterator(chunk_size=2000):
        yield tuple(
            _cell(value)
            for value in (
                contact.afas_id,
                contact.name,
                contact.get_afas_state_display(),
                contact.route.label,
                contact.get_lookup_outcome_display(),
                contact.peppol_identifier,
                _yes_no(contact.receives_invoices),
                _yes_no(contact.receives_credit_notes),
                contact.peppol_access_point,
                contact.lookup_checked_at.isoformat(timespec="seconds") if contact.lookup_checked_at else "",
                contact.econnect_id,
                contact.kvk_number,
                contact.oin,
                contact.vat_number,
                contact.lookup_detail_text,
            )
        )


def firm_csv_rows(*, firm: Firm, today: date | None = None) -> Iterator[tuple]:
    report = readiness_for_firm(firm=firm, today=today)
    yield tuple(str(name) for name in FIRM_CSV_HEADER)
    for environment, r in report.rows:
        yield tuple(
            _cell(value)
            for value in (
                environment.organisation.name,
                environment.organisation.kvk_number,
                environment.get_afas_environment_type_display(),
                environment.afas_participant_number,
                r.customers,
                r.reachable,
                r.not_reachable,
                r.invalid,
                r.unchecked,
                _money(r.invoiced),
                _money(r.invoiced_reachable),
                "" if r.reachable_share is None else Decimal(r.reachable_share),
            )
        )
    t = report.total
    yield (_("Total"), "", "", "", t.customers, t.reachable, t.not_reachable, t.invalid, t.unchecked,
           _money(t.invoiced), _money(t.invoiced_reachable),
           "" if t.reachable_share is None else Decimal(t.reachable_share))  # fmt: skip
