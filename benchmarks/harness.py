"""What the benchmarks share: one ``main`` (arguments, then the run in a throwaway PostgreSQL database from
``tests.stack.database``), a Celery worker that runs the benchmark's module with per-stage timing, and small HTTP
and statistics helpers. The stack's parts (database, simulators, waiting) are those of the end-to-end tests and
the campaigns, in ``tests/stack/``."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from integrations.simulators.outbound import shared_client
from tests.stack.celery import as_deployed
from tests.stack.database import (
    REPO,
    WORKER_LOG,
    admin_connection,
    configure_environment,
    refuse,
    run_in_throwaway_database,
)
from tests.stack.simulators import serve_simulator
from tests.stack.waiting import wait_for

__all__ = [
    "REPO",
    "admin_connection",
    "configure_environment",
    "explain",
    "main",
    "percentile",
    "refuse",
    "run_in_throwaway_database",
    "serve",
    "start_worker",
    "start_workers",
    "stop_worker",
    "wait_for",
]


# --- inside the worker: timing of the stages ------------------------------------------------------------------------


class _Timings(threading.local):
    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.task_started: float | None = None
        self.cpu_started = 0.0


_timings = _Timings()


def _add(stage: str, seconds: float) -> None:
    _timings.values[stage] = _timings.values.get(stage, 0.0) + seconds


def timed(stage, function):
    """Wrap ``function`` so its time counts towards ``stage``: a name, or a callable giving it from the arguments."""

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _add(stage(*args) if callable(stage) else stage, time.perf_counter() - started)

    wrapper.__wrapped__ = function
    return wrapper


def _db_wrapper(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        _add("db", time.perf_counter() - started)
        _add("db_queries", 1)


def install_task_timing(key_prefix: str) -> None:
    """Per task: database time (stage "db") and queries ("db_queries", and per task name), the stages of ``timed`` wrappers, and the task's own time and count,
    added up in Redis (the broker) under ``key_prefix``."""
    from celery.signals import task_postrun, task_prerun

    redis_client = None

    @task_prerun.connect(weak=False)
    def _start(task=None, **kwargs) -> None:
        from django.db import connection

        if _db_wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(_db_wrapper)
        _timings.values = {}
        _timings.task_started = time.perf_counter()
        _timings.cpu_started = time.thread_time()

    @task_postrun.connect(weak=False)
    def _finish(task=None, **kwargs) -> None:
        nonlocal redis_client
        import redis

        if _timings.task_started is None:
            return
        elapsed = time.perf_counter() - _timings.task_started
        if redis_client is None:
            redis_client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
        pipe = redis_client.pipeline()
        for stage, seconds in _timings.values.items():
            pipe.incrbyfloat(f"{key_prefix}{stage}", seconds)
        pipe.incrbyfloat(f"{key_prefix}queries:{task.name}", _timings.values.get("db_queries", 0))
        pipe.incrbyfloat(f"{key_prefix}task:{task.name}", elapsed)
        pipe.incrbyfloat(f"{key_prefix}cpu:{task.name}", time.thread_time() - _timings.cpu_started)
        pipe.incr(f"{key_prefix}count:{task.name}")
        pipe.execute()
        _timings.task_started = None


def print_task_table(figures: dict[str, float]) -> None:
    """Per task name: how many ran, their time each (wall, and CPU of the worker process: the rest is waiting on
    the database, the simulators or a core), and their queries each."""
    print(f"  {'per task':42}{'count':>10}{'ms each':>10}{'cpu ms':>10}{'queries':>10}")
    for key in sorted(k for k in figures if k.startswith("task:")):
        name = key[len("task:") :]
        count = int(figures.get(f"count:{name}", 0)) or 1
        each = figures[key] / count * 1000
        cpu = figures.get(f"cpu:{name}", 0.0) / count * 1000
        print(f"  {name:42}{count:10d}{each:10.2f}{cpu:10.2f}{figures.get(f'queries:{name}', 0) / count:10.1f}")


def read_figures(redis_client, key_prefix: str, *, delete: bool = False) -> dict[str, float]:
    figures = {}
    for key in redis_client.scan_iter(f"{key_prefix}*"):
        figures[key.decode()[len(key_prefix) :]] = float(redis_client.get(key))
        if delete:
            redis_client.delete(key)
    return figures


# --- the worker, the simulators, waiting ----------------------------------------------------------------------------


def start_worker(*, module: str, instrument_env: str) -> subprocess.Popen:
    """A prefork worker (concurrency 2) running ``celery -A <module>`` with its instrumentation switched on."""
    return start_workers(module=module, instrument_env=instrument_env)[0]


def start_workers(*, module: str, instrument_env: str, concurrency: int = 2, nodes: int = 1) -> list[subprocess.Popen]:
    """``nodes`` prefork workers (separate ``celery worker -n`` processes sharing the queues, as on separate
    machines), each with ``concurrency`` processes, running ``celery -A <module>`` with its instrumentation."""
    import socket

    from portal.celery_app import app

    env = as_deployed(dict(os.environ, **{instrument_env: "1", "PYTHONPATH": str(REPO)}))
    started = []
    for node in range(nodes):
        log_path = Path(os.environ["PORTAL_VAR_DIR"]) / (WORKER_LOG if node == 0 else f"worker-{node}.log")
        hostname = f"bench-{module.rsplit('.', 1)[-1]}-{node}-{uuid.uuid4().hex[:8]}@%h"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", module, "worker", "--pool=prefork", f"--concurrency={concurrency}",
             "-l", "WARNING", "-n", hostname, "--without-gossip", "--without-mingle"],
            cwd=REPO,
            env=env,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        started.append((process, hostname.replace("%h", socket.gethostname()), log_path))
    deadline = time.monotonic() + 60
    waiting = list(started)
    while waiting and time.monotonic() < deadline:
        process, node, log_path = waiting[0]
        if process.poll() is not None:
            break
        if app.control.ping(destination=[node], timeout=0.5):
            waiting.pop(0)
    if waiting:
        for process, _, _ in started:
            stop_worker(process)
        process, _, log_path = waiting[0]
        what = "exited at start" if process.poll() is not None else "did not start within 60 s"
        raise RuntimeError(f"the worker {what}; see {log_path}")
    return [process for process, _, _ in started]


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def serve(app):
    """A simulator on a free port, served from a thread (``tests.stack.simulators``); its server."""
    return serve_simulator(app).server


def http_post(url: str, body: dict) -> dict:
    response = shared_client().post(url, json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def http_get(url: str) -> dict:
    response = shared_client().get(url, timeout=60)
    response.raise_for_status()
    return response.json()


@dataclass(frozen=True)
class QueryBudget:
    """The queries a run may make: a fixed number per document (its own tasks) and per environment (collects, fetches,
    dispatches), so that the allowance per document does not grow with the batch. A run above it fails: some query
    became one per row of a batch, or a per-document task gained statements."""

    per_document: float
    per_environment: float

    def allowed(self, documents: int, environments: int) -> float:
        return self.per_document + self.per_environment * environments / max(documents, 1)

    def line(self, queries: float, documents: int, environments: int, noun: str) -> str:
        return (f"{queries / max(documents, 1):.1f} queries per {noun}; budget "
                f"{self.allowed(documents, environments):.1f} ({self.per_document:g} per {noun}, "
                f"{self.per_environment:g} per environment)")  # fmt: skip

    def problem(self, queries: float, documents: int, environments: int, noun: str) -> str | None:
        if queries / max(documents, 1) <= self.allowed(documents, environments):
            return None
        return "over the query budget: " + self.line(queries, documents, environments, noun)


def percentile(values: list[float], share: float) -> float:
    """The value at ``share`` (0..1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def explain(sql: str, params: tuple) -> str:
    """PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) of one query, as text."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main(
    argv: list[str] | None,
    *,
    benchmark: str,
    description: str,
    bench_db: str,
    arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
    needs_broker: bool = False,
    reusable: bool = False,
) -> int:
    """The one entry point of a database benchmark: its ``arguments``, ``--keep-db`` (and ``--reuse-db`` when
    ``reusable``), then ``run`` in a fresh ``bench_db``. Without a worker (``needs_broker``) tasks run eagerly."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    arguments(parser)
    parser.add_argument("--keep-db", action="store_true", help=f"leave the {bench_db} database for inspection")
    if reusable:
        parser.add_argument("--reuse-db", action="store_true", help=f"measure a kept {bench_db} again without seeding")
    args = parser.parse_args(argv)
    return run_in_throwaway_database(
        lambda: run(args),
        benchmark=benchmark,
        bench_db=bench_db,
        keep_db=args.keep_db,
        needs_broker=needs_broker,
        eager=not needs_broker,
        reuse_db=getattr(args, "reuse_db", False),
    )
