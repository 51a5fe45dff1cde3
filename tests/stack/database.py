"""A throwaway PostgreSQL database beside DATABASE_URL's, and the settings every process that uses it shares."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
WORKER_LOG = "bench-worker.log"


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


def drop_database(database_url: str, bench_db: str) -> None:
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


def database_exists(database_url: str, bench_db: str) -> bool:
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
        if reuse_db and database_exists(database_url, bench_db):
            keep_db = True
            print(f"Reusing the database {bench_db}", flush=True)
        else:
            drop_database(database_url, bench_db)
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
                drop_database(database_url, bench_db)
