"""Benchmark of receiving through a real worker: ``python -m benchmarks.receiving [--documents 1000] [--environments 10]``.

Needs PostgreSQL and Redis (``DATABASE_URL=postgres://...``, ``CELERY_BROKER_URL=redis://...``). It creates a
throwaway database ``portal_bench_receiving`` on that server (never the one in DATABASE_URL), migrates it, serves
both simulators over HTTP from threads, puts N purchase documents into the eConnect inboxes of M environments (one in
``--resend-every`` a true resend, which must be held) and starts a Celery worker (prefork, concurrency 2) that runs
fetch → parse → duplicate verdict → deliver to AFAS → acknowledge at eConnect (a fetch processes what it stored,
once every listing is read: "fetch → stored" is then the moment the last environment's listing was stored). Then it prints documents per second
and, per document, the time the worker spent parsing, judging duplicates, in HTTP calls to eConnect and AFAS and in
database queries, and the time per task. Exit status 1 when a document is not settled, an original is not in AFAS
exactly once with its exact bytes, or a document is acknowledged without being delivered.

The stage times are measured inside the worker: ``celery -A benchmarks.receiving`` imports this module, which wraps
the parser, the verdict and ``HttpClient.request`` and installs a ``connection.execute_wrapper``; each task adds its
figures to Redis keys under ``bench:receiving:``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchmarks import harness
from benchmarks.harness import (
    QueryBudget,
    http_get,
    install_task_timing,
    read_figures,
    serve,
    start_worker,
    stop_worker,
    timed,
    wait_for,
)
from tests.stack.world import debtor_rows, purchase_document

BENCH_DB = "portal_bench_receiving"
KEY_PREFIX = "bench:receiving:"
INSTRUMENT_ENV = "BENCH_RECEIVING_INSTRUMENT"
STAGES = (
    ("parse", "parse the UBL (hardened parser)"),
    ("verdict", "duplicate verdict (queries)"),
    ("supplier", "resolve supplier identifiers"),
    ("http:eConnect", "HTTP eConnect (list, get, acknowledge)"),
    ("http:AFAS", "HTTP AFAS (deliver)"),
    ("db", "database queries (all)"),
)
# a fetch about 6.5 per document (store, process, deliver, acknowledge: each step's writes for 50 documents
# together) and about 20 per environment (its pages); dispatch and work_due run beside it.
QUERY_BUDGET = QueryBudget(per_document=8, per_environment=40)


# --- inside the worker: timing of the stages ------------------------------------------------------------------------


def _http_stage(client, *args) -> str:
    service = (client.service or "").lower()
    return "http:eConnect" if "econnect" in service else "http:AFAS" if "afas" in service else f"http:{service}"


def _install_instrumentation() -> None:
    from celery.signals import worker_process_init

    from integrations.http import HttpClient

    HttpClient.request = timed(_http_stage, HttpClient.request)

    @worker_process_init.connect(weak=False)
    def _wrap_services(**kwargs) -> None:
        # needs the app registry: only in a ready worker process
        from portal.incoming_invoices import services, summaries

        services.parse_document = timed("parse", services.parse_document)
        services.duplicate_verdict = timed("verdict", services.duplicate_verdict)
        summaries.resolve_supplier_key = timed("supplier", summaries.resolve_supplier_key)

    install_task_timing(KEY_PREFIX)


if __name__ != "__main__" and os.environ.get(INSTRUMENT_ENV) == "1":
    from portal.celery_app import app  # noqa: F401 - ``celery -A benchmarks.receiving`` finds the app here

    _install_instrumentation()


# --- the world ------------------------------------------------------------------------------------------------------


def set_up_world(afas_url: str, econnect_app, *, environments: int, documents: int, resend_every: int) -> dict:
    """Environments in both simulators and the portal, and the documents waiting in their eConnect inboxes.

    Returns environment key → SHA-256 of the documents that must reach AFAS (the originals)."""
    import httpx

    from integrations.afas.simulator.documents import nl_vat
    from integrations.peppol.model import Address, Identifier, Party
    from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier, SyncCursor
    from portal.organisations.services import environment_set_credentials

    switched_on = datetime.now(UTC) - timedelta(minutes=1)

    firm = Firm.objects.create(name="Benchmark accountants")
    specs = []
    for index in range(environments):
        participant, kvk = f"{45000 + index}", f"{63000000 + index}"
        specs.append(
            {
                "participant": participant,
                "key": f"{participant}-production",
                "kvk": kvk,
                "name": f"Benchmark ontvanger {index + 1} B.V.",
                "token": f"<token><version>1</version><data>bench-{participant}</data></token>",
                "app_key": f"bench-receiving-{participant}",
                "app_secret": f"bench-secret-{participant}",
            }
        )
    fixtures = {
        "environments": [
            {
                "participant": spec["participant"],
                "environment_type": "production",
                "edition": "profit",
                "organisation": {"name": spec["name"], "kvk": spec["kvk"], "vat": nl_vat(spec["kvk"])},
                "tokens": [{"token": spec["token"], "connectors": None}],
                "debtors": debtor_rows(),
            }
            for spec in specs
        ]
    }
    with httpx.Client(timeout=30) as http:
        http.post(f"{afas_url}/_sim/fixtures", json=fixtures).raise_for_status()
    expected: dict[str, set[str]] = {spec["key"]: set() for spec in specs}
    with econnect_app.state.lock:
        for spec in specs:
            econnect_app.add_account(
                app_key=spec["app_key"],
                app_secret=spec["app_secret"],
                network="production",
                name=spec["name"],
                parties=[{"id": f"0106:{spec['kvk']}", "name": spec["name"]}],
                duplicates_visible=True,
            )
            organisation = Organisation.objects.create(firm=firm, name=spec["name"], kvk_number=spec["kvk"])
            environment = Environment.objects.create(
                organisation=organisation, afas_participant_number=spec["participant"], receiving_enabled=True
            )
            environment_set_credentials(
                environment=environment,
                actor=None,
                afas_token=spec["token"],
                econnect_app_key=spec["app_key"],
                econnect_app_secret=spec["app_secret"],
            )
            OwnPeppolIdentifier.objects.create(
                environment=environment, scheme="0106", value=spec["kvk"], receive_active=True
            )
            # Receiving was switched on before the documents arrived: the inbox is read from then on.
            SyncCursor.objects.create(
                environment=environment, stream=SyncCursor.Stream.ECONNECT_INBOX, position=switched_on.isoformat()
            )
        previous: dict[str, bytes] = {}
        for number in range(documents):
            spec = specs[number % environments]
            resend = bool(resend_every) and number % resend_every == resend_every - 1 and spec["key"] in previous
            if resend:
                payload = previous[spec["key"]]  # a true resend: the same bytes again
            else:
                customer = Party(
                    name=spec["name"],
                    endpoint=Identifier("0106", spec["kvk"]),
                    legal_id=Identifier("0106", spec["kvk"]),
                    address=Address(country_code="NL", street="Dorpsstraat 1", city="Zwolle", postal_zone="8011 AA"),
                )
                payload = purchase_document(
                    customer,
                    number % 37,
                    f"INK-{number:06d}",
                    date(2025, 1, 1) + timedelta(days=number % 300),
                    Decimal(10 + number % 90),
                )
                previous[spec["key"]] = payload
            doc = econnect_app.receive(
                receiver_key=spec["app_key"], receiver_party=f"0106:{spec['kvk']}", payload=payload
            )
            if not resend:
                expected[spec["key"]].add(doc["sha256"])
        econnect_app.state.save()
    return expected


# --- the run --------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from integrations.afas import simulator as afas_simulator
    from integrations.econnect import simulator as econnect_simulator
    from portal.celery_app import app
    from portal.incoming_invoices import tasks
    from portal.incoming_invoices.models import IncomingInvoice

    Status = IncomingInvoice.Status
    call_command("migrate", verbosity=0)
    redis_client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    app.control.purge()
    for key in redis_client.scan_iter(f"{KEY_PREFIX}*"):
        redis_client.delete(key)

    afas_app, econnect_app = afas_simulator.create_app(), econnect_simulator.create_app()
    afas_server, econnect_server = serve(afas_app), serve(econnect_app)
    afas_url = f"http://127.0.0.1:{afas_server.server_port}"
    econnect_url = f"http://127.0.0.1:{econnect_server.server_port}"
    os.environ["AFAS_BASE_URL_TEMPLATE"] = f"{afas_url}/{{participant}}/{{rest_host}}/ProfitRestServices"
    os.environ["ECONNECT_SOAP_URL"] = f"{econnect_url}/soap/v3.1"
    os.environ["ECONNECT_LOOKUP_URL"] = econnect_url

    worker = None
    try:
        print(
            f"Putting {args.documents} documents into the inboxes of {args.environments} environments ...", flush=True
        )
        expected = set_up_world(
            afas_url,
            econnect_app,
            environments=args.environments,
            documents=args.documents,
            resend_every=args.resend_every,
        )
        originals = sum(len(hashes) for hashes in expected.values())
        connection.close()
        worker = start_worker(module="benchmarks.receiving", instrument_env=INSTRUMENT_ENV)
        print("Worker ready; fetching, judging, delivering and acknowledging ...", flush=True)
        received = IncomingInvoice.objects.all()
        settled = (Status.ACKNOWLEDGED, Status.HELD, Status.FAILED)
        started = time.perf_counter()
        tasks.dispatch_fetches.delay()
        wait_for(
            lambda: received.count() == args.documents,
            timeout=args.timeout,
            what=f"{args.documents} documents stored",
            every=0.1,
        )
        stored_at = time.perf_counter()
        wait_for(
            lambda: received.filter(status__in=settled).count() == args.documents,
            timeout=args.timeout,
            what=f"{args.documents} documents settled",
            tick=tasks.work_due.delay,
            tick_every=args.tick,
            every=0.1,
        )
        settled_at = time.perf_counter()
        delivered = {
            key: Counter(
                entry["xml_sha256"]
                for entry in http_get(f"{afas_url}/_sim/environments/{key}/delivered")["purchase_invoices"]
            )
            for key in expected
        }
        econnect_states = Counter(document["state"] for document in http_get(f"{econnect_url}/_sim/inbox")["documents"])
    finally:
        if worker is not None:
            stop_worker(worker)
        for server in (afas_server, econnect_server):
            server.shutdown()
            server.server_close()

    figures = read_figures(redis_client, KEY_PREFIX, delete=True)
    statuses = dict(received.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    report(args, figures, statuses, econnect_states, originals, started, stored_at, settled_at)

    problems = []
    if statuses.get(Status.ACKNOWLEDGED, 0) != originals:
        problems.append(f"{originals} originals expected acknowledged, statuses: {statuses}")
    for key, hashes in expected.items():
        counts = delivered[key]
        if set(counts) != hashes or any(count != 1 for count in counts.values()):
            problems.append(f"{key}: AFAS has {sum(counts.values())} deliveries of {len(counts)} documents, "
                            f"expected {len(hashes)} each once")  # fmt: skip
    stored = set(received.filter(status=Status.ACKNOWLEDGED).values_list("sha256", flat=True))
    if stored != set().union(*expected.values()):
        problems.append("the bytes stored and acknowledged differ from the bytes put into the inboxes")
    if econnect_states.get("processed", 0) != originals:
        problems.append(f"eConnect has {econnect_states.get('processed', 0)} processed, expected {originals}")
    over_budget = QUERY_BUDGET.problem(figures.get("db_queries", 0), args.documents, args.environments, "document")
    if over_budget:
        problems.append(over_budget)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def report(args, figures, statuses, econnect_states, originals, started, stored_at, settled_at) -> None:
    n = args.documents
    to_stored, to_settled = stored_at - started, settled_at - started
    task_seconds = sum(value for key, value in figures.items() if key.startswith("task:"))
    measured = {name: figures.get(name, 0.0) for name, _ in STAGES}
    # Parse, verdict and supplier time includes their own queries; "db" counts every query once.
    exclusive = sum(measured[name] for name in ("parse", "http:eConnect", "http:AFAS", "db"))
    other = task_seconds - exclusive

    def ms(seconds: float) -> str:
        return f"{seconds / n * 1000:9.2f}"

    print()
    print(f"Receiving benchmark: {n} documents over {args.environments} environments "
          f"({originals} originals, {n - originals} true resends), 1 worker (prefork, 2 processes)")  # fmt: skip
    print(f"  statuses: {statuses}; eConnect inbox states: {dict(econnect_states)}")
    print()
    print(f"  {'':46}{'seconds':>10}{'docs/s':>10}")
    print(f"  {'wall: fetch → stored (all bytes kept)':46}{to_stored:10.1f}{n / to_stored:10.1f}")
    print(f"  {'wall: ... → delivered and acknowledged':46}{to_settled:10.1f}{n / to_settled:10.1f}")
    print()
    print(f"  {'per document, summed over worker tasks':46}{'ms':>10}{'share':>10}")
    for name, label in STAGES:
        share = measured[name] / task_seconds * 100 if task_seconds else 0.0
        print(f"  {label:46}{ms(measured[name])}{share:9.1f}%")
    print(
        f"  {'other (Python, XML, Celery, events)':46}{ms(other)}{other / task_seconds * 100 if task_seconds else 0:9.1f}%"
    )
    print(f"  {'total task time':46}{ms(task_seconds)}{100.0:9.1f}%")
    print(f"  {'wall time (2 processes in parallel)':46}{ms(to_settled)}")
    print("  (verdict and supplier include their queries, which 'database queries' counts too)")
    print()
    print(f"  {QUERY_BUDGET.line(figures.get('db_queries', 0), n, args.environments, 'document')}")
    print()
    besides_parse = (task_seconds - measured["parse"]) / n * 1000
    print(f"  issue 19 targets: {n / to_settled:.1f} documents/s fetch → acknowledged (target ≥ 50); task time "
          f"besides the parse {besides_parse:.1f} ms per document (target ≤ 25)")  # fmt: skip
    print()
    harness.print_task_table(figures)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--environments", type=int, default=10)
    parser.add_argument("--resend-every", type=int, default=25, help="every Nth document is a true resend (0: none)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each phase")
    parser.add_argument("--tick", type=float, default=15.0, help="seconds between work_due runs (beat: 15)")


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="receiving",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
        needs_broker=True,
    )


if __name__ == "__main__":
    sys.exit(main())
