"""Benchmark of document integrity and retention: ``python -m benchmarks.document_retention [--documents 10000]``.

Needs PostgreSQL (``DATABASE_URL=postgres://...``). It creates a throwaway database ``rel_retention_bench`` on that
server (never the one in DATABASE_URL), migrates it, loads N sent and N received documents of about ``--size`` bytes
(UBL-like XML, so PostgreSQL compresses them as it would real invoices; half of them from 2015, delivered or
acknowledged, so their retention period is over), then times:

- the data migration that records the SHA-256 of outgoing invoices stored before the hash existed
  (``outgoing_invoices/0009``, computed in the database on PostgreSQL);
- ``documents verify`` over everything (the documents are streamed through Python and hashed there);
- that verify finds one flipped byte and names the document;
- ``documents expire --dry-run`` and ``documents expire`` (bounded per run), and verify again afterwards.

Exit status 1 when any check fails. The database is dropped at the end (``--keep-db`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import sys
import time
import uuid

from benchmarks import harness

BENCH_DB = "rel_retention_bench"
LOAD_BATCH = 1000


def ubl_like(number: int, size: int) -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
        f'Invoice-2"><cbc:ID>BENCH-{number:08d}</cbc:ID><cbc:IssueDate>2015-06-01</cbc:IssueDate>'
    )
    lines, line = [], 0
    while len(head) + sum(map(len, lines)) < size:
        line += 1
        lines.append(
            f'<cac:InvoiceLine><cbc:ID>{line}</cbc:ID><cbc:InvoicedQuantity unitCode="C62">{(number + line) % 97}'
            f'</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="EUR">{(number * line) % 10000}.50'
            f"</cbc:LineExtensionAmount><cac:Item><cbc:Name>Artikel {line} van factuur {number}</cbc:Name>"
            "</cac:Item></cac:InvoiceLine>\n"
        )
    return (head + "".join(lines) + "</Invoice>").encode()


def load(*, documents: int, size: int, environment_id: int) -> int:
    from django.utils import timezone

    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice

    total_bytes = 0
    for start in range(0, documents, LOAD_BATCH):
        outgoing, incoming = [], []
        for number in range(start, min(start + LOAD_BATCH, documents)):
            sent, received = ubl_like(number, size), ubl_like(documents + number, size)
            total_bytes += len(sent) + len(received)
            outgoing.append(
                OutgoingInvoice(
                    environment_id=environment_id,
                    afas_identity=f"bench:{number}",
                    invoice_number=f"BENCH-{number:08d}",
                    ubl=sent,
                    sha256=hashlib.sha256(sent).hexdigest(),
                    status=OutgoingInvoice.Status.DELIVERED,
                    submission_reference=uuid.uuid4().hex,
                    completed_at=timezone.now(),
                )
            )
            incoming.append(
                IncomingInvoice(
                    environment_id=environment_id,
                    econnect_document_id=f"BENCH-IN-{number:08d}",
                    invoice_number=f"IN-{number:08d}",
                    raw_xml=received,
                    sha256=hashlib.sha256(received).hexdigest(),
                    status=IncomingInvoice.Status.ACKNOWLEDGED,
                )
            )
        OutgoingInvoice.objects.bulk_create(outgoing)
        IncomingInvoice.objects.bulk_create(incoming)
    # Half of each from 2015: their retention period is over.
    for model in (OutgoingInvoice, IncomingInvoice):
        old = model.objects.order_by("pk").values_list("pk", flat=True)[: documents // 2]
        model.objects.filter(pk__in=list(old)).update(created_at=timezone.make_aware(dt.datetime(2015, 6, 1)))
    return total_bytes


def run(args: argparse.Namespace) -> int:
    import importlib

    import django

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    from portal.documents import retention
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.organisations.models import Environment, Firm, Organisation
    from portal.outgoing_invoices.models import OutgoingInvoice

    call_command("migrate", verbosity=0)
    logging.getLogger("portal.documents.retention").setLevel(logging.WARNING)  # not a line per document here
    firm = Firm.objects.create(name="Benchmark accountants")
    organisation = Organisation.objects.create(firm=firm, name="Benchmark klant B.V.", kvk_number="62000000")
    environment = Environment.objects.create(organisation=organisation, afas_participant_number="50000")
    failures = []

    print(f"Loading {args.documents:,} sent and {args.documents:,} received documents of ~{args.size:,} bytes ...")
    started = time.perf_counter()
    total_bytes = load(documents=args.documents, size=args.size, environment_id=environment.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OutgoingInvoice._meta.db_table}; ANALYZE {IncomingInvoice._meta.db_table}")
    print(f"  {2 * args.documents:,} documents, {total_bytes / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s")

    # The data migration, as on a database that had invoices before the hash was recorded.
    OutgoingInvoice.objects.update(sha256="")
    migration = importlib.import_module("portal.outgoing_invoices.migrations.0009_sha256_of_stored_ubl")
    started = time.perf_counter()
    with connection.schema_editor(atomic=False) as editor:
        migration.record_sha256(apps, editor)
    seconds = time.perf_counter() - started
    wrong = sum(
        hashlib.sha256(bytes(ubl)).hexdigest() != sha256
        for ubl, sha256 in OutgoingInvoice.objects.values_list("ubl", "sha256").iterator(chunk_size=500)
    )
    print(f"data migration 0009: {args.documents:,} hashes in {seconds:.2f} s ({args.documents / seconds:,.0f}/s)")
    if wrong:
        failures.append(f"the data migration recorded {wrong} wrong hashes")

    report = retention.documents_verify()
    total = report.total
    print(
        f"verify: {total.checked:,} documents, {total.bytes / 1e6:.0f} MB in {report.seconds:.2f} s "
        f"({total.checked / report.seconds:,.0f} documents/s, {total.bytes / 1e6 / report.seconds:,.0f} MB/s); "
        f"ok {total.ok:,}, mismatched {total.mismatched}, missing {total.missing}"
    )
    if not report.intact or total.ok != 2 * args.documents:
        failures.append("verify did not find every document intact")

    victim = IncomingInvoice.objects.order_by("-pk").values_list("pk", "raw_xml").first()
    flipped = bytearray(bytes(victim[1]))
    flipped[len(flipped) // 2] ^= 0x01
    IncomingInvoice.objects.filter(pk=victim[0]).update(raw_xml=bytes(flipped))
    report = retention.documents_verify()
    print(f"verify after flipping one byte of incoming {victim[0]}: mismatched {report.mismatched}")
    if report.mismatched != [("incoming", victim[0])]:
        failures.append("verify did not name the one flipped document")
    IncomingInvoice.objects.filter(pk=victim[0]).update(raw_xml=bytes(victim[1]))

    started = time.perf_counter()
    preview = retention.documents_expire(dry_run=True, limit=args.limit)
    print(
        f"expire --dry-run: {len(preview.documents):,} listed in {time.perf_counter() - started:.2f} s "
        f"(limit {args.limit:,} of each kind{', reached' if preview.limit_reached else ''})"
    )
    expected = 2 * min(args.documents // 2, args.limit)
    started = time.perf_counter()
    result = retention.documents_expire(limit=args.limit)
    seconds = time.perf_counter() - started
    print(f"expire: {len(result.documents):,} removed in {seconds:.2f} s ({len(result.documents) / seconds:,.0f}/s)")
    if len(preview.documents) != expected or len(result.documents) != expected:
        failures.append(f"expected {expected} documents to expire")

    report = retention.documents_verify()
    print(
        f"verify after expiry: checked {report.total.checked:,}, ok {report.total.ok:,}, "
        f"removed {report.total.removed:,} in {report.seconds:.2f} s"
    )
    if not report.intact or report.total.removed != expected:
        failures.append("verify after expiry did not count the removed documents apart")

    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--documents", type=int, default=10_000, help="sent documents, and as many received")
    parser.add_argument("--size", type=int, default=12_000, help="bytes per document (about)")
    parser.add_argument("--limit", type=int, default=5_000, help="expiry limit per kind per run")


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="document_retention",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
    )


if __name__ == "__main__":
    sys.exit(main())
