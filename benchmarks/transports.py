"""Benchmark of eConnect's two transports side by side through a real worker and beat:
``python -m benchmarks.transports [--environments 10] [--invoices 1000] [--documents 1000] [--latency-documents 60]
[--rate 2]``.

The stack of the campaigns (``campaigns.stack``: a throwaway PostgreSQL database, Redis, a prefork worker with two
processes, celery beat, both simulators over HTTP and the portal's web server for PSB's webhooks) with
``--environments`` environments on the platform SOAP API and as many on eConnect PSB (the issue's setup: 1,000
invoices over 10 environments, one transport at a time). Measured:

- sending: invoices issued in AFAS, collected, validated and accepted by eConnect (SOAP: outbox searched first
  after any doubt; PSB: the document id, a repeat answered 409), invoices per second;
- receiving: purchase invoices waiting at eConnect (in the inbox; over PSB their webhooks held back meanwhile),
  taken in (SOAP: the inbox fetched by the poll; PSB: announced by webhook, eConnect posting them once released,
  and downloaded), delivered to AFAS and acknowledged (SOAP: a status set; PSB: an Invoice Response AB), per
  second;
- latency over PSB: documents arriving at ``--rate`` per second; for each, the time from the webhook reaching the
  portal to the document accepted by AFAS (median and p95).

Before each phase the previous one's follow-ups (status polls, pushed statuses, webhook events) are left to finish,
so that one phase's aftermath is not measured as the next phase's cost.

Each invoice must reach eConnect once and each document AFAS once; exit status 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.harness import percentile
from campaigns.stack import RECEIVING_DEBTORS, CampaignError, running_stack, wait_until

DB_NAME = "portal_bench_transports"


def _ticking(stack, every: float = 1.0):
    """What beat does, at most every ``every`` seconds: production's waits pass and the periodic tasks are sent."""
    last = [0.0]

    def tick() -> None:
        if time.monotonic() - last[0] >= every:
            last[0] = time.monotonic()
            stack.time_passes()
            stack.send_periodic()

    return tick


def _environments(stack, transport: str) -> list:
    return [tenant for tenant in stack.tenants if tenant.transport == transport]


def _switch(stack, *, sending: list = (), receiving: list = ()) -> None:
    """Only these tenants send or receive (PSB receives by webhook regardless: receiving only gates the poll)."""
    from portal.organisations.models import Environment

    participants = {tenant.participant for tenant in sending}
    Environment.objects.update(sending_enabled=False, receiving_enabled=False)
    Environment.objects.filter(afas_participant_number__in=participants).update(sending_enabled=True)
    Environment.objects.filter(afas_participant_number__in={t.participant for t in receiving}).update(
        receiving_enabled=True
    )


def settle(stack, timeout: float) -> float | None:
    """Wait until the previous phase's follow-ups are done (status polls and pushed statuses of what was sent,
    webhook events, queued tasks), so that they do not run inside the next phase's measurement. The seconds it took;
    None when it did not settle within ``timeout`` (the next phase is then measured anyway)."""
    from portal.outgoing_invoices.models import OutgoingInvoice
    from portal.webhooks.models import WebhookEvent

    def quiet() -> bool:
        return (
            not OutgoingInvoice.objects.filter(status=OutgoingInvoice.Status.SUBMITTED).exists()
            and not WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PENDING).exists()
            and stack.queue_length() == 0
        )

    started = time.perf_counter()
    settled = wait_until(quiet, timeout=timeout, every=0.2, tick=_ticking(stack))
    return time.perf_counter() - started if settled else None


def measure_sending(stack, transport: str, invoices: int, timeout: float) -> tuple[float, list[str]]:
    """(seconds from switching sending on to every invoice accepted by eConnect, problems)."""
    from campaigns import checks
    from portal.outgoing_invoices.models import OutgoingInvoice

    tenants = _environments(stack, transport)
    _switch(stack)
    issued = {tenant.key: [] for tenant in tenants}
    for number in range(invoices):
        tenant = tenants[number % len(tenants)]
        issued[tenant.key].append(stack.issue_outgoing(tenant, RECEIVING_DEBTORS[number % len(RECEIVING_DEBTORS)]))
    accepted = (OutgoingInvoice.Status.SUBMITTED, OutgoingInvoice.Status.DELIVERED)
    ours = OutgoingInvoice.objects.filter(environment__afas_participant_number__in=[t.participant for t in tenants])
    started = time.perf_counter()
    _switch(stack, sending=tenants)
    done = wait_until(
        lambda: ours.filter(status__in=accepted).count() >= invoices,
        timeout=timeout,
        every=0.2,
        tick=_ticking(stack),
    )
    seconds = time.perf_counter() - started
    problems = [] if done else [f"{transport}: only {ours.filter(status__in=accepted).count()} of {invoices} sent"]
    for tenant in tenants:
        sent = checks.sent_at_econnect(stack, tenant)
        twice = {number: count for number, count in sent.items() if count > 1}
        missing = [number for number in issued[tenant.key] if not sent[number]]
        if twice or missing:
            problems.append(f"{tenant.key}: sent twice {twice}, never sent {missing[:5]}")
    return seconds, problems


def measure_receiving(stack, transport: str, documents: int, timeout: float, prefix: str) -> tuple[float, list[str]]:
    """(seconds from the documents being there to every one in AFAS and acknowledged, problems)."""
    from campaigns import checks
    from portal.incoming_invoices.models import IncomingInvoice

    tenants = _environments(stack, transport)
    _switch(stack)
    expected = {tenant.key: {} for tenant in tenants}
    _hold_webhooks(stack, True)  # over PSB the documents' webhooks wait too, as a SOAP inbox waits for the poll
    for number in range(documents):
        tenant = tenants[number % len(tenants)]
        external_id, sha256 = stack.inject_incoming(tenant, f"{prefix}-{number:06d}")
        expected[tenant.key][external_id] = sha256
    started = time.perf_counter()
    _hold_webhooks(stack, False)
    _switch(stack, receiving=tenants)
    ours = IncomingInvoice.objects.filter(environment__afas_participant_number__in=[t.participant for t in tenants])
    done = wait_until(
        lambda: ours.filter(status=IncomingInvoice.Status.ACKNOWLEDGED).count() >= documents,
        timeout=timeout,
        every=0.2,
        tick=_ticking(stack),
    )
    seconds = time.perf_counter() - started
    acknowledged = ours.filter(status=IncomingInvoice.Status.ACKNOWLEDGED).count()
    problems = [] if done else [f"{transport}: only {acknowledged} of {documents} in AFAS and acknowledged"]
    for tenant in tenants:
        in_afas = checks.afas_deliveries(stack, tenant.key)
        wanted = set(expected[tenant.key].values())
        if set(in_afas) != wanted or any(count != 1 for count in in_afas.values()):
            problems.append(f"{tenant.key}: AFAS holds {sum(in_afas.values())} for {len(wanted)} documents")
    return seconds, problems


def _hold_webhooks(stack, held: bool) -> None:
    stack.econnect_post("/_sim/psb/webhooks/hold", {"held": held})


def measure_latency(stack, documents: int, rate: float, timeout: float) -> tuple[list[float], list[str]]:
    """Seconds from each webhook reaching the portal to its document accepted by AFAS, at ``rate`` per second."""
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.webhooks.models import WebhookEvent

    tenants = _environments(stack, "psb")
    _switch(stack)
    ids = []
    for number in range(documents):
        due = time.perf_counter() + 1.0 / rate
        ids.append(stack.inject_incoming(tenants[number % len(tenants)], f"LAT-{number:06d}")[0])
        time.sleep(max(0.0, due - time.perf_counter()))
    ours = IncomingInvoice.objects.filter(econnect_document_id__in=ids)
    done = wait_until(lambda: ours.filter(delivered_at__isnull=False).count() >= documents, timeout=timeout, every=0.2)
    arrived = dict(WebhookEvent.objects.filter(document_id__in=ids).values_list("document_id", "received_at"))
    latencies = [
        (delivered - arrived[document_id]).total_seconds()
        for document_id, delivered in ours.exclude(delivered_at=None).values_list(
            "econnect_document_id", "delivered_at"
        )
        if document_id in arrived
    ]
    return latencies, ([] if done else [f"latency: only {len(latencies)} of {documents} reached AFAS"])


def run(args: argparse.Namespace) -> int:
    # The portal's web server runs under gunicorn as deployed: in this process, PSB's webhook requests would wait for
    # the simulators' and the benchmark's Python. The worker runs with DEBUG off, as deployed.
    with running_stack(db_name=DB_NAME, environments=2 * args.environments, lease_seconds=10.0, overrides={}, keep=args.keep_db,
                       web_processes=True, deployed_worker=True) as stack:  # fmt: skip
        print(f"Stack up: {len(stack.tenants)} environments "
              f"({', '.join(f'{t.key} {t.transport}' for t in stack.tenants)}), worker and beat running.", flush=True)  # fmt: skip
        figures, problems, latencies = {}, [], []

        def settled() -> None:
            seconds = settle(stack, args.settle_timeout)
            print(f"  ... settled in {seconds:.1f} s" if seconds is not None else "  ... not settled", flush=True)

        for transport in args.transports if "send" in args.directions else ():
            settled()
            print(f"Sending {args.invoices} invoices over {transport} ...", flush=True)
            seconds, found = measure_sending(stack, transport, args.invoices, args.timeout)
            figures[f"send {transport}"], problems = seconds, problems + found
        for transport in args.transports if "receive" in args.directions else ():
            settled()
            print(f"Receiving {args.documents} documents over {transport} ...", flush=True)
            seconds, found = measure_receiving(stack, transport, args.documents, args.timeout, f"R{transport}")
            figures[f"receive {transport}"], problems = seconds, problems + found
        if args.latency_documents and "psb" in args.transports:
            settled()
            print(f"Latency: {args.latency_documents} documents at {args.rate:g}/s over PSB ...", flush=True)
            latencies, found = measure_latency(stack, args.latency_documents, args.rate, args.timeout)
            problems += found
    report(args, figures, latencies)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def report(args, figures: dict[str, float], latencies: list[float]) -> None:
    print()
    print(f"eConnect transports: {args.environments} environments each, 1 worker (prefork, 2 processes) and beat")
    print(f"  {'':44}{'items':>8}{'seconds':>10}{'per s':>10}")
    for direction, count in (("send", args.invoices), ("receive", args.documents)):
        for transport in ("soap", "psb"):
            seconds = figures.get(f"{direction} {transport}")
            if seconds is None:
                continue
            label = f"{direction} over {'the platform SOAP API' if transport == 'soap' else 'eConnect PSB'}"
            print(f"  {label:44}{count:8d}{seconds:10.1f}{count / seconds:10.1f}")
    if latencies:
        print()
        print(f"  webhook received → document in AFAS, {len(latencies)} documents at {args.rate:g}/s:")
        print(f"    median {percentile(latencies, 0.5) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms")  # fmt: skip


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--environments", type=int, default=10, help="environments per transport")
    parser.add_argument("--invoices", type=int, default=1000, help="sales invoices per transport")
    parser.add_argument("--documents", type=int, default=1000, help="purchase invoices per transport")
    parser.add_argument("--transports", type=_names, default=["soap", "psb"], help="soap,psb (the default) or one")
    parser.add_argument("--directions", type=_names, default=["send", "receive"], help="send,receive or one")
    parser.add_argument("--latency-documents", type=int, default=60, help="0: no latency run")
    parser.add_argument("--rate", type=float, default=2.0, help="documents per second in the latency run")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each phase")
    parser.add_argument(
        "--settle-timeout", type=float, default=180.0, help="seconds to wait for a phase's follow-ups before the next"
    )
    parser.add_argument("--keep-db", action="store_true", help=f"keep {DB_NAME} and the logs")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CampaignError as exc:
        print(f"FAILED: the stack cannot run: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
