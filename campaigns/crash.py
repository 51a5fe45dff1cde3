"""Crash campaign: ``python -m campaigns.crash [--short] [--kills N] [--seconds S] [--seed N]``.

A real stack (``campaigns.stack``: PostgreSQL, Redis, a prefork worker and beat, both simulators over HTTP, and the
portal's web server for eConnect PSB's webhooks) processes a steady stream of outgoing invoices (issued in the AFAS
simulator, collected by the portal, sent to eConnect) and incoming ones (put into eConnect inboxes, fetched or, on
PSB, announced by webhook, delivered to AFAS, acknowledged) over a few environments, every second one on PSB, while
the worker's whole process group is killed with SIGKILL at random moments (1-4 s after it answers; ``--short``:
0.5-2 s) and started again at once. Then the stream stops and the stack drains: the
sweepers recover in-flight states, the due-work dispatchers queue again what died with the worker. A delivery to
AFAS that a kill interrupted is held for a person (AFAS Profit cannot be asked whether it has it): the campaign
does what the accountant does, looks in AFAS and delivers again or marks it resolved.

Checked afterwards, and printed as a table: every outgoing invoice is in the portal once, delivered, and at the
eConnect simulator exactly once; every incoming document is in the portal once, in AFAS exactly once with its bytes,
and acknowledged at eConnect; nothing is left in a non-final status; every invoice's timeline is a connected chain
of status events ending in its status. Exit status 1 on any violation, 2 when the stack cannot run.

Needs PostgreSQL (DATABASE_URL, any database: the campaign creates and drops ``rel_crash_campaign``) and Redis
(CELERY_BROKER_URL, default redis://127.0.0.1:6379/13, a database of its own: it is flushed).
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from campaigns.stack import CampaignError, print_table, running_stack, wait_until

DB_NAME = "rel_crash_campaign"
# The sweepers take over a SUBMITTING or DELIVERING row after this long (production: twice the task time limit).
# Every task here takes well under a second, so no live submit or delivery is taken over.
STUCK_AFTER_SECONDS = 8
OVERRIDES = {
    "DOCUMENT_STUCK_AFTER_SECONDS": str(STUCK_AFTER_SECONDS),
    "DOCUMENT_RETRY_BASE_SECONDS": "1",
    "DOCUMENT_RETRY_MAX_SECONDS": "2",
}


def run(args: argparse.Namespace, seed: int) -> int:
    from campaigns import checks

    rng = random.Random(seed)
    with running_stack(
        db_name=DB_NAME,
        environments=args.environments,
        lease_seconds=args.lease_seconds,
        overrides=OVERRIDES,
        keep=args.keep_db,
    ) as stack:
        from campaigns.portal_web import UnreliableWebhooks

        webhooks = UnreliableWebhooks(random.Random(seed + 2), lost=0.1, unanswered=0.1)
        stack.econnect.app.webhook_sender = webhooks
        feeder = checks.Feeder(stack, random.Random(seed + 1), rate=args.rate, prefix=f"K{seed}")
        started = time.monotonic()
        feeder.start()
        kills = 0
        low, high = args.interval
        print(f"Stack up: {args.environments} environments, worker and beat running. "
              f"Killing the worker {args.kills} times ...", flush=True)  # fmt: skip
        try:
            while kills < args.kills and time.monotonic() - started < args.seconds:
                time.sleep(rng.uniform(low, high))
                stack.kill_worker()
                kills += 1
                if kills % 10 == 0 or kills == args.kills:
                    print(f"  {kills} kills, {time.monotonic() - started:.0f} s", flush=True)
                stack.start_worker()
            storm_seconds = time.monotonic() - started
            feeder.stop_feeding()
            print(f"Stream stopped after {storm_seconds:.0f} s; draining ...", flush=True)
            drained = wait_until(lambda: checks.settled(feeder.expected), timeout=args.drain_timeout, every=1.0)
            actions = checks.act_as_a_person_on_interrupted_deliveries(stack)
            if actions.delivered_again or actions.resolved_in_afas:
                drained = wait_until(lambda: checks.settled(feeder.expected), timeout=args.drain_timeout, every=1.0)
            duration = time.monotonic() - started
        finally:
            feeder.stop()
        verdict = checks.check(stack, feeder.expected)
        interrupted = checks.interrupted_tasks((stack.log_dir / "worker.log").read_text(errors="replace"))
        swept_submits, swept_deliveries = checks.recovered_by_sweepers()
        rows = [
            *verdict.rows,
            ("held after an interrupted delivery", actions.delivered_again + actions.resolved_in_afas),
            ("  of which delivered again (not in AFAS)", actions.delivered_again),
            ("  of which confirmed in AFAS (then acknowledged)", actions.resolved_in_afas),
            ("webhook deliveries lost on the way (sent again)", webhooks.counts["lost"]),
            ("webhook deliveries whose answer was lost (twice)", webhooks.counts["unanswered"]),
            ("worker kills (SIGKILL)", kills),
            ("worker starts", stack.worker_starts),
            ("tasks taken by a kill (received, unfinished)", sum(interrupted.values())),
            *((f"  {name}", count) for name, count in sorted(interrupted.items())),
            ("submits recovered by the sweeper", swept_submits),
            ("deliveries held by the sweeper", swept_deliveries),
            ("longest queue seen (messages)", stack.longest_queue),
            ("stream seconds", f"{storm_seconds:.0f}"),
            ("total seconds", f"{duration:.0f}"),
        ]
        print_table(f"Crash campaign (seed {seed}; repeat with --seed {seed})", rows)
        problems = list(verdict.problems)
        if kills < args.kills:
            problems.append(f"only {kills} of {args.kills} kills within {args.seconds:.0f} s")
        if not drained:
            problems.append(f"not drained within {args.drain_timeout:.0f} s")
        if feeder.feed_errors:
            problems.append(f"{feeder.feed_errors} invoices could not be put in ({feeder.last_error})")
        checks.print_problems(problems)
        if problems:
            print(stack.logs(20))
            print(f"FAILED: {len(problems)} violations (seed {seed})")
            return 1
        print(f"OK: {kills} kills; nothing lost, nothing twice, nothing stuck, no event missing (seed {seed})")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI form: 10 kills, 0.5-2 s apart")
    parser.add_argument("--kills", type=int, help="how often the worker is killed (default 50, --short 10)")
    parser.add_argument("--seconds", type=float, help="at most this long for the kills (default 900, --short 90)")
    parser.add_argument("--seed", type=int, help="repeat a run: the kill moments and the stream follow the seed")
    parser.add_argument("--environments", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1.0, help="invoices per second, each way")
    parser.add_argument("--drain-timeout", type=float, help="seconds to drain at most (240, --short 90)")
    parser.add_argument("--lease-seconds", type=float, default=10.0, help="see campaigns.stack")
    parser.add_argument("--keep-db", action="store_true", help=f"keep {DB_NAME} and the logs for inspection")
    args = parser.parse_args(argv)
    args.kills = args.kills if args.kills is not None else (10 if args.short else 50)
    args.seconds = args.seconds if args.seconds is not None else (90.0 if args.short else 900.0)
    args.interval = (0.5, 2.0) if args.short else (1.0, 4.0)
    args.drain_timeout = args.drain_timeout or (90.0 if args.short else 240.0)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    print(f"Crash campaign, seed {seed}", flush=True)
    try:
        return run(args, seed)
    except CampaignError as exc:
        print(f"FAILED: the stack cannot run: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
