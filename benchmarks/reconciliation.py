"""Benchmark of the nightly reconciliation: ``python -m benchmarks.reconciliation [--documents 2000]``.

Needs PostgreSQL (``DATABASE_URL=postgres://...``); creates and drops the throwaway database
``rel_reconciliation_bench``. Serves both simulators over HTTP from threads and builds one environment whose eConnect
outbox and inbox each hold ``--documents`` documents of the last days, all known to the portal (sent and delivered;
received, delivered to AFAS and acknowledged) and all in AFAS. Then it makes the three sides disagree in
``--each`` places per kind (a delivery removed from AFAS, an inbox and an outbox document the portal never saw, a
sent invoice eConnect reports failed while the portal says delivered, an acknowledged one eConnect lists as new),
runs the reconciliation twice and prints the time per run, documents per second and what was found. Exit status 1
when a run does not find exactly the planted disagreements, or the rerun adds a finding.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchmarks import harness
from benchmarks.harness import serve

BENCH_DB = "rel_reconciliation_bench"
PARTICIPANT, KVK, CUSTOMER_KVK = "46001", "64000001", "64999999"
TOKEN = "<token><version>1</version><data>bench-reconciliation</data></token>"
APP_KEY, APP_SECRET = "bench-reconciliation", "bench-reconciliation-secret"


def _document(number: str, *, supplier_kvk: str, customer_kvk: str, issued: date) -> bytes:
    from integrations.peppol.model import Address, Identifier, Party
    from tests.stack.world import purchase_document

    customer = Party(
        name=f"Klant {customer_kvk} B.V.",
        endpoint=Identifier("0106", customer_kvk),
        legal_id=Identifier("0106", customer_kvk),
        address=Address(country_code="NL", street="Dorpsstraat 1", city="Zwolle", postal_zone="8011 AA"),
    )
    return purchase_document(customer, int(supplier_kvk) % 37, number, issued, Decimal(25))


def set_up(afas_app, econnect_app, *, documents: int, each: int) -> dict:
    """One environment in both simulators and the portal, everything in agreement; then the planted disagreements."""
    from integrations.econnect.simulator import statuses
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier
    from portal.organisations.services import environment_set_credentials
    from portal.outgoing_invoices.models import OutgoingInvoice

    firm = Firm.objects.create(name="Benchmark reconciliation")
    organisation = Organisation.objects.create(firm=firm, name="Afstemming B.V.", kvk_number=KVK)
    environment = Environment.objects.create(
        organisation=organisation, afas_participant_number=PARTICIPANT, sending_enabled=True, receiving_enabled=True
    )
    environment_set_credentials(
        environment=environment, actor=None, afas_token=TOKEN, econnect_app_key=APP_KEY, econnect_app_secret=APP_SECRET
    )
    OwnPeppolIdentifier.objects.create(environment=environment, scheme="0106", value=KVK, receive_active=True)
    key = afas_app.load_environment(
        {
            "participant": PARTICIPANT,
            "organisation": {"name": "Afstemming B.V.", "kvk": KVK},
            "tokens": [{"token": TOKEN, "connectors": None}],
        }
    )
    econnect_app.add_account(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        network="production",
        name="Afstemming B.V.",
        parties=[{"id": f"0106:{KVK}"}],
    )
    now = datetime.now(UTC)
    two_hours_ago = now - timedelta(hours=2)  # older than the grace period: judged
    processed = statuses.inbox_code(statuses.DEFAULT_INBOX_TEMPLATE, "processed")
    outgoing, incoming, delivered = [], [], afas_app.environments[key]["delivered"]["purchase_invoices"]
    with econnect_app.state.lock:
        for n in range(documents):
            issued = date(2026, 1, 1) + timedelta(days=n % 300)
            # received: in eConnect's inbox (processed), in the portal (acknowledged) and in AFAS
            payload = _document(f"INK-{n:06d}", supplier_kvk=f"{70000000 + n % 37}", customer_kvk=KVK, issued=issued)
            doc = econnect_app.receive(receiver_key=APP_KEY, receiver_party=f"0106:{KVK}", payload=payload)
            doc.update(status_code=processed, created_at=two_hours_ago.timestamp())
            incoming.append(
                IncomingInvoice(
                    environment=environment,
                    econnect_document_id=doc["external_id"],
                    raw_xml=payload,
                    sha256=doc["sha256"],
                    invoice_number=f"INK-{n:06d}",
                    issue_date=issued,
                    status=IncomingInvoice.Status.ACKNOWLEDGED,
                    delivered_at=two_hours_ago,
                    acknowledged_at=two_hours_ago,
                )
            )
            delivered.append(
                {
                    "id": len(delivered) + 1,
                    "received_at": (two_hours_ago - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "xml_filename": f"INK-{n:06d}.xml",
                    "xml_b64": base64.b64encode(payload).decode(),
                    "xml_sha256": doc["sha256"],
                    "matched_creditor": None,
                }
            )
            # sent: in eConnect's outbox (delivered) and in the portal (delivered)
            sent = _document(f"VF-{n:06d}", supplier_kvk=KVK, customer_kvk=CUSTOMER_KVK, issued=issued)
            external_id = econnect_app._next_id("XCNUT")
            econnect_app.data["outbox"].append(
                {
                    "external_id": external_id,
                    "account": APP_KEY,
                    "sender": f"0106:{KVK}",
                    "recipient": f"0106:{CUSTOMER_KVK}",
                    "number": f"VF-{n:06d}",
                    "issue_date": issued.isoformat(),
                    "subject": f"Factuur VF-{n:06d}",
                    "payload": base64.b64encode(sent).decode(),
                    "sha256": hashlib.sha256(sent).hexdigest(),
                    "delivery_method": "ToPeppol",
                    "behaviour": "deliver",
                    "state": "delivered",
                    "created_at": two_hours_ago.timestamp(),
                    "modified_at": two_hours_ago.timestamp(),
                    "history": [],
                }
            )
            outgoing.append(
                OutgoingInvoice(
                    environment=environment,
                    afas_identity=f"dossier:{n + 1}",
                    ubl=sent,
                    invoice_number=f"VF-{n:06d}",
                    issue_date=issued,
                    submission_reference=f"bench-{n}",
                    econnect_document_id=external_id,
                    status=OutgoingInvoice.Status.DELIVERED,
                    submitted_at=two_hours_ago,
                )
            )
        econnect_app.state.save()
    afas_app.state.save()
    IncomingInvoice.objects.bulk_create(incoming, batch_size=500)
    OutgoingInvoice.objects.bulk_create(outgoing, batch_size=500)

    # The planted disagreements, ``each`` of every kind.
    step = max(1, documents // (each * 5 + 1))
    planted = {"missing_in_afas": 0, "unseen_inbox": 0, "unseen_outbox": 0, "outgoing_status": 0, "incoming_status": 0}
    with econnect_app.state.lock:
        inbox, outbox = econnect_app.data["inbox"], econnect_app.data["outbox"]
        for i in range(each):
            base = i * 5 * step
            removed = inbox[base]["sha256"]
            delivered[:] = [d for d in delivered if d["xml_sha256"] != removed]  # someone deleted it in AFAS
            planted["missing_in_afas"] += 1
            IncomingInvoice.objects.filter(econnect_document_id=inbox[base + step]["external_id"]).delete()
            planted["unseen_inbox"] += 1
            OutgoingInvoice.objects.filter(econnect_document_id=outbox[base + 2 * step]["external_id"]).delete()
            planted["unseen_outbox"] += 1
            outbox[base + 3 * step]["state"] = "failed"
            planted["outgoing_status"] += 1
            inbox[base + 4 * step]["status_code"] = statuses.NEW_CODE
            planted["incoming_status"] += 1
        econnect_app.state.save()
    afas_app.state.save()
    return {"environment": environment, "planted": planted}


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries

    from integrations.afas import simulator as afas_simulator
    from integrations.econnect import simulator as econnect_simulator
    from portal.reconciliation.models import ReconciliationFinding
    from portal.reconciliation.services import reconciliation_run_now

    call_command("migrate", verbosity=0)
    afas_app, econnect_app = afas_simulator.create_app(), econnect_simulator.create_app()
    afas_server, econnect_server = serve(afas_app), serve(econnect_app)
    settings.AFAS_BASE_URL_TEMPLATE = (
        f"http://127.0.0.1:{afas_server.server_port}/{{participant}}/{{rest_host}}/ProfitRestServices"
    )
    settings.ECONNECT_SOAP_URL = f"http://127.0.0.1:{econnect_server.server_port}/soap/v3.1"
    settings.ECONNECT_LOOKUP_URL = f"http://127.0.0.1:{econnect_server.server_port}"
    settings.RECONCILIATION_MAX_DOCUMENTS = max(5000, args.documents + 100)
    try:
        print(f"Building {args.documents} sent and {args.documents} received documents, all sides agreeing ...")
        world = set_up(afas_app, econnect_app, documents=args.documents, each=args.each)
        environment, planted = world["environment"], world["planted"]
        settings.DEBUG = True  # count the queries
        timings, failures = [], []
        for attempt in ("first run", "rerun"):
            reset_queries()
            started = time.perf_counter()
            run = reconciliation_run_now(environment=environment)
            seconds = time.perf_counter() - started
            timings.append(seconds)
            found = {
                kind: ReconciliationFinding.objects.filter(
                    environment=environment, status=ReconciliationFinding.Status.OPEN, kind=kind
                ).count()
                for kind in planted
            }
            compared = sum(v for v in run.counts.values() if isinstance(v, int))
            print(
                f"{attempt}: {run.status} in {seconds:.2f} s, {len(connection.queries)} queries; compared {run.counts}"
                f" ({compared / seconds:,.0f} documents/s); findings opened {run.findings_opened}, open "
                f"{run.findings_still_open}"
            )
            if run.status != "succeeded":
                failures.append(f"{attempt} failed: {run.error}")
            if found != planted:
                failures.append(f"{attempt} found {found}, planted {planted}")
            if attempt == "rerun" and run.findings_opened:
                failures.append(f"the rerun opened {run.findings_opened} findings")
    finally:
        for server in (afas_server, econnect_server):
            server.shutdown()
            server.server_close()
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    print(f"OK: every planted disagreement found once ({sum(planted.values())}), none added by the rerun.")
    return 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--documents", type=int, default=2000, help="sent and received documents each")
    parser.add_argument("--each", type=int, default=5, help="planted disagreements of each kind")


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="reconciliation",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
    )


if __name__ == "__main__":
    sys.exit(main())
