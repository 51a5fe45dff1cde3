"""Benchmark of a bulk Peppol readiness scan: ``python -m benchmarks.readiness_scan [--contacts 10000]``.

Needs PostgreSQL (``DATABASE_URL=postgres://...``). It creates a throwaway database ``portal_bench_readiness_scan``
on that server (never the one in DATABASE_URL), migrates it and stores N customers of one environment through
``portal.contacts.services.contacts_apply`` (as the AFAS sync does): most registered in the Peppol directory for
invoices and credit notes (found by KvK number, by VAT number or by their eConnect id), some for invoices only, some
for credit notes only, a quarter not registered, a few with an invalid KvK number. The eConnect simulator serves the
directory over real HTTP on loopback, seeded with exactly those registrations.

The scan is a "check all customers" job (``contact_job_start``) whose chunks are run here, one after the other, by
``contact_job_continue`` (what the Celery task does; the chunk it queues is recorded instead of sent to a broker).
The directory rate limit is raised for the run (``--max-per-second``); the throughput at the production limit is
computed from the requests the scan needed. It prints contacts per second, directory requests and requests per
second, and chunk and batch durations (p50, p95).

Exit status 1 when an outcome differs from what the seeded directory says (per contact: outcome, identifier,
invoices, credit notes, access point), when the job does not finish, or when the directory was asked more often (or
about more identifiers) than one request per 10 identifiers of each batch of 25 customers. The database is dropped
at the end (``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import parse_qsl

from benchmarks import harness
from benchmarks.harness import percentile, serve
from integrations.afas.simulator.documents import nl_vat as simulator_nl_vat

BENCH_DB = "portal_bench_readiness_scan"
PRODUCTION_RATE = 10.0  # settings.PEPPOL_LOOKUP_MAX_PER_SECOND's default: requests per second per process
IDENTIFIERS_PER_REQUEST = 10  # integrations.econnect.lookup.MAX_CANDIDATES

REACHABLE, CANNOT_RECEIVE, NOT_ON_PEPPOL, INVALID = "reachable", "cannot_receive", "not_on_peppol", "identifier_invalid"


# --- the customers and what the directory says about them -----------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of customer: its share, what it has in AFAS, what is registered, and the outcome it must get."""

    label: str
    share: float
    outcome: str
    scheme: str = ""  # of the identifier it is reachable (or registered) as
    receives_invoices: bool | None = None
    receives_credit_notes: bool | None = None


KINDS = (
    Kind("invoice + credit note, by KvK", 0.40, REACHABLE, "0106", True, True),
    Kind("invoice + credit note, by VAT (KvK not on Peppol)", 0.10, REACHABLE, "9944", True, True),
    Kind("invoice + credit note, by eConnect id", 0.10, REACHABLE, "0106", True, True),
    Kind("invoice only", 0.05, REACHABLE, "0106", True, False),
    Kind("credit note only", 0.05, CANNOT_RECEIVE, "0106", False, True),
    Kind("not registered (KvK)", 0.15, NOT_ON_PEPPOL),
    Kind("not registered (KvK + VAT)", 0.10, NOT_ON_PEPPOL),
    Kind("invalid KvK number", 0.05, INVALID),
)
ACCESS_POINTS = ("econnect", "afas", "other")
BAD_KVK = ("{n7}", "{n7}X", "{n7}12")  # 7 digits, a letter, 9 digits


@dataclass(frozen=True)
class Customer:
    number: str
    kind: Kind
    kvk: str
    vat: str
    econnect_id: str
    registered: tuple[tuple[str, tuple[str, ...], str], ...]  # (party id, document types, access point)

    @property
    def access_point(self) -> str:
        return self.registered[0][2] if self.kind.scheme and self.registered else ""


def nl_vat(serial: int) -> str:
    """A distinct valid Dutch VAT number per serial, spaced so that no two serials meet."""
    return simulator_nl_vat(str(80_000_000 + serial * 16))


def customers_for(count: int, *, seed: int) -> list[Customer]:
    """``count`` customers in a shuffled mix of ``KINDS`` (exact counts: the shares rounded, the rest to the first)."""
    from integrations.peppol.document_types import DocumentType

    both = (DocumentType.INVOICE.value, DocumentType.CREDIT_NOTE.value)
    rng = random.Random(seed)
    sizes = [round(count * kind.share) for kind in KINDS]
    sizes[0] += count - sum(sizes)
    kinds = [kind for kind, size in zip(KINDS, sizes, strict=True) for _ in range(size)]
    rng.shuffle(kinds)
    customers = []
    for index, kind in enumerate(kinds):
        kvk = f"{20_000_000 + index}"
        vat = econnect_id = ""
        registered: list[tuple[str, tuple[str, ...], str]] = []
        access_point = ACCESS_POINTS[index % len(ACCESS_POINTS)]
        if kind.label.endswith("by KvK"):
            registered.append((f"0106:{kvk}", both, access_point))
            if index % 2:
                vat = nl_vat(index)  # a VAT number that is not registered: asked about, not used
        elif "by VAT" in kind.label:
            vat = nl_vat(index)
            registered.append((f"9944:{vat}", both, access_point))
        elif "eConnect id" in kind.label:
            econnect_id = f"NL:KVK:{kvk}"
            registered.append((f"0106:{kvk}", both, access_point))
        elif kind.label == "invoice only":
            registered.append((f"0106:{kvk}", (DocumentType.INVOICE.value,), access_point))
        elif kind.label == "credit note only":
            registered.append((f"0106:{kvk}", (DocumentType.CREDIT_NOTE.value,), access_point))
        elif "KvK + VAT" in kind.label:
            vat = nl_vat(index)
        elif kind.outcome == INVALID:
            kvk = BAD_KVK[index % len(BAD_KVK)].format(n7=f"{3_000_000 + index % 7_000_000:07d}")
        customers.append(Customer(f"{100_000 + index}", kind, kvk, vat, econnect_id, tuple(registered)))
    return customers


def check_identifiers(customers: list[Customer]) -> None:
    """The numbers are what the mix says: valid (unique) where they should be, invalid where they should be. A KvK
    number is judged as master data is (``has_problem``: a letter in it is an official warning, refused there)."""
    from integrations.peppol.identifiers import check_identifier, identifier_from_kvk, identifier_from_vat

    seen: set[str] = set()
    for customer in customers:
        kvk_valid = not check_identifier(identifier_from_kvk(customer.kvk)).has_problem
        if kvk_valid != (customer.kind.outcome != INVALID):
            raise RuntimeError(f"KvK {customer.kvk!r} of a {customer.kind.label!r} customer is built wrongly")
        if customer.vat:
            identifier = identifier_from_vat(customer.vat)
            if check_identifier(identifier).is_invalid:
                raise RuntimeError(f"VAT {customer.vat} fails its mod-11 check")
            if identifier.value in seen:
                raise RuntimeError(f"VAT {customer.vat} is used twice")
            seen.add(identifier.value)


# --- the directory over HTTP, counted --------------------------------------------------------------------------------


class CountingApp:
    """The simulator behind a WSGI wrapper that counts delivery-option requests and the identifiers they ask about."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests = 0
        self.identifiers = 0
        self.errors = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").endswith("/deliveryOption"):
            asked = sum(1 for key, _ in parse_qsl(environ.get("QUERY_STRING", "")) if key.lower() == "partyids")
            with self._lock:
                self.requests += 1
                self.identifiers += asked

            def counting_start_response(status, headers, exc_info=None):
                if not status.startswith("200"):
                    with self._lock:
                        self.errors += 1
                return start_response(status, headers, exc_info)

            return self.app(environ, counting_start_response)
        return self.app(environ, start_response)


# --- measuring --------------------------------------------------------------------------------------------------


def expected_requests(environment_id: int, batch_size: int) -> tuple[int, int]:
    """(requests, identifiers) the job needs: per batch of customers in id order, one request per 10 of its
    distinct valid identifiers."""
    from portal.contacts.models import Contact, ContactIdentifier

    valid: dict[int, set[tuple[str, str]]] = {}
    for contact_id, scheme, value in ContactIdentifier.objects.filter(
        contact__environment_id=environment_id, is_valid=True
    ).values_list("contact_id", "scheme", "value"):
        valid.setdefault(contact_id, set()).add((scheme, value))
    ids = list(
        Contact.objects.filter(environment_id=environment_id, kind=Contact.Kind.DEBTOR)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    requests = identifiers = 0
    for start in range(0, len(ids), batch_size):
        unique = set().union(*(valid.get(pk, set()) for pk in ids[start : start + batch_size]))
        requests += math.ceil(len(unique) / IDENTIFIERS_PER_REQUEST)
        identifiers += len(unique)
    return requests, identifiers


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, QuerySet
    from django.test import override_settings

    from integrations.afas.models import Debtor
    from integrations.econnect import simulator as econnect_simulator
    from integrations.econnect.lookup import PeppolLookup
    from portal.contacts import lookups
    from portal.contacts.models import Contact, ContactJob
    from portal.contacts.services import contacts_apply
    from portal.organisations.models import Environment, Firm, Organisation

    call_command("migrate", verbosity=0)
    customers = customers_for(args.contacts, seed=args.seed)
    check_identifiers(customers)

    firm = Firm.objects.create(name="Benchmark accountants")
    organisation = Organisation.objects.create(firm=firm, name="Benchmark groothandel B.V.", kvk_number="62000001")
    environment = Environment.objects.create(organisation=organisation, afas_participant_number="50001")

    print(f"Storing {args.contacts:,} customers (contacts_apply, as the AFAS sync does) ...", flush=True)
    started = time.perf_counter()
    modified = datetime(2025, 1, 1, tzinfo=UTC)
    contacts_apply(
        environment=environment,
        kind=Contact.Kind.DEBTOR,
        relations=[
            Debtor(number=c.number, name=f"Klant {c.number} B.V.", organisation_code=f"O{c.number}", kvk=c.kvk,
                   vat=c.vat, oin="", econnect_id=c.econnect_id, issue_method="R", email=f"{c.number}@klant.example",
                   blocked=False, modified_at=modified)
            for c in customers
        ],
    )  # fmt: skip
    stored = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  {args.contacts:,} customers in {stored:.1f} s", flush=True)

    app = econnect_simulator.create_app()
    registrations = 0
    for customer in customers:
        for party_id, document_types, access_point in customer.registered:
            app.register("production", party_id, access_point=access_point, document_types=list(document_types))
            registrations += 1
    counting = CountingApp(app)
    server = serve(counting)
    lookup_url = f"http://127.0.0.1:{server.server_port}"
    print(f"  eConnect simulator on {lookup_url} with {registrations:,} directory registrations", flush=True)
    want_requests, want_identifiers = expected_requests(environment.pk, lookups.LOOKUP_BATCH)

    queued: list[tuple[int, float]] = []
    batch_times: list[float] = []
    real_batch = lookups._job_batch

    def timed_batch(*batch_args, **batch_kwargs):
        batch_started = time.perf_counter()
        try:
            return real_batch(*batch_args, **batch_kwargs)
        finally:
            batch_times.append(time.perf_counter() - batch_started)

    request_times: list[float] = []
    real_request = PeppolLookup.delivery_options

    def timed_request(self, candidates):
        request_started = time.perf_counter()
        try:
            return real_request(self, candidates)
        finally:
            request_times.append(time.perf_counter() - request_started)

    db_time = [0.0, 0]

    def timed_query(execute, sql, params, many, context):
        query_started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_time[0] += time.perf_counter() - query_started
            db_time[1] += 1

    bulk_update_time = [0.0]
    real_bulk_update = QuerySet.bulk_update

    def timed_bulk_update(self, *update_args, **update_kwargs):
        update_started = time.perf_counter()
        try:
            return real_bulk_update(self, *update_args, **update_kwargs)
        finally:
            bulk_update_time[0] += time.perf_counter() - update_started

    chunk_times: list[float] = []
    problems: list[str] = []
    try:
        with (
            override_settings(
                DEBUG=False,  # no query log: as in production
                ECONNECT_LOOKUP_URL=lookup_url,
                PEPPOL_LOOKUP_MAX_PER_SECOND=args.max_per_second,
                CONTACT_JOB_CHUNK_SECONDS=args.chunk_seconds,
            ),
            mock.patch.object(
                lookups, "_enqueue_chunk", lambda job_id, countdown=0: queued.append((job_id, countdown))
            ),
            mock.patch.object(lookups, "_job_batch", timed_batch),
            mock.patch.object(PeppolLookup, "delivery_options", timed_request),
            mock.patch.object(QuerySet, "bulk_update", timed_bulk_update),
            connection.execute_wrapper(timed_query),
        ):
            print("Scanning: a lookup job, its chunks run one after the other in this process ...", flush=True)
            started = time.perf_counter()
            job = lookups.contact_job_start(environment=environment, kind=ContactJob.Kind.LOOKUP, actor=None)
            while queued:
                job_id, countdown = queued.pop()
                if countdown:
                    job.refresh_from_db()
                    problems.append(f"the job paused for {countdown:.0f} s: {job.last_error}")
                    break
                chunk_started = time.perf_counter()
                lookups.contact_job_continue(job_id=job_id)
                chunk_times.append(time.perf_counter() - chunk_started)
            scanned = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()

    job.refresh_from_db()
    n = args.contacts
    requests = counting.requests
    print()
    print(f"Readiness scan of {n:,} customers (one environment) against the eConnect simulator over HTTP, "
          f"PostgreSQL {connection.pg_version // 10000}")  # fmt: skip
    print(f"  directory rate limit raised to {args.max_per_second:g} requests/s for the run; chunks of "
          f"{args.chunk_seconds:g} s (production: {PRODUCTION_RATE:g} requests/s per process, 10 s chunks)")  # fmt: skip
    print()
    print(f"  {'':46}{'value':>12}")
    print(f"  {'wall time of the scan (s)':46}{scanned:12.2f}")
    print(f"  {'contacts per second':46}{n / scanned:12.1f}")
    print(f"  {'directory requests':46}{requests:12,d}")
    print(f"  {'identifiers asked about':46}{counting.identifiers:12,d}")
    print(f"  {'directory requests per second':46}{requests / scanned:12.1f}")
    print(f"  {'contacts per request':46}{n / max(requests, 1):12.2f}")
    print(f"  {'chunks':46}{len(chunk_times):12d}")
    if chunk_times:
        print(f"  {'chunk duration p50 / p95 (s)':46}"
              f"{statistics.median(chunk_times):6.2f} /{percentile(chunk_times, 0.95):5.2f}")  # fmt: skip
    if batch_times:
        print(f"  {f'batch of {lookups.LOOKUP_BATCH} duration p50 / p95 (ms)':46}"
              f"{statistics.median(batch_times) * 1000:6.1f} /{percentile(batch_times, 0.95) * 1000:5.1f}")  # fmt: skip
    if request_times:
        print(
            f"  {'directory request p50 / p95 (ms)':46}"
            f"{statistics.median(request_times) * 1000:6.1f} /{percentile(request_times, 0.95) * 1000:5.1f}"
        )
        print(f"  {'share of the scan waiting for the directory':46}{sum(request_times) / scanned * 100:11.1f}%")
    print(f"  {'SQL queries per batch of 25':46}{db_time[1] / max(len(batch_times), 1):12.1f}")
    print(f"  {'share of the scan in SQL queries':46}{db_time[0] / scanned * 100:11.1f}%")
    print(f"  {'share in bulk_update (building + running)':46}{bulk_update_time[0] / scanned * 100:11.1f}%")
    # What the production limit allows: every request waits for its token, so at most PRODUCTION_RATE requests/s.
    limited_rate = min(n / scanned, PRODUCTION_RATE * n / max(requests, 1))
    print()
    print(f"  At the production limit ({PRODUCTION_RATE:g} requests/s = up to {PRODUCTION_RATE * IDENTIFIERS_PER_REQUEST:g}"
          f" identifiers/s per process), this mix needs {requests:,} requests:")  # fmt: skip
    print(f"    {limited_rate:.1f} contacts/s, {n / limited_rate / 60:.1f} minutes for {n:,} customers "
          f"(computed: min(measured, {PRODUCTION_RATE:g} x contacts per request))")  # fmt: skip

    outcomes = dict(
        Contact.objects.filter(environment=environment).values_list("lookup_outcome").annotate(n=Count("pk")).order_by()
    )
    wanted_outcomes: dict[str, int] = {}
    for customer in customers:
        wanted_outcomes[customer.kind.outcome] = wanted_outcomes.get(customer.kind.outcome, 0) + 1
    print()
    print(f"  {'outcome':24}{'expected':>10}{'found':>10}")
    for outcome in sorted(set(wanted_outcomes) | set(outcomes)):
        print(f"  {outcome:24}{wanted_outcomes.get(outcome, 0):10,d}{outcomes.get(outcome, 0):10,d}")
    print(f"  {'kind':52}{'customers':>10}")
    for kind in KINDS:
        print(f"    {kind.label:50}{sum(1 for c in customers if c.kind is kind):10,d}")

    if job.state != ContactJob.State.DONE or job.processed != n or job.succeeded != n or job.failed:
        problems.append(f"job {job.state}: {job.processed} processed, {job.succeeded} succeeded, {job.failed} failed "
                        f"of {n}; {job.last_error}")  # fmt: skip
    if outcomes != wanted_outcomes:
        problems.append(f"outcomes {outcomes} instead of {wanted_outcomes}")
    by_number = {customer.number: customer for customer in customers}
    wrong = []
    for number, outcome, scheme, invoices, credit_notes, access_point, checked in Contact.objects.filter(
        environment=environment
    ).values_list("afas_id", "lookup_outcome", "peppol_scheme", "receives_invoices", "receives_credit_notes",
                  "peppol_access_point", "lookup_checked_at"):  # fmt: skip
        kind = by_number[number].kind
        want = (kind.outcome, kind.scheme, kind.receives_invoices, kind.receives_credit_notes,
                by_number[number].access_point, True)  # fmt: skip
        found = (outcome, scheme, invoices, credit_notes, access_point, checked is not None)
        if found != want:
            wrong.append(f"{number} ({kind.label}): {found} instead of {want}")
    if wrong:
        problems.append(f"{len(wrong)} customers with a wrong result, e.g. " + "; ".join(wrong[:3]))
    if (requests, counting.identifiers) != (want_requests, want_identifiers):
        problems.append(f"{requests} requests about {counting.identifiers} identifiers instead of {want_requests} "
                        f"about {want_identifiers}")  # fmt: skip
    if counting.errors:
        problems.append(f"{counting.errors} directory requests did not answer 200")
    print()
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not problems:
        print(f"  Every customer's outcome matches the directory; {requests:,} requests, as expected.")
    return 1 if problems else 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--max-per-second", type=float, default=1000.0, help="directory rate limit for the run")
    parser.add_argument("--chunk-seconds", type=float, default=2.0, help="time budget of one chunk")
    parser.add_argument("--seed", type=int, default=42)


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="readiness_scan",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
    )


if __name__ == "__main__":
    sys.exit(main())
