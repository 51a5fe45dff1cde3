"""What the benchmarks share: a throwaway PostgreSQL database and the settings its processes share, a Celery
worker that runs the benchmark's module with per-stage timing, and small waiting and HTTP helpers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
WORKER_LOG = "bench-worker.log"


# --- inside the worker: timing of the stages ------------------------------------------------------------------------


class _Timings(threading.local):
    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.task_started: float | None = None


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


def install_task_timing(key_prefix: str) -> None:
    """Per task: database time (stage "db"), the stages of ``timed`` wrappers, and the task's own time and count,
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
        pipe.incrbyfloat(f"{key_prefix}task:{task.name}", elapsed)
        pipe.incr(f"{key_prefix}count:{task.name}")
        pipe.execute()
        _timings.task_started = None


def read_figures(redis_client, key_prefix: str, *, delete: bool = False) -> dict[str, float]:
    figures = {}
    for key in redis_client.scan_iter(f"{key_prefix}*"):
        figures[key.decode()[len(key_prefix) :]] = float(redis_client.get(key))
        if delete:
            redis_client.delete(key)
    return figures


# --- the throwaway database and the settings ------------------------------------------------------------------------


def refuse(benchmark: str, message: str) -> None:
    print(f"benchmarks.{benchmark}: {message}", file=sys.stderr)
    sys.exit(2)


def admin_connection(database_url: str):
    import psycopg

    parts = urlsplit(database_url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or None,
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


def _drop(database_url: str, bench_db: str) -> None:
    with admin_connection(database_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')


def configure_environment(database_url: str, bench_db: str, var_dir: str, *, eager: bool) -> None:
    """The bench process and its worker share these settings (set before Django is imported)."""
    from cryptography.fernet import Fernet

    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(database_url)._replace(path=f"/{bench_db}"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + uuid.uuid4().hex)
    os.environ["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["PORTAL_VAR_DIR"] = var_dir
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true" if eager else "false"
    os.environ["CONN_MAX_AGE"] = "60"
    shared = REPO.parent / "shared" / "peppol"
    if shared.is_dir():
        os.environ.setdefault("PEPPOL_RULES_DIR", str(shared))


def _exists(database_url: str, bench_db: str) -> bool:
    with admin_connection(database_url) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (bench_db,)).fetchone() is not None


def run_in_throwaway_database(
    run: Callable[[], int],
    *,
    benchmark: str,
    bench_db: str,
    keep_db: bool,
    needs_broker: bool,
    eager: bool = False,
    reuse_db: bool = False,
) -> int:
    """Check the environment, create ``bench_db`` next to DATABASE_URL's database, run, and drop it again.

    ``reuse_db`` runs on ``bench_db`` as a previous ``keep_db`` run left it (and keeps it), when it exists."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        refuse(
            benchmark, f"set DATABASE_URL=postgres://user@host:5432/<any database> (the benchmark creates {bench_db})"
        )
    if urlsplit(database_url).path.lstrip("/") == bench_db:
        refuse(benchmark, f"DATABASE_URL must not name {bench_db} itself: that database is dropped and recreated")
    if needs_broker and not os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://")):
        refuse(benchmark, "set CELERY_BROKER_URL=redis://host:6379/<db> (a broker a worker process can share)")

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as var_dir:
        configure_environment(database_url, bench_db, var_dir, eager=eager)
        if reuse_db and _exists(database_url, bench_db):
            keep_db = True
            print(f"Reusing the database {bench_db}", flush=True)
        else:
            _drop(database_url, bench_db)
            with admin_connection(database_url) as admin:
                admin.execute(f'CREATE DATABASE "{bench_db}"')
            keep_db = keep_db or reuse_db
        try:
            return run()
        except RuntimeError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            log = Path(var_dir) / WORKER_LOG
            if log.exists():
                print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
            return 1
        finally:
            from django.db import connections

            connections.close_all()
            if keep_db:
                print(f"The database {bench_db} is kept; drop it with: dropdb {bench_db}")
            else:
                _drop(database_url, bench_db)


# --- the worker, the simulators, waiting ----------------------------------------------------------------------------


def start_worker(*, module: str, instrument_env: str) -> subprocess.Popen:
    """A prefork worker (concurrency 2) running ``celery -A <module>`` with its instrumentation switched on."""
    import socket

    from portal.celery_app import app

    log_path = Path(os.environ["PORTAL_VAR_DIR"]) / WORKER_LOG
    env = dict(os.environ, **{instrument_env: "1", "PYTHONPATH": str(REPO)})
    hostname = f"bench-{module.rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:8]}@%h"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", module, "worker", "--pool=prefork", "--concurrency=2",
         "-l", "WARNING", "-n", hostname, "--without-gossip", "--without-mingle"],
        cwd=REPO,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    node = hostname.replace("%h", socket.gethostname())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited at start; see {log_path}")
        if app.control.ping(destination=[node], timeout=0.5):
            return process
    stop_worker(process)
    raise RuntimeError(f"the worker did not start within 60 s; see {log_path}")


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
    """A simulator on a free port, served from a thread."""
    from integrations.simulators.server import make_server

    server = make_server(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def wait_for(condition, *, timeout: float, what: str, tick=None, tick_every: float = 15.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    next_tick = 0.0
    while True:
        if tick is not None and time.monotonic() >= next_tick:
            tick()
            next_tick = time.monotonic() + tick_every
        if condition():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def http_post(url: str, body: dict) -> dict:
    import httpx

    response = httpx.post(url, json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def http_get(url: str) -> dict:
    import httpx

    response = httpx.get(url, timeout=60)
    response.raise_for_status()
    return response.json()


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
