"""Broker and database outages: ``python -m campaigns.outages [--short] [--seed N]``.

The real stack of ``campaigns.stack`` processes a stream of outgoing and incoming invoices (as in
``campaigns.crash``) while first Redis (the broker) and then PostgreSQL are stopped for a few seconds and started
again. Nothing is restarted by hand on the portal's side: the worker must reconnect by itself (the same process
before and after), beat must keep sending the periodic tasks, and the tasks Redis lost (it runs without
persistence, as in development and CI) must be queued again by the due-work dispatchers. After each outage the
campaign waits until invoices are delivered again both ways; at the end the stream stops, the stack drains and the
checks of the crash campaign apply: every invoice exactly once at the other side, nothing stuck, no event missing.

These restarts affect every user of this machine's PostgreSQL and Redis. While one is down, /tmp/outage.lock holds
RESTARTING; it is removed afterwards, and whatever happens (an error, Ctrl-C, SIGTERM) the services are started
again and checked (``pg_isready -h 127.0.0.1``, ``redis-cli ping``) before the command ends.

Needs PostgreSQL (DATABASE_URL; the campaign creates and drops ``rel_outage_campaign``) and Redis
(CELERY_BROKER_URL, default redis://127.0.0.1:6379/13), both local (127.0.0.1), and the rights to restart them.
Exit status 1 on any violation, 2 when the stack cannot run.
"""

from __future__ import annotations

import argparse
import faulthandler
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from campaigns.stack import CampaignError, print_table, running_stack, wait_until

DB_NAME = "rel_outage_campaign"
LOCK = Path("/tmp/outage.lock")
STUCK_AFTER_SECONDS = 8
OVERRIDES = {
    "DOCUMENT_STUCK_AFTER_SECONDS": str(STUCK_AFTER_SECONDS),
    "DOCUMENT_RETRY_BASE_SECONDS": "1",
    "DOCUMENT_RETRY_MAX_SECONDS": "2",
}
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]  # fmt: skip


# --- stopping and starting the services -------------------------------------------------------------------------


def _quiet(command: list[str], timeout: float = 60) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def postgres_cluster() -> str:
    return sorted(path.name for path in Path("/etc/postgresql").iterdir())[0]


def postgres_up() -> bool:
    return _quiet(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], timeout=10)


def redis_up() -> bool:
    try:
        answer = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True,
                                text=True, timeout=10, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return answer.stdout.strip() == "PONG"


def postgres_stop() -> bool:
    return _quiet(["pg_ctlcluster", "--skip-systemctl-redirect", postgres_cluster(), "main", "stop", "-m", "fast"])


def postgres_start() -> bool:
    return _quiet(["pg_ctlcluster", "--skip-systemctl-redirect", postgres_cluster(), "main", "start"])


def redis_stop() -> bool:
    return _quiet(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"])


def redis_start() -> bool:
    return _quiet(REDIS_START)


@dataclass(frozen=True)
class Service:
    name: str
    is_up: Callable[[], bool]
    stop: Callable[[], bool]
    start: Callable[[], bool]


POSTGRES = Service("PostgreSQL", postgres_up, postgres_stop, postgres_start)
REDIS = Service("Redis", redis_up, redis_stop, redis_start)


def _poll(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def restart_service(service: Service, *, down_seconds: float, lock: Path = LOCK, up_timeout: float = 60.0) -> float:
    """Stop ``service``, keep it down ``down_seconds``, start it and wait until it answers; ``lock`` holds RESTARTING
    meanwhile and is removed afterwards, also when something fails. Returns how long it did not answer."""
    lock.write_text("RESTARTING\n")
    stopped_at = time.monotonic()
    try:
        if not service.is_up():
            raise CampaignError(f"{service.name} is not running: not restarting it")
        service.stop()
        if not _poll(lambda: not service.is_up(), 20):
            raise CampaignError(f"{service.name} did not stop")
        time.sleep(down_seconds)
    finally:
        # Started again whatever happened above.
        if not service.is_up():
            service.start()
        up = _poll(service.is_up, up_timeout)
        lock.unlink(missing_ok=True)
    if not up:
        raise CampaignError(f"{service.name} did not come back within {up_timeout:.0f} s")
    return time.monotonic() - stopped_at


def ensure_services_up(services: tuple[Service, ...] = (POSTGRES, REDIS), lock: Path = LOCK) -> list[str]:
    """Start any of ``services`` that does not answer; the names of those still down afterwards."""
    down = []
    for service in services:
        if not service.is_up():
            lock.write_text("RESTARTING\n")
            try:
                service.start()
                if not _poll(service.is_up, 60):
                    down.append(service.name)
            finally:
                lock.unlink(missing_ok=True)
    return down


# --- the campaign -------------------------------------------------------------------------------------------------


def progress() -> tuple[int, int]:
    """(outgoing delivered, incoming acknowledged) now."""
    from django.db import connections

    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice

    try:
        return (
            OutgoingInvoice.objects.filter(status=OutgoingInvoice.Status.DELIVERED).count(),
            IncomingInvoice.objects.filter(status=IncomingInvoice.Status.ACKNOWLEDGED).count(),
        )
    except Exception:  # noqa: BLE001 - the database may be coming back; a fresh connection next time
        connections.close_all()
        return (-1, -1)


def beat_sends(stack) -> int:
    """How many periodic tasks beat has sent so far (its log)."""
    try:
        return stack.beat.log_path.read_text(errors="replace").count("Sending due task")
    except OSError:
        return 0


@dataclass
class OutageRecord:
    service: str
    down_seconds: float
    resumed_after: float | None  # seconds from the service answering to both directions progressing again
    beat_sends_after: int = 0
    worker_same_process: bool = True
    beat_same_process: bool = True


def outage(stack, service: Service, *, down_seconds: float, resume_timeout: float) -> OutageRecord:
    from django.db import connections

    worker_pid, beat_pid = stack.worker.process.pid, stack.beat.process.pid
    print(f"  {service.name}: stopping for {down_seconds:g} s ...", flush=True)
    connections.close_all()
    not_answering = restart_service(service, down_seconds=down_seconds)
    connections.close_all()
    back_at = time.monotonic()
    before = wait_until(lambda: min(progress()) >= 0 and progress(), timeout=30, every=0.5)
    beat_before = beat_sends(stack)
    resumed = wait_until(
        lambda: all(now > then for now, then in zip(progress(), before, strict=True)),
        timeout=resume_timeout,
        every=0.5,
    )
    record = OutageRecord(
        service=service.name,
        down_seconds=not_answering,
        resumed_after=time.monotonic() - back_at if resumed else None,
        worker_same_process=stack.worker.alive and stack.worker.process.pid == worker_pid,
        beat_same_process=stack.beat.alive and stack.beat.process.pid == beat_pid,
    )
    # Beat sends on its production schedule (every 15 s): it must send again by itself.
    wait_until(lambda: beat_sends(stack) > beat_before, timeout=45, every=0.5)
    record.beat_sends_after = beat_before  # completed at the end: sends after the restart
    print(f"  {service.name}: down {not_answering:.1f} s; "
          + (f"both directions delivering again {record.resumed_after:.1f} s after it answered"
             if resumed else f"NOT resumed within {resume_timeout:.0f} s"), flush=True)  # fmt: skip
    return record


def diagnose(stack) -> None:
    """What the stack is doing when work did not resume: the campaign's own threads, the worker's processes (with
    py-spy where installed), the queue, the documents' statuses and the logs; printed at once, so that a run cut
    short by a CI timeout still shows it."""
    from django.db import connections
    from django.db.models import Count

    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice
    from portal.webhooks.models import WebhookEvent

    print("--- diagnosis: threads of the campaign process ---", flush=True)
    faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    for process in (stack.worker, stack.beat):
        if process is None or not Path(py_spy).exists():
            continue
        children = subprocess.run(["pgrep", "-g", str(process.process.pid)], capture_output=True, text=True,
                                  check=False).stdout.split()  # fmt: skip
        for pid in children:
            print(f"--- diagnosis: py-spy dump of {process.name} pid {pid} ---", flush=True)
            dump = subprocess.run([py_spy, "dump", "--pid", pid], capture_output=True, text=True, timeout=30,
                                  check=False)  # fmt: skip
            print(dump.stdout or dump.stderr, flush=True)
    try:
        print(f"--- diagnosis: queue length {stack.queue_length()}", flush=True)
        for model in (OutgoingInvoice, IncomingInvoice):
            rows = model.objects.values("status").annotate(n=Count("pk")).order_by("status")
            print(f"--- diagnosis: {model.__name__} " + ", ".join(f"{r['status']}={r['n']}" for r in rows))
        pending = WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PENDING).count()
        print(f"--- diagnosis: webhook events pending {pending}", flush=True)
    except Exception as exc:  # noqa: BLE001 - a diagnosis must not hide the failure it explains
        print(f"--- diagnosis: the database or the broker did not answer: {exc!r}", flush=True)
        connections.close_all()
    print(stack.logs(60), flush=True)


def run(args: argparse.Namespace, seed: int) -> int:
    from campaigns import checks

    with running_stack(
        db_name=DB_NAME,
        environments=args.environments,
        lease_seconds=args.lease_seconds,
        overrides=OVERRIDES,
        keep=args.keep_db,
    ) as stack:
        feeder = checks.Feeder(stack, random.Random(seed), rate=args.rate, prefix=f"O{seed}")
        started = time.monotonic()
        feeder.start()
        records: list[OutageRecord] = []
        try:
            print(f"Stack up; stream of {args.rate:g} invoices/s each way for {args.warm_up:g} s ...", flush=True)
            time.sleep(args.warm_up)
            for service in (REDIS, POSTGRES):
                records.append(
                    outage(stack, service, down_seconds=args.down_seconds, resume_timeout=args.resume_timeout)
                )
                if records[-1].resumed_after is None:
                    diagnose(stack)
                    print(f"FAILED: work did not resume by itself after the {service.name} restart (seed {seed})")
                    return 1
            feeder.stop_feeding()
            print("Stream stopped; draining ...", flush=True)
            drained = wait_until(lambda: checks.settled(feeder.expected), timeout=args.drain_timeout, every=1.0)
            actions = checks.act_as_a_person_on_interrupted_deliveries(stack)
            if actions.delivered_again or actions.resolved_in_afas:
                drained = wait_until(lambda: checks.settled(feeder.expected), timeout=args.drain_timeout, every=1.0)
            duration = time.monotonic() - started
        finally:
            feeder.stop()
        total_sends = beat_sends(stack)
        for record in records:
            record.beat_sends_after = total_sends - record.beat_sends_after
        verdict = checks.check(stack, feeder.expected)
        rows: list[tuple[str, object]] = []
        problems = list(verdict.problems)
        for record in records:
            rows += [
                (f"{record.service}: seconds not answering", f"{record.down_seconds:.1f}"),
                (f"{record.service}: seconds until delivering again",
                 f"{record.resumed_after:.1f}" if record.resumed_after is not None else "never"),
                (f"{record.service}: worker reconnected (same process)", "yes" if record.worker_same_process else "NO"),
                (f"{record.service}: beat survived (same process)", "yes" if record.beat_same_process else "NO"),
                (f"{record.service}: tasks beat sent afterwards", record.beat_sends_after),
            ]  # fmt: skip
            if record.resumed_after is None:
                problems.append(f"work did not resume by itself after the {record.service} restart")
            if not record.worker_same_process:
                problems.append(f"the worker did not survive the {record.service} restart")
            if not record.beat_same_process:
                problems.append(f"beat did not survive the {record.service} restart")
            if record.beat_sends_after == 0:
                problems.append(f"beat sent nothing after the {record.service} restart")
        rows += [
            *verdict.rows,
            ("held after an interrupted delivery", actions.delivered_again + actions.resolved_in_afas),
            ("deliveries held by the sweeper", checks.recovered_by_sweepers()[1]),
            ("submits recovered by the sweeper", checks.recovered_by_sweepers()[0]),
            ("ticks that failed during an outage", feeder.tick_errors),
            ("longest queue seen (messages)", stack.longest_queue),
            ("total seconds", f"{duration:.0f}"),
        ]
        print_table(f"Outage campaign (seed {seed})", rows)
        if not drained:
            problems.append(f"not drained within {args.drain_timeout:.0f} s")
        if feeder.feed_errors:
            problems.append(f"{feeder.feed_errors} invoices could not be put in ({feeder.last_error})")
        checks.print_problems(problems)
        if problems:
            print(stack.logs(30))
            print(f"FAILED: {len(problems)} violations (seed {seed})")
            return 1
        print("OK: Redis and PostgreSQL restarted; work resumed by itself; nothing lost, nothing twice, nothing stuck")
        return 0


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI form: shorter stream and outages")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--environments", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2.0, help="invoices per second, each way")
    parser.add_argument("--down-seconds", type=float, help="how long each service stays down (default 10, --short 3)")
    parser.add_argument("--warm-up", type=float, help="seconds of stream before the first outage (20, --short 6)")
    parser.add_argument("--resume-timeout", type=float, default=90.0)
    parser.add_argument("--drain-timeout", type=float, help="seconds to drain at most (240, --short 90)")
    parser.add_argument("--lease-seconds", type=float, default=10.0, help="see campaigns.stack")
    parser.add_argument("--keep-db", action="store_true", help=f"keep {DB_NAME} and the logs for inspection")
    args = parser.parse_args(argv)
    args.down_seconds = args.down_seconds if args.down_seconds is not None else (3.0 if args.short else 10.0)
    args.warm_up = args.warm_up if args.warm_up is not None else (6.0 if args.short else 20.0)
    args.drain_timeout = args.drain_timeout or (90.0 if args.short else 240.0)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    print(f"Outage campaign, seed {seed}", flush=True)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if not (POSTGRES.is_up() and REDIS.is_up()):
            raise CampaignError("PostgreSQL and Redis must both be running at 127.0.0.1 before the campaign")
        result = run(args, seed)
    except CampaignError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        result = 2
    finally:
        still_down = ensure_services_up()
        print(f"Services: PostgreSQL {'up' if POSTGRES.is_up() else 'DOWN'}, Redis {'up' if REDIS.is_up() else 'DOWN'}")
    if still_down:
        print(f"FAILED: {', '.join(still_down)} could not be started again", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
