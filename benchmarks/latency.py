"""Latency from a sales invoice filed in AFAS to submitted at eConnect, by polling and by AFAS Profit's dossier
webhooks: ``python -m benchmarks.latency [--invoices 40] [--rate 0.5]``.

The stack of the campaigns (``campaigns.stack``: a throwaway PostgreSQL database, Redis, a prefork worker with two
processes, celery beat on its production schedule, both simulators over HTTP and the portal's web server) with two
environments polled every 60 s; one of them also has its AFAS webhook set up (the AFAS simulator's "Send webhooks"
job runs every 0.2 s). Invoices are filed at ``--rate`` per second, alternately in each; for each, the seconds from
filing to SUBMITTED. Nothing passes production's waits here: the polled environment waits for its interval.

Targets (issue 19): p95 ≤ the polling interval + 5 s when polled, ≤ 5 s with webhooks. Exit status 1 when one is
missed or an invoice is not submitted exactly once.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.harness import percentile
from campaigns.stack import RECEIVING_DEBTORS, CampaignError, running_stack, wait_until

DB_NAME = "portal_bench_latency"
POLL_INTERVAL = 60


def hook_up(stack, tenant) -> None:
    """The tenant's AFAS webhook: set up in the portal, entered in AFAS (the simulator) by its administrator."""
    import httpx

    from portal.organisations.models import Environment
    from portal.webhooks.afas import afas_hook_address, environment_set_up_afas_webhooks

    environment = Environment.objects.get(afas_participant_number=tenant.participant)
    password = environment_set_up_afas_webhooks(environment=environment, actor=None)
    response = httpx.post(
        f"{stack.afas.url}/_sim/environments/{tenant.key}/webhooks",
        json={"url": afas_hook_address(environment), "password": password},
        timeout=30,
    )
    response.raise_for_status()


def run(args: argparse.Namespace) -> int:
    with running_stack(
        db_name=DB_NAME, environments=2, lease_seconds=10.0, overrides={}, keep=args.keep_db, deployed_worker=True
    ) as stack:
        from django.db.models import Count

        from campaigns import checks
        from portal.organisations.models import Environment
        from portal.outgoing_invoices.models import OutgoingInvoice

        polled, hooked = stack.tenants
        Environment.objects.update(receiving_enabled=False, sending_enabled=True, poll_interval_seconds=POLL_INTERVAL)
        hook_up(stack, hooked)
        print(f"Stack up; filing {args.invoices} invoices at {args.rate:g}/s in {polled.key} (polled every "
              f"{POLL_INTERVAL} s) and {hooked.key} (polled, and AFAS webhooks) ...", flush=True)  # fmt: skip
        filed: dict[tuple[str, str], float] = {}
        for number in range(args.invoices):
            due = time.time() + 1.0 / args.rate
            tenant = (polled, hooked)[number % 2]
            invoice_number = stack.issue_outgoing(tenant, RECEIVING_DEBTORS[number % len(RECEIVING_DEBTORS)])
            filed[(tenant.participant, invoice_number)] = time.time()
            time.sleep(max(0.0, due - time.time()))
        accepted = (OutgoingInvoice.Status.SUBMITTED, OutgoingInvoice.Status.DELIVERED)
        done = wait_until(
            lambda: OutgoingInvoice.objects.filter(status__in=accepted).count() >= args.invoices,
            timeout=POLL_INTERVAL * 2 + 60,
            every=0.5,
        )
        rows = OutgoingInvoice.objects.filter(status__in=accepted).values_list(
            "environment__afas_participant_number", "invoice_number", "submitted_at"
        )
        latencies: dict[str, list[float]] = {polled.participant: [], hooked.participant: []}
        for participant, invoice_number, submitted_at in rows:
            if (participant, invoice_number) in filed:
                latencies[participant].append(submitted_at.timestamp() - filed[(participant, invoice_number)])
        problems = [] if done else [f"only {sum(map(len, latencies.values()))} of {args.invoices} submitted"]
        for tenant in (polled, hooked):
            sent = checks.sent_at_econnect(stack, tenant)
            if any(count != 1 for count in sent.values()):
                problems.append(f"{tenant.key}: sent more than once: {dict(sent)}")
        statuses = dict(OutgoingInvoice.objects.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    print()
    print(f"Latency, filed in AFAS → submitted at eConnect: {args.invoices} invoices at {args.rate:g}/s; {statuses}")
    print(f"  {'':40}{'count':>7}{'median s':>10}{'p95 s':>8}{'max s':>8}{'target':>10}")
    for label, participant, target in (
        (f"polled every {POLL_INTERVAL} s", polled.participant, POLL_INTERVAL + 5),
        ("AFAS webhooks (and polled)", hooked.participant, 5),
    ):
        values = latencies[participant]
        if not values:
            problems.append(f"{label}: nothing submitted")
            continue
        p95 = percentile(values, 0.95)
        print(f"  {label:40}{len(values):7d}{percentile(values, 0.5):10.1f}{p95:8.1f}{max(values):8.1f}"
              f"{f'≤ {target}':>10}")  # fmt: skip
        if p95 > target:
            problems.append(f"{label}: p95 {p95:.1f} s over the target of {target} s")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=40)
    parser.add_argument("--rate", type=float, default=0.5, help="invoices filed per second (both environments)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep {DB_NAME} and the logs")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CampaignError as exc:
        print(f"FAILED: the stack cannot run: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
