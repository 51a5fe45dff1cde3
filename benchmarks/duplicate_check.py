"""Benchmark of the duplicate verdict on a big table: ``python -m benchmarks.duplicate_check [--rows 1000000]``.

Needs PostgreSQL (``DATABASE_URL=postgres://...``). It creates a throwaway database ``portal_bench_duplicates`` on
that server (never the one in DATABASE_URL), migrates it, loads N earlier IncomingInvoice rows with ``COPY`` (spread
over environments, suppliers, invoice numbers, document types and three years of dates; a small raw_xml), runs
ANALYZE, then times ``portal.incoming_invoices.duplicates.duplicate_verdict`` for a few hundred new documents:
identical resends, same supplier + number + date with other bytes, originals, and originals that eConnect flags as
duplicates (which adds the cross-supplier query). It prints milliseconds per check (median, p95) per kind and the
EXPLAIN ANALYZE of every query the verdict runs.

Exit status 1 when a query is not an index lookup (a sequential scan, or an index scan that filters away more than
``--max-filtered`` rows), naming the index that would make it one. The database is dropped at the end
(``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchmarks import harness
from benchmarks.harness import explain, percentile

BENCH_DB = "portal_bench_duplicates"
KINDS = ("identical resend", "same key, other bytes", "original", "original, eConnect flag")
LOAD_BATCH = 50_000


# --- the earlier documents ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Earlier:
    """What the new documents are built from: some loaded rows, remembered while loading."""

    environment_id: int
    supplier_key: str
    number: str
    issue_date: date
    document_type: str
    sha256: str
    amount: str


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_earlier(*, rows: int, environment_ids: list[int], suppliers: int, seed: int) -> list[Earlier]:
    """COPY ``rows`` acknowledged documents; returns a sample of them to build duplicates from."""
    from django.db import connection

    from portal.incoming_invoices.duplicates import normalise_invoice_number
    from portal.incoming_invoices.models import IncomingInvoice

    rng = random.Random(seed)
    columns = [field.column for field in IncomingInvoice._meta.concrete_fields if field.column != "id"]
    table = IncomingInvoice._meta.db_table
    first_day = date(2023, 1, 1)
    raw_xml = "\\x" + b"<Invoice/>".hex()  # bytea in hex; its backslash is escaped for COPY below
    sample: list[Earlier] = []
    next_number: dict[tuple[int, int], int] = {}
    now = datetime.now(UTC)
    fixed = {
        "parse_error": "",
        "currency": "EUR",
        "supplier_identifiers": "[]",
        "supplier_id": None,
        "tax_amount": None,
        "tax_currency": "",
        "tax_amount_in_tax_currency": None,
        "vat_breakdown": "[]",
        "attachments": "[]",
        "econnect_duplicate_flag": "f",
        "duplicate_verdict": "original",
        "duplicate_of_id": None,
        "duplicate_evidence": "{}",
        "econnect_allowed_statuses": "[]",
        "receiver_evidence": "{}",
        "status": "acknowledged",
        "hold_reason": "",
        "released_at": None,
        "attempts": 1,
        "next_attempt_at": None,
        "dispatched_at": None,
        "last_error_kind": "",
        "last_error_code": "",
        "last_error_message": "",
        "last_error_data": "{}",
        "afas_reference": "",
        "document_removed_at": None,
        "econnect_removed_at": None,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY
        for batch_start in range(0, rows, LOAD_BATCH):
            lines = []
            for index in range(batch_start, min(rows, batch_start + LOAD_BATCH)):
                environment_id = environment_ids[index % len(environment_ids)]
                # A few big suppliers, many small ones: realistic skew.
                supplier = min(int(rng.paretovariate(1.2)) - 1, suppliers - 1)
                counter = next_number.get((environment_id, supplier), 0) + 1
                next_number[(environment_id, supplier)] = counter
                prefix = ("F", "INV-", "2025-", "FAC/")[supplier % 4]
                number = f"{prefix}{counter:05d}"
                credit = rng.random() < 0.08
                issued = first_day + timedelta(days=rng.randrange(3 * 365))
                sha256 = hashlib.sha256(f"{index}-{seed}".encode()).hexdigest()
                amount = f"{rng.randrange(100, 500_000) / 100:.2f}"
                supplier_key = hashlib.sha256(f"{environment_id}:{supplier}".encode()).hexdigest()[:32]
                moment = now - timedelta(days=(rows - index) / 1000)
                values = {
                    **fixed,
                    "created_at": moment.isoformat(),
                    "updated_at": moment.isoformat(),
                    "status_changed_at": moment.isoformat(),
                    "delivered_at": moment.isoformat(),
                    "acknowledged_at": moment.isoformat(),
                    "environment_id": environment_id,
                    "econnect_document_id": f"XCNIN{index:09d}",
                    "raw_xml": raw_xml,
                    "sha256": sha256,
                    "document_type": "credit_note" if credit else "invoice",
                    "invoice_number": number,
                    "normalised_invoice_number": normalise_invoice_number(number),
                    "issue_date": issued.isoformat(),
                    "supplier_name": f"Leverancier {supplier}",
                    "supplier_key": supplier_key,
                    "payable_amount": amount,
                }
                lines.append("\t".join(_copy_text(values[column]) for column in columns))
                if index % (rows // 150 or 1) == 0:
                    sample.append(
                        Earlier(environment_id, supplier_key, number, issued, values["document_type"], sha256, amount)
                    )
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write("\n".join(lines) + "\n")
            done = min(rows, batch_start + LOAD_BATCH)
            rate = done / (time.perf_counter() - started)
            print(f"\r  loaded {done:>9,} of {rows:,} rows ({rate:,.0f} rows/s)", end="", flush=True)
    print()
    return sample


# --- the new documents --------------------------------------------------------------------------------------------


def new_documents(sample: list[Earlier], *, per_kind: int, seed: int) -> list[tuple[str, object]]:
    """(kind, saved IncomingInvoice) for each kind, all later than every loaded row."""
    from portal.incoming_invoices.duplicates import normalise_invoice_number
    from portal.incoming_invoices.models import IncomingInvoice

    rng = random.Random(seed + 1)
    made: list[tuple[str, IncomingInvoice]] = []
    for position in range(per_kind * len(KINDS)):
        kind = KINDS[position % len(KINDS)]
        base = sample[rng.randrange(len(sample))]
        number, issued, sha256, amount = base.number, base.issue_date, base.sha256, base.amount
        flagged = False
        if kind == "same key, other bytes":
            sha256 = hashlib.sha256(f"resent-{position}".encode()).hexdigest()
            amount = amount if (position // len(KINDS)) % 2 else "1.00"  # half duplicates, half amounts differ
        elif kind.startswith("original"):
            number = f"NEW-{position:06d}"
            sha256 = hashlib.sha256(f"new-{position}".encode()).hexdigest()
            flagged = kind.endswith("flag")
        made.append(
            (
                kind,
                IncomingInvoice(
                    environment_id=base.environment_id,
                    econnect_document_id=f"NEW{position:09d}",
                    raw_xml=b"<Invoice/>",
                    sha256=sha256,
                    document_type=base.document_type,
                    invoice_number=number,
                    normalised_invoice_number=normalise_invoice_number(number),
                    issue_date=issued,
                    currency="EUR",
                    supplier_key=base.supplier_key,
                    payable_amount=Decimal(amount),
                    econnect_duplicate_flag=flagged,
                ),
            )
        )
    IncomingInvoice.objects.bulk_create([invoice for _, invoice in made])
    return made


# --- measuring ----------------------------------------------------------------------------------------------------


class QueryLog:
    """The SQL (with parameters) of every query run inside ``capture``."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        self.queries.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


# Which index would turn each query into a lookup, keyed by the columns it filters on.
SUGGESTED = {
    "sha256": 'models.Index(fields=["environment", "sha256"], name="incoming_sha256_idx")',
    "supplier_key": 'models.Index(fields=["environment", "supplier_key", "normalised_invoice_number", '
    '"document_type", "issue_date"], name="incoming_duplicate_key_idx")',
    "cross_supplier": 'models.Index(fields=["environment", "normalised_invoice_number", "issue_date"], '
    'name="incoming_number_date_idx")',
}


def query_kind(sql: str) -> str:
    if '"sha256" =' in sql:
        return "sha256"
    if "NOT (" in sql:  # .exclude(supplier_key=...)
        return "cross_supplier"
    return "supplier_key"


def plan_problem(plan: str, *, max_filtered: int, max_buffers: int) -> str:
    if "Seq Scan" in plan:
        return "sequential scan"
    # An index condition on columns after a gap (e.g. not the second column of the index) walks every entry of
    # the environment without "Rows Removed": the pages touched tell.
    touched = re.search(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?", plan)
    pages = sum(int(n) for n in touched.groups() if n) if touched else 0
    if pages > max_buffers:
        return f"index scan touching {pages:,} pages (a range scan, not a lookup)"
    filtered = [int(n) for n in re.findall(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", plan)]
    if filtered and max(filtered) > max_filtered:
        return f"index scan that filters away {max(filtered):,} rows (not a lookup)"
    return ""


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from portal.incoming_invoices.duplicates import duplicate_verdict
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.organisations.models import Environment, Firm, Organisation

    call_command("migrate", verbosity=0)
    firm = Firm.objects.create(name="Benchmark accountants")
    environment_ids = []
    for index in range(args.environments):
        organisation = Organisation.objects.create(
            firm=firm, name=f"Benchmark klant {index + 1} B.V.", kvk_number=f"{62000000 + index}"
        )
        environment = Environment.objects.create(organisation=organisation, afas_participant_number=f"{50000 + index}")
        environment_ids.append(environment.pk)

    print(f"Loading {args.rows:,} earlier documents over {args.environments} environments ...", flush=True)
    started = time.perf_counter()
    sample = load_earlier(rows=args.rows, environment_ids=environment_ids, suppliers=args.suppliers, seed=args.seed)
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {IncomingInvoice._meta.db_table}")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [IncomingInvoice._meta.db_table])
        size = cursor.fetchone()[0]
    print(f"  {args.rows:,} rows in {loaded:.0f} s; table with indexes: {size}; ANALYZE done", flush=True)

    documents = new_documents(sample, per_kind=args.per_kind, seed=args.seed)
    for _, invoice in documents[: len(KINDS)]:  # warm the connection and the plan cache
        duplicate_verdict(invoice)

    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    verdicts: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    examples: dict[str, tuple[str, tuple]] = {}
    for kind, invoice in documents:
        log = QueryLog()
        with connection.execute_wrapper(log):
            started = time.perf_counter()
            result = duplicate_verdict(invoice)
            elapsed = time.perf_counter() - started
        timings[kind].append(elapsed * 1000)
        verdicts[kind][result.verdict] = verdicts[kind].get(result.verdict, 0) + 1
        for sql, params in log.queries:
            examples.setdefault(query_kind(sql), (sql, params))

    every = [ms for values in timings.values() for ms in values]
    print()
    print(f"Duplicate verdict on {args.rows:,} earlier documents ({args.environments} environments, "
          f"up to {args.suppliers} suppliers each), PostgreSQL {connection.pg_version // 10000}")  # fmt: skip
    print()
    print(f"  {'new document':28}{'checks':>8}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}   verdicts")
    for kind in KINDS:
        values = timings[kind]
        found = ", ".join(f"{verdict} {count}" for verdict, count in sorted(verdicts[kind].items()))
        print(
            f"  {kind:28}{len(values):8d}{statistics.median(values):12.2f}{percentile(values, 0.95):10.2f}"
            f"{max(values):10.2f}   {found}"
        )
    print(
        f"  {'all':28}{len(every):8d}{statistics.median(every):12.2f}{percentile(every, 0.95):10.2f}{max(every):10.2f}"
    )

    problems = []
    labels = {
        "sha256": "identical bytes (environment, sha256)",
        "supplier_key": "same supplier, number, type, date",
        "cross_supplier": "eConnect flag: same number and date, other suppliers",
    }
    for key in ("sha256", "supplier_key", "cross_supplier"):
        if key not in examples:
            continue
        sql, params = examples[key]
        plan = explain(sql, params)
        print()
        print(f"  EXPLAIN ANALYZE: {labels[key]}")
        print(f"    {re.sub(r'^SELECT .*? FROM', 'SELECT ... FROM', sql)}\n    parameters: {params}")
        print("\n".join("    | " + line for line in plan.splitlines()))
        problem = plan_problem(plan, max_filtered=args.max_filtered, max_buffers=args.max_buffers)
        if problem:
            problems.append(f"{labels[key]}: {problem}; missing index: {SUGGESTED[key]}")
    if statistics.median(every) > args.max_median_ms:
        problems.append(f"median {statistics.median(every):.2f} ms above {args.max_median_ms} ms")
    print()
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not problems:
        print("  Every query of the verdict is an index lookup.")
    return 1 if problems else 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--environments", type=int, default=25)
    parser.add_argument("--suppliers", type=int, default=2_000, help="per environment")
    parser.add_argument("--per-kind", type=int, default=100, help="new documents of each kind")
    parser.add_argument("--max-filtered", type=int, default=1_000, help="rows an index scan may filter away")
    parser.add_argument("--max-buffers", type=int, default=50, help="pages one lookup may touch")
    parser.add_argument("--max-median-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=42)


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="duplicate_check",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
    )


if __name__ == "__main__":
    sys.exit(main())
