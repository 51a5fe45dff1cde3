"""Benchmark of the firm's Peppol readiness report: ``python -m benchmarks.readiness_report [--organisations 200]``.

Needs PostgreSQL (``DATABASE_URL=postgres://...``). It creates a throwaway database ``portal_bench_readiness_report``
on that server (never the one in DATABASE_URL), migrates it and loads one firm with N organisations of three AFAS
environments each (production, test, acceptance), about 50 contacts per environment with a realistic mix (lookup
outcomes, blocked and deleted customers, a few creditors) and M outgoing invoices over the last two years (credit
notes, test invoices, other currencies, no amount, no contact), with ``bulk_create``, then ANALYZE. A second firm
with 2 organisations of the same shape tells whether the number of queries grows with the organisations.

It times ``portal.contacts.selectors.readiness_for_firm`` with every row read (as a template does) and, when the URL
``web:readiness`` exists, a GET of that page with Django's test client logged in as a member of the firm: median and
p95 in milliseconds over ``--runs`` runs. It prints the number of SQL queries per render and EXPLAIN ANALYZE of the
two grouped queries.

Exit status 1 when the report's figures differ from what was loaded, when the page does not answer 200 with every
environment on it, or when the number of queries per render is above ``--max-queries`` or larger for the big firm
than for the small one. The database is dropped at the end (``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from benchmarks import harness
from benchmarks.harness import explain, percentile

BENCH_DB = "portal_bench_readiness_report"
ENVIRONMENT_TYPES = ("production", "test", "accept")
# Debtors' lookup outcomes and AFAS states, with their weights.
OUTCOMES = (("reachable", 55), ("not_on_peppol", 22), ("cannot_receive", 3), ("identifier_invalid", 5),
            ("not_checked", 15))  # fmt: skip
STATES = (("active", 92), ("blocked", 5), ("deleted", 3))
CREATE_BATCH = 5_000


# --- what was loaded, summed as the report must sum it ------------------------------------------------------------


@dataclass
class Expected:
    customers: int = 0
    reachable: int = 0
    not_reachable: int = 0
    invalid: int = 0
    unchecked: int = 0
    blocked_or_deleted: int = 0
    invoiced: Decimal = Decimal("0")
    invoiced_reachable: Decimal = Decimal("0")
    invoices_other_currency: int = 0
    environments: int = 0
    participants: list[str] = field(default_factory=list)

    def figures(self) -> tuple:
        return (self.customers, self.reachable, self.not_reachable, self.invalid, self.unchecked,
                self.blocked_or_deleted, self.invoiced, self.invoiced_reachable, self.invoices_other_currency)  # fmt: skip


FIGURE_NAMES = ("customers", "reachable", "not_reachable", "invalid", "unchecked", "blocked_or_deleted", "invoiced",
                "invoiced_reachable", "invoices_other_currency")  # fmt: skip


def load_firm(
    *, name: str, organisations: int, contacts_per_environment: int, invoices: int, first_participant: int,
    first_kvk: int, today: date, rng: random.Random,
) -> tuple[object, Expected]:  # fmt: skip
    """A firm and its organisations, environments, contacts and outgoing invoices; what its report must say."""
    from portal.contacts.models import Contact
    from portal.contacts.selectors import report_period
    from portal.core.choices import DocumentType
    from portal.organisations.models import Environment, Firm, Organisation
    from portal.outgoing_invoices.models import OutgoingInvoice

    expected = Expected()
    firm = Firm.objects.create(name=name)
    orgs = Organisation.objects.bulk_create(
        Organisation(firm=firm, name=f"{name} klant {index + 1:04d} B.V.", kvk_number=f"{first_kvk + index}")
        for index in range(organisations)
    )
    environments = Environment.objects.bulk_create(
        Environment(organisation=organisation, afas_participant_number=f"{first_participant + index}",
                    afas_environment_type=environment_type)
        for index, organisation in enumerate(orgs)
        for environment_type in ENVIRONMENT_TYPES
    )  # fmt: skip
    expected.environments = len(environments)
    expected.participants = sorted({e.afas_participant_number for e in environments})

    outcome_names, outcome_weights = zip(*OUTCOMES, strict=True)
    state_names, state_weights = zip(*STATES, strict=True)
    contacts = []
    for environment in environments:
        for number in range(contacts_per_environment):
            creditor = rng.random() < 0.06
            contacts.append(
                Contact(
                    environment=environment,
                    kind=Contact.Kind.CREDITOR if creditor else Contact.Kind.DEBTOR,
                    afas_id=f"{number + 10_000}",
                    name=f"Relatie {number}",
                    kvk_number=f"{30_000_000 + number}",
                    afas_state=rng.choices(state_names, state_weights)[0],
                    lookup_outcome="not_checked" if creditor else rng.choices(outcome_names, outcome_weights)[0],
                )
            )
    Contact.objects.bulk_create(contacts, batch_size=CREATE_BATCH)
    debtors: dict[int, list[Contact]] = {}
    for contact in contacts:
        if contact.kind == Contact.Kind.CREDITOR:
            continue
        debtors.setdefault(contact.environment_id, []).append(contact)
        if contact.afas_state != Contact.AfasState.ACTIVE:
            expected.blocked_or_deleted += 1
            continue
        expected.customers += 1
        outcome = contact.lookup_outcome
        if outcome == "reachable":
            expected.reachable += 1
        elif outcome in ("not_on_peppol", "cannot_receive"):
            expected.not_reachable += 1
        elif outcome == "identifier_invalid":
            expected.invalid += 1
        else:
            expected.unchecked += 1

    start, end = report_period(today)  # what "the last twelve months" is, is the selector's to say
    span = (end - start).days + 1
    batch: list[OutgoingInvoice] = []
    for index in range(invoices):
        environment = environments[index % len(environments)]
        customers = debtors.get(environment.pk, [])
        contact = rng.choice(customers) if customers and rng.random() > 0.02 else None
        credit = rng.random() < 0.08
        is_test = rng.random() < 0.01
        # 85% in the report's period (both ends included), the rest the year before.
        issued = end - timedelta(days=rng.randrange(span) if rng.random() < 0.85 else rng.randrange(span, 2 * span))
        currency = rng.choices(("EUR", "", "USD", "GBP"), (96, 1, 2, 1))[0]
        amount = None if rng.random() < 0.01 else Decimal(rng.randrange(1_000, 2_500_000)) / 100
        batch.append(
            OutgoingInvoice(
                environment=environment,
                contact=contact,
                afas_identity=f"bench-{index}",
                is_test=is_test,
                document_type=DocumentType.CREDIT_NOTE if credit else DocumentType.INVOICE,
                invoice_number=f"F{index:08d}",
                issue_date=issued,
                customer_name=contact.name if contact else "Losse klant",
                currency=currency,
                payable_amount=amount,
                ubl=b"",
                status=OutgoingInvoice.Status.DELIVERED,
                submission_reference=f"bench-{firm.pk}-{index}",
            )
        )
        if not credit and not is_test and amount is not None and start <= issued <= end:
            if currency and currency != "EUR":
                expected.invoices_other_currency += 1
            else:
                expected.invoiced += amount
                if contact is not None and contact.lookup_outcome == "reachable":
                    expected.invoiced_reachable += amount
        if len(batch) == CREATE_BATCH:
            OutgoingInvoice.objects.bulk_create(batch)
            batch = []
    if batch:
        OutgoingInvoice.objects.bulk_create(batch)
    return firm, expected


def member_of(firm, username: str):
    from portal.accounts.models import Membership, User

    user = User.objects.create_user(username=username, password=None)
    Membership.objects.create(user=user, firm=firm, role=Membership.Role.VIEWER)
    return user


# --- measuring ----------------------------------------------------------------------------------------------------


def read_report(firm, today: date):
    """The selector, and every row read as the page reads it."""
    from portal.contacts.selectors import readiness_for_firm

    report = readiness_for_firm(firm=firm, today=today)
    cells = 0
    for environment, readiness in report.rows:
        cells += len(environment.organisation.name) + len(environment.get_afas_environment_type_display())
        cells += (readiness.reachable_percent or 0) + int(readiness.reachable_share or 0)
    return report


class QueryLog:
    """The SQL (with parameters) of every query run inside ``connection.execute_wrapper``."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        self.queries.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


def timed(function, runs: int) -> list[float]:
    for _ in range(2):  # warm the connection, the plan and the template caches
        function()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from portal.contacts.models import Contact
    from portal.outgoing_invoices.models import OutgoingInvoice

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    rng = random.Random(args.seed)
    print(f"Loading a firm with {args.organisations} organisations x {len(ENVIRONMENT_TYPES)} environments, "
          f"{args.contacts_per_environment} contacts each, {args.invoices:,} outgoing invoices ...", flush=True)  # fmt: skip
    started = time.perf_counter()
    firm, expected = load_firm(
        name="Benchmark accountants", organisations=args.organisations,
        contacts_per_environment=args.contacts_per_environment, invoices=args.invoices, first_participant=10_000,
        first_kvk=62_000_000, today=today, rng=rng,
    )  # fmt: skip
    small_invoices = max(1, args.invoices * 2 // args.organisations)
    small_firm, small_expected = load_firm(
        name="Small office", organisations=2, contacts_per_environment=args.contacts_per_environment,
        invoices=small_invoices, first_participant=900_000, first_kvk=63_000_000, today=today, rng=rng,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    contacts, invoices = Contact.objects.count(), OutgoingInvoice.objects.count()
    print(f"  {contacts:,} contacts and {invoices:,} outgoing invoices (both firms) in "
          f"{time.perf_counter() - started:.0f} s; ANALYZE done", flush=True)  # fmt: skip

    problems: list[str] = []
    url = reverse("web:readiness")
    users = {firm.pk: member_of(firm, "bench-big"), small_firm.pk: member_of(small_firm, "bench-small")}

    def client_for(some_firm) -> Client:
        client = Client()
        client.force_login(users[some_firm.pk])
        return client

    with override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        # Right figures first.
        for label, some_firm, want in (("big firm", firm, expected), ("small firm", small_firm, small_expected)):
            report = read_report(some_firm, today)
            found = tuple(getattr(report.total, name) for name in FIGURE_NAMES)
            if found != want.figures() or len(report.rows) != want.environments:
                differences = {name: (f, w) for name, f, w in zip(FIGURE_NAMES, found, want.figures(), strict=True)
                               if f != w}  # fmt: skip
                problems.append(f"{label}: {len(report.rows)} rows (want {want.environments}); report, loaded: "
                                f"{differences}")  # fmt: skip
        response = client_for(firm).get(url)
        html = response.content.decode()
        page_size = len(response.content)
        missing = [p for p in expected.participants if f"({p})" not in html]
        if response.status_code != 200 or missing:
            problems.append(f"GET {url}: HTTP {response.status_code}, {len(missing)} of "
                            f"{len(expected.participants)} environments missing")  # fmt: skip

        selector_ms = timed(lambda: read_report(firm, today), args.runs)
        client = client_for(firm)
        page_ms = timed(lambda: client.get(url), args.runs)

        counts: dict[tuple[str, str], int] = {}
        for label, some_firm in (("big", firm), ("small", small_firm)):
            with CaptureQueriesContext(connection) as captured:
                read_report(some_firm, today)
            counts[("selector", label)] = len(captured.captured_queries)
            client = client_for(some_firm)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            counts[("page", label)] = len(captured.captured_queries)

        log = QueryLog()
        with connection.execute_wrapper(log):
            read_report(firm, today)
        grouped = [(sql, params) for sql, params in log.queries if "GROUP BY" in sql]

    print()
    print(f"Readiness report of a firm with {args.organisations} organisations ({expected.environments} environments), "
          f"PostgreSQL {connection.pg_version // 10000}")  # fmt: skip
    print(f"  {expected.customers + expected.blocked_or_deleted:,} customers, {expected.reachable:,} reachable; "
          f"EUR {expected.invoiced:,.2f} invoiced in the last 12 months, {expected.invoiced_reachable:,.2f} to "
          f"reachable customers")  # fmt: skip
    print()
    print(f"  {'':44}{'runs':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'queries':>9}")
    rows = [
        ("readiness_for_firm + reading every row", selector_ms, counts[("selector", "big")]),
        (f"GET {url} (test client, logged in)", page_ms, counts[("page", "big")]),
    ]
    for label, values, queries in rows:
        print(f"  {label:44}{len(values):6d}{statistics.median(values):11.1f}{percentile(values, 0.95):9.1f}"
              f"{max(values):9.1f}{queries:9d}")  # fmt: skip
    print(f"  page size: {page_size:,} bytes")
    print()
    print(f"  {'queries per render':44}{'200-style firm':>16}{'2 organisations':>17}")
    for what in ("selector", "page"):
        print(f"  {what:44}{counts[(what, 'big')]:16d}{counts[(what, 'small')]:17d}")
        if counts[(what, "big")] > counts[(what, "small")]:
            problems.append(f"the {what} runs {counts[(what, 'big')]} queries for {args.organisations} "
                            f"organisations and {counts[(what, 'small')]} for 2: it grows with the organisations")  # fmt: skip
        if counts[(what, "big")] > args.max_queries:
            problems.append(f"the {what} runs {counts[(what, 'big')]} queries (more than {args.max_queries})")
    if len(grouped) != 2:
        problems.append(f"{len(grouped)} grouped queries instead of 2")
    labels = ("customers by environment, AFAS state and outcome", "invoiced amount by environment, currency, outcome")
    for label, (sql, params) in zip(labels, grouped, strict=False):
        print()
        print(f"  EXPLAIN ANALYZE: {label}")
        print(f"    {sql[:160]}{' ...' if len(sql) > 160 else ''}")
        plan = re.sub(r"'\{[0-9,]+\}'", lambda m: f"'{{{m.group(0).count(',') + 1} ids}}'", explain(sql, params))
        print("\n".join("    | " + line for line in plan.splitlines()))
    print()
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not problems:
        print("  The report matches what was loaded; the number of queries does not grow with the organisations.")
    return 1 if problems else 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--contacts-per-environment", type=int, default=50)
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--max-queries", type=int, default=20, help="SQL queries one render may run")
    parser.add_argument("--seed", type=int, default=42)


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="readiness_report",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
    )


if __name__ == "__main__":
    sys.exit(main())
