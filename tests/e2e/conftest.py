"""The real stack for end-to-end tests: PostgreSQL, a real broker, both simulators over HTTP, a Celery worker
in its own process (and, on request, celery beat).

A test marked ``@pytest.mark.e2e`` asks for the ``stack`` fixture. It needs PostgreSQL and a broker that other
processes can reach (e.g. ``redis://``); on SQLite or the in-memory broker it is skipped, and when ``CI`` is set
and the database is PostgreSQL but the broker is missing or unreachable, it fails instead.

What runs where:
- the simulators serve from threads of the test process on free ports (module scope; reset and seeded per test);
- the worker is ``python -m celery -A portal worker --pool=prefork --concurrency=2`` in its own process group, on
  the pytest test database (committed data only: ``transactional_db``), with ``tests.e2e.worker_settings``;
- the test process enqueues to the same broker (not eagerly) and watches the database.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings

from integrations.afas import simulator as afas_simulator
from integrations.econnect import simulator as econnect_simulator
from tests.stack.celery import REPO, CeleryProcess, purge_broker
from tests.stack.simulators import LiveSimulator, serve_simulator
from tests.stack.waiting import wait_for

WORKER_SETTINGS = "tests.e2e.worker_settings"
# Short enough for a test run, long enough that no submit in flight is taken over (fault delays stay below it).
STUCK_AFTER_SECONDS = 5
WORKER_START_TIMEOUT = 30.0


# --- what the stack needs -----------------------------------------------------------------------------------------


def _missing_requirement() -> str:
    """Why the real stack cannot run here ('' if it can)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return f"needs PostgreSQL (DATABASE_URL), not {connection.vendor}: a worker process must share the database"
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("memory://", "filesystem://")):
        return f"needs a broker other processes can reach (CELERY_BROKER_URL=redis://...), not {broker.split(':')[0]}"
    from portal.celery_app import app

    try:
        with app.connection_for_write() as connection_:
            connection_.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to connect means the stack cannot run
        return f"the broker {_redacted(broker)} is not reachable: {exc}"
    return ""


def _require_stack() -> None:
    from django.db import connection

    problem = _missing_requirement()
    if not problem:
        return
    if os.environ.get("CI") and connection.vendor == "postgresql":
        pytest.fail(f"End-to-end stack unavailable in CI: {problem}", pytrace=False)
    pytest.skip(f"End-to-end stack: {problem}")


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def database_url() -> str:
    """The URL of the database this test process uses: pytest's test database, not the configured one."""
    db = settings.DATABASES["default"]
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{quote(db['NAME'], safe='')}"


# --- the stack --------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    afas: LiveSimulator
    econnect: LiveSimulator
    log_dir: Path
    worker: CeleryProcess | None = None
    beat: CeleryProcess | None = None
    _started: list[CeleryProcess] = field(default_factory=list)

    # --- environment of the Celery processes
    def celery_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
        env.update(
            DJANGO_SETTINGS_MODULE=WORKER_SETTINGS,
            CELERY_TASK_ALWAYS_EAGER="false",
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            AFAS_BASE_URL_TEMPLATE=f"{self.afas.url}/{{participant}}/{{rest_host}}/ProfitRestServices",
            ECONNECT_SOAP_URL=f"{self.econnect.url}/soap/v3.1",
            ECONNECT_LOOKUP_URL=self.econnect.url,
            ECONNECT_PSB_URL=self.econnect.url,
            ECONNECT_PSB_IDENTITY_URL=self.econnect.url,
            DOCUMENT_STUCK_AFTER_SECONDS=str(STUCK_AFTER_SECONDS),
            DOCUMENT_RETRY_BASE_SECONDS="1",
            DOCUMENT_RETRY_MAX_SECONDS="2",
            CONN_MAX_AGE="0",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
            PYTHONUNBUFFERED="1",
        )
        return env

    # --- worker and beat
    def start_worker(self) -> CeleryProcess:
        """Start a worker and wait until it answers a ping over the broker."""
        from portal.celery_app import app

        hostname = f"e2e-{uuid.uuid4().hex[:8]}@%h"
        worker = CeleryProcess(
            "worker",
            [
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "-l",
                "INFO",
                "-n",
                hostname,
                "--without-gossip",
                "--without-mingle",
            ],  # fmt: skip
            self.celery_env(),
            self.log_dir / "worker.log",
        )
        worker.start()
        self._started.append(worker)
        self.worker = worker
        node = hostname.replace("%h", _short_hostname())
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while time.monotonic() < deadline:
            if not worker.alive:
                raise AssertionError(f"The worker exited at start:\n{worker.log_tail()}")
            if app.control.ping(destination=[node], timeout=0.5):
                return worker
        raise AssertionError(f"The worker did not answer within {WORKER_START_TIMEOUT:.0f} s:\n{worker.log_tail()}")

    def start_beat(self) -> CeleryProcess:
        beat = CeleryProcess(
            "beat",
            ["beat", "-l", "INFO", "--pidfile=", "-s", str(self.log_dir / "celerybeat-schedule")],
            self.celery_env(),
            self.log_dir / "beat.log",
        )
        beat.start()
        self._started.append(beat)
        self.beat = beat
        return beat

    def stop_all(self) -> None:
        for process in reversed(self._started):
            process.stop()
        self._started.clear()

    def logs(self) -> str:
        parts = [f"--- {p.name} ({p.log_path}) ---\n{p.log_tail()}" for p in (self.worker, self.beat) if p]
        return "\n".join(parts)

    # --- waiting
    def wait_until(
        self,
        condition: Callable[[], Any],
        *,
        timeout: float,
        what: str,
        every: float = 0.25,
        tick: Callable[[], None] | None = None,
        tick_every: float = 1.0,
    ) -> Any:
        """Poll ``condition`` until truthy; run ``tick`` (e.g. enqueue work_due, like beat) every ``tick_every``.
        Fails with the worker's and beat's logs on a timeout, or at once when the worker died (not by our SIGKILL)."""

        def checked() -> Any:
            result = condition()
            if (
                not result
                and self.worker is not None
                and not self.worker.alive
                and self.worker.process.returncode != -9
            ):
                raise AssertionError(f"The worker died while waiting for {what}.\n{self.logs()}")
            return result

        try:
            return wait_for(checked, timeout=timeout, what=what, every=every, tick=tick, tick_every=tick_every)
        except RuntimeError as exc:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.\n{self.logs()}") from exc

    # --- simulator control APIs over HTTP
    def afas_control(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, self.afas.url + path, timeout=10, **kwargs)

    def econnect_control(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, self.econnect.url + path, timeout=10, **kwargs)

    def issue_sales_invoice(self, environment_key: str, debtor: str, **extra) -> dict:
        lines = extra.pop("lines", None) or [
            {"description": "Brood en banket", "quantity": "10", "price": "2.50", "vat": "9"}
        ]
        response = self.afas_control(
            "POST",
            f"/_sim/environments/{environment_key}/sales-invoices",
            json={"debtor": debtor, "lines": lines, **extra},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def sent_counts(self) -> dict[str, int]:
        return self.econnect_control("GET", "/_sim/sent").json()["counts"]

    def econnect_fault(self, **spec) -> None:
        response = self.econnect_control("POST", "/_sim/faults", json=spec)
        assert response.status_code == 201, response.text

    def afas_fault(self, **spec) -> None:
        response = self.afas_control("POST", "/_sim/faults", json=spec)
        assert response.status_code == 201, response.text

    def advance_econnect_clock(self, seconds: int) -> None:
        assert self.econnect_control("POST", "/_sim/clock", json={"advance": seconds}).status_code == 200


def _short_hostname() -> str:
    import socket

    return socket.gethostname()


@pytest.fixture(scope="module")
def _simulators() -> Iterator[tuple[LiveSimulator, LiveSimulator]]:
    afas = serve_simulator(afas_simulator.create_app(), afas_simulator.seed_demo)
    econnect = serve_simulator(econnect_simulator.create_app(), econnect_simulator.seed_demo)
    try:
        yield afas, econnect
    finally:
        afas.stop()
        econnect.stop()


@pytest.fixture
def stack(transactional_db, _simulators, settings, tmp_path) -> Iterator[Stack]:
    """Fresh simulators and demo data (sending on for demo environment 12345-production), an empty queue, the test
    process enqueueing to the real broker, and a running worker (``stack.worker``). A test may start beat too."""
    from portal.celery_app import app
    from portal.organisations.demo import demo_seed
    from portal.organisations.models import Environment

    _require_stack()
    afas, econnect = _simulators
    afas.reset()
    econnect.reset()

    # Read before the override: the app may load its configuration on this first access, and would then take
    # (and afterwards "restore") the overridden value, leaving every later test without eager tasks.
    eager_before = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.DOCUMENT_STUCK_AFTER_SECONDS = STUCK_AFTER_SECONDS
    settings.AFAS_BASE_URL_TEMPLATE = f"{afas.url}/{{participant}}/{{rest_host}}/ProfitRestServices"
    settings.ECONNECT_SOAP_URL = f"{econnect.url}/soap/v3.1"
    settings.ECONNECT_LOOKUP_URL = econnect.url
    settings.ECONNECT_PSB_URL = settings.ECONNECT_PSB_IDENTITY_URL = econnect.url
    app.conf.task_always_eager = False
    purge_broker()

    demo_seed()
    Environment.objects.filter(afas_participant_number="12345", afas_environment_type="production").update(
        sending_enabled=True
    )
    log_dir = tmp_path / "celery"
    log_dir.mkdir()
    real = Stack(afas=afas, econnect=econnect, log_dir=log_dir)
    try:
        real.start_worker()
        yield real
    finally:
        real.stop_all()
        purge_broker()
        app.conf.task_always_eager = eager_before
