"""Benchmark of sending through a real worker: ``python -m benchmarks.sending [--invoices 1000] [--environments 10]``.

Needs PostgreSQL and Redis (``DATABASE_URL=postgres://...``, ``CELERY_BROKER_URL=redis://...``). It creates a
throwaway database ``portal_bench`` on that server (never the one in DATABASE_URL), migrates it, serves both
simulators over HTTP from threads, starts a Celery worker (prefork, concurrency 2) and drives
collect → validate → submit → delivered for N invoices spread over M environments. Then it prints invoices per second
and, per invoice, the time the worker spent in Peppol validation, in HTTP calls (AFAS, eConnect, Peppol lookup) and
in database queries, beside the task time and the wall time. The database is dropped at the end (``--keep-db`` keeps
it). Exit status 1 when an invoice is not delivered or was sent more than once.

The stage times are measured inside the worker: ``celery -A benchmarks.sending`` imports this module, which wraps
``Validator.validate``, ``HttpClient.request`` (and ``HttpClient.__init__``) and installs a ``connection.execute_wrapper``; each task adds its
figures to Redis keys under ``bench:sending:``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import (
    QueryBudget,
    http_get,
    http_post,
    install_task_timing,
    read_figures,
    serve,
    start_workers,
    stop_worker,
    timed,
    wait_for,
)
from tests.stack.world import debtor_rows

BENCH_DB = "portal_bench"
KEY_PREFIX = "bench:sending:"
INSTRUMENT_ENV = "BENCH_SENDING_INSTRUMENT"
STAGES = ("validation", "http", "http_setup", "db")
# prepare+submit about 2.5 per invoice (a task of ten writes each step's moves together) and the status follow-up 4;
# a collect 40 per environment (its pages), dispatch and work_due runs beside it.
QUERY_BUDGET = QueryBudget(per_document=8, per_environment=60)


# --- inside the worker: timing of the stages ------------------------------------------------------------------------


def _install_instrumentation() -> None:
    from integrations.http import HttpClient
    from integrations.peppol.validation import Validator

    Validator.validate = timed("validation", Validator.validate)
    HttpClient.request = timed("http", HttpClient.request)
    # Building a client (an httpx.Client, with its TLS context) is not a request but is paid per client.
    HttpClient.__init__ = timed("http_setup", HttpClient.__init__)
    install_task_timing(KEY_PREFIX)


if __name__ != "__main__" and os.environ.get(INSTRUMENT_ENV) == "1":
    from portal.celery_app import app  # noqa: F401 - ``celery -A benchmarks.sending`` finds the app here

    _install_instrumentation()


# --- the benchmark ----------------------------------------------------------------------------------------------


RECEIVING_DEBTORS = ("10001", "10002", "10003", "10007", "10012")


def set_up_world(afas_url: str, econnect_url: str, *, environments: int, invoices: int) -> list[dict]:
    """Environments in both simulators and in the portal, and the invoices issued in AFAS."""
    import httpx

    from integrations.afas.simulator.documents import nl_vat
    from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier
    from portal.organisations.services import environment_set_credentials

    firm = Firm.objects.create(name="Benchmark accountants")
    specs = []
    for index in range(environments):
        participant, kvk = f"{40000 + index}", f"{61000000 + index}"
        spec = {
            "participant": participant,
            "kvk": kvk,
            "name": f"Benchmark klant {index + 1} B.V.",
            "token": f"<token><version>1</version><data>bench-{participant}</data></token>",
            "app_key": f"bench-app-key-{participant}",
            "app_secret": f"bench-secret-{participant}",
        }
        specs.append(spec)
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
        response = http.post(f"{afas_url}/_sim/fixtures", json=fixtures)
        response.raise_for_status()
        for spec in specs:
            response = http.post(
                f"{econnect_url}/_sim/accounts",
                json={
                    "app_key": spec["app_key"],
                    "app_secret": spec["app_secret"],
                    "network": "production",
                    "name": spec["name"],
                    "parties": [{"id": f"0106:{spec['kvk']}", "name": spec["name"]}],
                },
            )
            response.raise_for_status()
            organisation = Organisation.objects.create(firm=firm, name=spec["name"], kvk_number=spec["kvk"])
            environment = Environment.objects.create(
                organisation=organisation, afas_participant_number=spec["participant"], sending_enabled=True
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
        for number in range(invoices):
            spec = specs[number % environments]
            debtor = RECEIVING_DEBTORS[(number // environments) % len(RECEIVING_DEBTORS)]
            response = http.post(
                f"{afas_url}/_sim/environments/{spec['participant']}-production/sales-invoices",
                json={
                    "debtor": debtor,
                    "lines": [
                        {"description": "Benchmark", "quantity": "3", "price": f"{10 + number % 90}.00", "vat": "21"}
                    ],
                },
            )
            response.raise_for_status()
    return specs


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from integrations.afas import simulator as afas_simulator
    from integrations.econnect import simulator as econnect_simulator
    from portal.celery_app import app
    from portal.outgoing_invoices import tasks
    from portal.outgoing_invoices.models import OutgoingInvoice

    Status = OutgoingInvoice.Status
    call_command("migrate", verbosity=0)
    redis_client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    app.control.purge()
    for key in redis_client.scan_iter(f"{KEY_PREFIX}*"):
        redis_client.delete(key)

    afas_app, econnect_app = afas_simulator.create_app(), econnect_simulator.create_app()
    econnect_simulator.seed_demo(econnect_app)  # the demo customers in the Peppol directory
    afas_server, econnect_server = serve(afas_app), serve(econnect_app)
    afas_url = f"http://127.0.0.1:{afas_server.server_port}"
    econnect_url = f"http://127.0.0.1:{econnect_server.server_port}"
    os.environ["AFAS_BASE_URL_TEMPLATE"] = f"{afas_url}/{{participant}}/{{rest_host}}/ProfitRestServices"
    os.environ["ECONNECT_SOAP_URL"] = f"{econnect_url}/soap/v3.1"
    os.environ["ECONNECT_LOOKUP_URL"] = econnect_url

    print(f"Setting up {args.environments} environments and issuing {args.invoices} invoices in AFAS ...", flush=True)
    set_up_world(afas_url, econnect_url, environments=args.environments, invoices=args.invoices)
    connection.close()

    workers = start_workers(module="benchmarks.sending", instrument_env=INSTRUMENT_ENV,
                            concurrency=args.concurrency, nodes=args.nodes)  # fmt: skip
    try:
        print(f"{args.nodes} worker(s) of {args.concurrency} processes ready; collecting and sending ...", flush=True)
        started = time.perf_counter()
        tasks.dispatch_collects.delay()
        outgoing = OutgoingInvoice.objects.all()
        wait_for(
            lambda: (
                outgoing.filter(status__in=(Status.SUBMITTED, Status.DELIVERED)).count() == args.invoices
                or outgoing.filter(status__in=(Status.NEEDS_ATTENTION, Status.FAILED)).exists()
            ),
            timeout=args.timeout,
            what=f"{args.invoices} invoices submitted",
            tick=tasks.work_due.delay,
            tick_every=args.tick,
        )
        submitted_at = time.perf_counter()
        # eConnect delivers after a minute and the portal first polls after 30 s: both clocks move at once.
        http_post(f"{econnect_url}/_sim/clock", {"advance": 120})
        outgoing.filter(status=Status.SUBMITTED).update(next_attempt_at=timezone.now())
        wait_for(
            lambda: (
                not outgoing.exclude(status=Status.DELIVERED).exists()
                or outgoing.filter(status__in=(Status.NEEDS_ATTENTION, Status.FAILED)).exists()
            ),
            timeout=args.timeout,
            what=f"{args.invoices} invoices delivered",
            tick=tasks.work_due.delay,
            tick_every=args.tick,
        )
        delivered_at = time.perf_counter()
        counts = http_get(f"{econnect_url}/_sim/sent")["counts"]
        idle = measure_idle_polls(args.idle_polls, afas_url, econnect_url) if args.idle_polls else None
    finally:
        for worker in workers:
            stop_worker(worker)
        for server in (afas_server, econnect_server):
            server.shutdown()
            server.server_close()

    figures = read_figures(redis_client, KEY_PREFIX)
    for key in redis_client.scan_iter(f"{KEY_PREFIX}*"):
        redis_client.delete(key)
    statuses = dict(OutgoingInvoice.objects.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    report(args, figures, statuses, counts, started, submitted_at, delivered_at)
    if idle:
        print(f"  idle poll (nothing new; in this process, over HTTP): a collect {idle['collect']:.1f} ms, a fetch "
              f"{idle['fetch']:.1f} ms (mean of {args.idle_polls} each)")  # fmt: skip
    if args.summary_json:
        summary = {
            "invoices": args.invoices, "nodes": args.nodes, "concurrency": args.concurrency,
            "to_submitted_seconds": submitted_at - started, "to_delivered_seconds": delivered_at - started,
            "task_ms_per_invoice": sum(v for k, v in figures.items() if k.startswith("task:")) / args.invoices * 1000,
            "validation_ms_per_invoice": figures.get("validation", 0.0) / args.invoices * 1000,
            "queries_per_invoice": figures.get("db_queries", 0) / args.invoices,
            "delivered": statuses.get(Status.DELIVERED, 0),
            "sent_once": len(counts) == args.invoices and all(count == 1 for count in counts.values()),
        }  # fmt: skip
        Path(args.summary_json).write_text(json.dumps(summary))
    problems = []
    if statuses.get(Status.DELIVERED, 0) != args.invoices:
        problems.append(f"not all delivered: {statuses}")
    if len(counts) != args.invoices or any(count != 1 for count in counts.values()):
        duplicates = {key: count for key, count in counts.items() if count != 1}
        problems.append(f"eConnect received {len(counts)} distinct invoices; sent more than once: {duplicates}")
    over_budget = QUERY_BUDGET.problem(figures.get("db_queries", 0), args.invoices, args.environments, "invoice")
    if over_budget:
        problems.append(over_budget)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def measure_idle_polls(polls: int, afas_url: str, econnect_url: str) -> dict[str, float]:
    """Mean milliseconds of a collect and of an inbox fetch that find nothing new: what polling costs an environment
    between invoices (the sizing's figure). Run here, with the worker idle, against the simulators over HTTP."""
    from django.conf import settings

    from portal.incoming_invoices.services import incoming_fetch
    from portal.organisations.models import Environment
    from portal.outgoing_invoices.services import outgoing_collect

    settings.AFAS_BASE_URL_TEMPLATE = f"{afas_url}/{{participant}}/{{rest_host}}/ProfitRestServices"
    settings.ECONNECT_SOAP_URL, settings.ECONNECT_LOOKUP_URL = f"{econnect_url}/soap/v3.1", econnect_url
    Environment.objects.update(receiving_enabled=True)
    environments = list(Environment.objects.all())
    spent = {"collect": 0.0, "fetch": 0.0}
    for number in range(polls + len(environments)):  # the first round warms up (and starts each inbox cursor)
        environment = environments[number % len(environments)]
        for name, poll in (("collect", outgoing_collect), ("fetch", incoming_fetch)):
            began = time.perf_counter()
            result = poll(environment=environment)
            if number >= len(environments):
                spent[name] += time.perf_counter() - began
            assert result.ran and not getattr(result, "created", 0) and not getattr(result, "stored", 0), result
    return {name: seconds / polls * 1000 for name, seconds in spent.items()}


def report(args, figures, statuses, counts, started, submitted_at, delivered_at) -> None:
    n = args.invoices
    to_submitted, to_delivered = submitted_at - started, delivered_at - started
    task_seconds = sum(value for key, value in figures.items() if key.startswith("task:"))
    stage = {name: figures.get(name, 0.0) for name in STAGES}
    other = task_seconds - sum(stage.values())

    def ms(seconds: float) -> str:
        return f"{seconds / n * 1000:9.2f}"

    print()
    print(f"Sending benchmark: {n} invoices over {args.environments} environments, {args.nodes} worker(s) "
          f"(prefork, {args.concurrency} processes each)")  # fmt: skip
    print(f"  work_due enqueued every {args.tick:g} s, as beat does")
    print(f"  statuses: {statuses}; at eConnect: {len(counts)} distinct, max {max(counts.values(), default=0)} each")
    print()
    print(f"  {'':42}{'seconds':>10}{'inv/s':>10}")
    print(f"  {'wall: collect → validate → submitted':42}{to_submitted:10.1f}{n / to_submitted:10.1f}")
    print(f"  {'wall: ... → delivered (status polled)':42}{to_delivered:10.1f}{n / to_delivered:10.1f}")
    print()
    print(f"  {'per invoice, summed over worker tasks':42}{'ms':>10}{'share':>10}")
    for name, label in (("validation", "Peppol validation"), ("http", "HTTP requests (AFAS, eConnect, lookup)"),
                        ("http_setup", "HTTP client construction (TLS context)"),
                        ("db", "database queries")):  # fmt: skip
        share = stage[name] / task_seconds * 100 if task_seconds else 0.0
        print(f"  {label:42}{ms(stage[name])}{share:9.1f}%")
    print(
        f"  {'other (Python, XML, serialisation)':42}{ms(other)}{other / task_seconds * 100 if task_seconds else 0:9.1f}%"
    )
    print(f"  {'total task time':42}{ms(task_seconds)}{100.0:9.1f}%")
    print(f"  {'wall time (all processes in parallel)':42}{ms(to_delivered)}")
    print()
    print(f"  {QUERY_BUDGET.line(figures.get('db_queries', 0), n, args.environments, 'invoice')}")
    # Collect → submitted is every task but the status follow-up, which runs once the invoice is submitted.
    follow_up = figures.get("task:outgoing.follow_status", 0.0)
    validation = stage["validation"] or float("nan")
    print()
    print(f"  issue 19 targets: {n / to_submitted:.1f} invoices/s to submitted (target ≥ 50); task time collect → "
          f"submitted {(task_seconds - follow_up) / validation:.1f}× the validation time (target ≤ 3×; "
          f"{task_seconds / validation:.1f}× with the status follow-up)")  # fmt: skip
    print()
    harness.print_task_table(figures)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--environments", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each phase")
    parser.add_argument("--tick", type=float, default=15.0, help="seconds between work_due runs (beat: 15)")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    parser.add_argument("--nodes", type=int, default=1, help="worker nodes (separate celery worker -n processes)")
    parser.add_argument("--summary-json", help="also write the figures to this file (benchmarks.scale_out)")
    parser.add_argument("--idle-polls", type=int, default=100, help="collects and fetches that find nothing (0: none)")


def main(argv: list[str] | None = None) -> int:
    return harness.main(
        argv,
        benchmark="sending",
        description=__doc__,
        bench_db=BENCH_DB,
        arguments=_arguments,
        run=run,
        needs_broker=True,
    )


if __name__ == "__main__":
    sys.exit(main())
