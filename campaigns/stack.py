"""A real stack for the campaigns, started and stopped by a command: a throwaway PostgreSQL database, a Redis
database as broker, both simulators as live HTTP servers on loopback, a Celery worker (prefork, 2 processes) and
celery beat as subprocesses, and a few environments that send and receive.

The parts are those the end-to-end tests and the benchmarks use too, from ``tests/stack/``: ``CeleryProcess``, the
live simulators, the throwaway database and the settings its processes share.

Time: production waits minutes where a campaign cannot (polling intervals of at least 60 s, a 30 s wait before the
first status poll, 5-minute dispatch leases after which work whose message was lost is queued again, 10-minute
collect and fetch leases). ``Stack.time_passes`` lets those pass at once for rows nobody has touched for
``lease_seconds`` while the queue is (nearly) empty, as the end-to-end tests do; rows in flight (SUBMITTING, DELIVERING) are never moved: the sweepers
take them over after ``DOCUMENT_STUCK_AFTER_SECONDS``, which the campaigns set through the environment. The
periodic tasks are sent by beat on their production schedule and, so that a campaign need not wait 60 s for a
sweep, also by ``Stack.send_periodic`` (the same tasks, more often).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from integrations.simulators.outbound import shared_client

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
WORKER_START_TIMEOUT = 60.0
# The customers of the demo data that are on Peppol (integrations/demo_data.CUSTOMERS), as benchmarks.sending uses.
RECEIVING_DEBTORS = ("10001", "10002", "10003", "10007", "10012")
PERIODIC_TASKS = (
    "outgoing.dispatch_collects",
    "outgoing.work_due",
    "outgoing.sweep",
    "incoming.dispatch_fetches",
    "incoming.work_due",
    "incoming.sweep",
    "webhooks.work_due",
)


class CampaignError(RuntimeError):
    """The stack cannot run here (missing service, wrong settings)."""


# --- the process and its database -----------------------------------------------------------------------------------


def require_services(database_url: str, broker_url: str) -> None:
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise CampaignError(f"set DATABASE_URL=postgres://user@host:5432/<any database> (not {database_url!r})")
    if not broker_url.startswith(("redis://", "rediss://")):
        raise CampaignError(f"set CELERY_BROKER_URL=redis://host:6379/<db> (not {broker_url.split(':')[0]!r})")


def bootstrap(*, db_name: str, var_dir: str, overrides: dict[str, str]) -> None:
    """Settings for this process and the Celery processes it starts (set before Django is imported), a fresh
    database ``db_name`` beside DATABASE_URL's, migrated."""
    from tests.stack.database import admin_connection, configure_environment

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    broker_url = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    require_services(database_url, broker_url)
    if urlsplit(database_url).path.lstrip("/") == db_name:
        raise CampaignError(f"DATABASE_URL must not name {db_name} itself: the campaign drops and recreates it")
    os.environ["CELERY_BROKER_URL"] = broker_url
    configure_environment(database_url, db_name, var_dir, eager=False)
    os.environ.update(overrides)
    with admin_connection(database_url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{db_name}"')

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop_database(db_name: str) -> None:
    from django.db import connections

    from tests.stack.database import admin_connection

    connections.close_all()
    base_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    for _ in range(10):
        try:
            with admin_connection(base_url) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            return
        except Exception:  # noqa: BLE001 - the server may be restarting; try again shortly
            time.sleep(1)


def flush_broker() -> None:
    """Empty the campaign's own Redis database: queued tasks and those a killed worker left unacknowledged."""
    import redis

    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_timeout=5)
    client.flushdb()
    client.close()


# --- the environments -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """One environment: an AFAS Profit administration and an eConnect account, in the simulators and the portal."""

    index: int
    participant: str
    kvk: str
    name: str
    transport: str = "soap"  # "psb": eConnect PSB (REST), receiving by webhook

    @property
    def on_psb(self) -> bool:
        return self.transport == "psb"

    @property
    def key(self) -> str:
        return f"{self.participant}-production"

    @property
    def party(self) -> str:
        return f"0106:{self.kvk}"

    @property
    def token(self) -> str:
        return f"<token><version>1</version><data>campaign-{self.participant}</data></token>"

    @property
    def app_key(self) -> str:
        return f"campaign-{self.participant}"

    @property
    def app_secret(self) -> str:
        return f"campaign-secret-{self.participant}"

    @property
    def psb_client_id(self) -> str:
        return f"campaign-psb-{self.participant}"


# --- the stack ----------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    log_dir: Path
    environments: int = 3
    psb_every: int = 2  # every second environment is on eConnect PSB (0: none)
    lease_seconds: float = 10.0
    idle_queue: int = 20  # at most this many queued messages count as an empty queue (see time_passes)
    deployed_worker: bool = False  # the worker and a web server in processes of its own with DEBUG off, as deployed
    longest_queue: int = 0
    tenants: list[Tenant] = field(default_factory=list)
    afas: Any = None
    econnect: Any = None
    portal: Any = None  # the portal's web server (webhooks)
    worker: Any = None
    beat: Any = None
    worker_starts: int = 0
    _processes: list[Any] = field(default_factory=list)
    _sequence: int = 0

    # --- simulators and the world
    def start_simulators(self) -> None:
        from integrations.afas import simulator as afas_simulator
        from integrations.econnect import simulator as econnect_simulator
        from tests.stack.simulators import serve_simulator

        self.afas = serve_simulator(afas_simulator.create_app())
        # The demo customers are in eConnect's Peppol directory: they are the debtors invoices are sent to.
        self.econnect = serve_simulator(econnect_simulator.create_app(), econnect_simulator.seed_demo)
        os.environ["AFAS_BASE_URL_TEMPLATE"] = f"{self.afas.url}/{{participant}}/{{rest_host}}/ProfitRestServices"
        os.environ["ECONNECT_SOAP_URL"] = f"{self.econnect.url}/soap/v3.1"
        os.environ["ECONNECT_LOOKUP_URL"] = self.econnect.url
        os.environ["ECONNECT_SIMULATOR_CONTROL_URL"] = self.econnect.url
        os.environ["ECONNECT_PSB_URL"] = os.environ["ECONNECT_PSB_IDENTITY_URL"] = self.econnect.url
        from django.conf import settings

        settings.ECONNECT_PSB_URL = settings.ECONNECT_PSB_IDENTITY_URL = self.econnect.url
        settings.AFAS_BASE_URL_TEMPLATE = os.environ["AFAS_BASE_URL_TEMPLATE"]
        settings.ECONNECT_SOAP_URL = os.environ["ECONNECT_SOAP_URL"]
        settings.ECONNECT_LOOKUP_URL = os.environ["ECONNECT_LOOKUP_URL"]
        settings.ECONNECT_SIMULATOR_CONTROL_URL = os.environ["ECONNECT_SIMULATOR_CONTROL_URL"]

    def set_up_world(self) -> None:
        """Environments that send and receive, in both simulators and in the portal."""
        import httpx

        from integrations.afas.simulator.documents import nl_vat
        from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier, SyncCursor
        from portal.organisations.services import environment_set_credentials
        from tests.stack.world import debtor_rows

        self.tenants = [
            Tenant(
                index,
                f"{46000 + index}",
                f"{64000000 + index}",
                f"Campagne klant {index + 1} B.V.",
                "psb" if self.psb_every and index % self.psb_every == self.psb_every - 1 else "soap",
            )
            for index in range(self.environments)
        ]
        fixtures = {
            "environments": [
                {
                    "participant": tenant.participant,
                    "environment_type": "production",
                    "edition": "profit",
                    "organisation": {"name": tenant.name, "kvk": tenant.kvk, "vat": nl_vat(tenant.kvk)},
                    "tokens": [{"token": tenant.token, "connectors": None}],
                    "debtors": debtor_rows(),
                }
                for tenant in self.tenants
            ]
        }
        firm = Firm.objects.create(name="Campaign accountants")
        with httpx.Client(timeout=30) as http:
            http.post(f"{self.afas.url}/_sim/fixtures", json=fixtures).raise_for_status()
            for tenant in self.tenants:
                organisation = Organisation.objects.create(firm=firm, name=tenant.name, kvk_number=tenant.kvk)
                environment = Environment.objects.create(
                    organisation=organisation,
                    afas_participant_number=tenant.participant,
                    sending_enabled=True,
                    receiving_enabled=True,
                    poll_interval_seconds=60,
                )
                OwnPeppolIdentifier.objects.create(
                    environment=environment, scheme="0106", value=tenant.kvk, receive_active=True
                )
                if tenant.on_psb:
                    from campaigns.portal_web import connect_over_psb

                    connect_over_psb(http, self.econnect.url, environment, tenant)
                    continue
                http.post(
                    f"{self.econnect.url}/_sim/accounts",
                    json={
                        "app_key": tenant.app_key,
                        "app_secret": tenant.app_secret,
                        "network": "production",
                        "name": tenant.name,
                        "parties": [{"id": tenant.party, "name": tenant.name}],
                        "duplicates_visible": True,
                    },
                ).raise_for_status()
                environment_set_credentials(
                    environment=environment,
                    actor=None,
                    afas_token=tenant.token,
                    econnect_app_key=tenant.app_key,
                    econnect_app_secret=tenant.app_secret,
                )
                # Receiving is switched on now: the inbox is read from this moment (as the receiving switch does).
                SyncCursor.objects.create(
                    environment=environment,
                    stream=SyncCursor.Stream.ECONNECT_INBOX,
                    position=datetime.now(UTC).isoformat(),
                )

    # --- the stream of invoices
    def issue_outgoing(self, tenant: Tenant, debtor: str) -> str:
        """A sales invoice issued in AFAS (issue method R: the portal sends it); its number."""
        self._sequence += 1
        response = shared_client().post(
            f"{self.afas.url}/_sim/environments/{tenant.key}/sales-invoices",
            json={
                "debtor": debtor,
                "lines": [
                    {"description": "Campagne", "quantity": "2", "price": f"{10 + self._sequence % 90}.00", "vat": "21"}
                ],
            },
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["number"])

    def inject_incoming(self, tenant: Tenant, number: str) -> tuple[str, str]:
        """A purchase invoice from a supplier arrives in the environment's eConnect inbox: (external id, SHA-256)."""
        from integrations.peppol.model import Address, Identifier, Party
        from tests.stack.world import purchase_document

        self._sequence += 1
        customer = Party(
            name=tenant.name,
            endpoint=Identifier("0106", tenant.kvk),
            legal_id=Identifier("0106", tenant.kvk),
            address=Address(country_code="NL", street="Dorpsstraat 1", city="Zwolle", postal_zone="8011 AA"),
        )
        payload = purchase_document(
            customer,
            self._sequence % 37,
            number,
            date(2025, 1, 1) + timedelta(days=self._sequence % 300),
            Decimal(10 + self._sequence % 90),
        )
        if tenant.on_psb:  # announced to the portal by webhook
            response = shared_client().post(
                f"{self.econnect.url}/_sim/psb/inbox",
                json={"party": tenant.party, "payload_base64": base64.b64encode(payload).decode()},
                timeout=30,
            )
            response.raise_for_status()
            return response.json()["document_id"], hashlib.sha256(payload).hexdigest()
        response = shared_client().post(
            f"{self.econnect.url}/_sim/inbox",
            json={
                "receiver": tenant.party,
                "network": "production",
                "payload_base64": base64.b64encode(payload).decode(),
            },
            timeout=30,
        )
        response.raise_for_status()
        document = response.json()
        return document["external_id"], document["sha256"]

    # --- Celery processes
    def celery_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            CELERY_TASK_ALWAYS_EAGER="false",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
            PYTHONUNBUFFERED="1",
        )
        return env

    def start_worker(self, *, wait: bool = True) -> Any:
        from tests.stack.celery import CeleryProcess, as_deployed

        hostname = f"campaign-{uuid.uuid4().hex[:8]}@%h"
        worker = CeleryProcess(
            "worker",
            ["worker", "--pool=prefork", "--concurrency=2", "-l", "INFO", "-n", hostname,
             "--without-gossip", "--without-mingle"],
            as_deployed(self.celery_env()) if self.deployed_worker else self.celery_env(),
            self.log_dir / "worker.log",
        )  # fmt: skip
        worker.start()
        worker.node = hostname.replace("%h", socket.gethostname())
        self._processes.append(worker)
        self.worker = worker
        self.worker_starts += 1
        if wait:
            self.wait_for_worker()
        return worker

    def wait_for_worker(self, timeout: float = WORKER_START_TIMEOUT) -> None:
        """Until the worker answers a ping over the broker (it is consuming)."""
        from portal.celery_app import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.worker.alive:
                raise CampaignError(f"the worker exited at start:\n{self.worker.log_tail()}")
            try:
                if app.control.ping(destination=[self.worker.node], timeout=0.5):
                    return
            except Exception:  # noqa: BLE001 - the broker may be restarting
                time.sleep(0.5)
        raise CampaignError(f"the worker did not answer within {timeout:.0f} s:\n{self.worker.log_tail()}")

    def kill_worker(self) -> None:
        """SIGKILL to the worker's process group: the main process and both pool processes die mid-task."""
        self.worker.kill()
        self.worker.stop()  # closes the log; the group is gone already
        self._processes.remove(self.worker)

    def start_beat(self) -> Any:
        from tests.stack.celery import CeleryProcess

        beat = CeleryProcess(
            "beat",
            ["beat", "-l", "INFO", "--pidfile=", "-s", str(self.log_dir / "celerybeat-schedule")],
            self.celery_env(),
            self.log_dir / "beat.log",
        )
        beat.start()
        self._processes.append(beat)
        self.beat = beat
        return beat

    def stop_processes(self) -> None:
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()

    # --- time
    def send_periodic(self) -> None:
        """The periodic tasks, sent as beat sends them (in addition to beat)."""
        from portal.celery_app import app

        for name in PERIODIC_TASKS:
            app.send_task(name)

    def queue_length(self) -> int:
        """Messages waiting in the broker's default queue."""
        import redis

        client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_timeout=5)
        try:
            return int(client.llen("celery"))
        finally:
            client.close()

    def time_passes(self) -> None:
        """Let the waits of production pass (see the module's doc).

        The polling interval, the wait before a status poll and eConnect's delivery pass at every tick. The leases
        (a collect, a fetch, queued work; a NEW or RECEIVED row nobody took; a claimed webhook event) pass only for rows untouched for
        ``lease_seconds`` and only while the queue is (nearly) empty: production's leases of 5 and 10 minutes are
        long beside the seconds a message waits in the queue, and so is ``lease_seconds`` beside an empty queue.
        With a long queue, a lease that ran out would only queue the same work again behind itself."""
        from django.db.models import F
        from django.utils import timezone

        from portal.incoming_invoices.models import IncomingInvoice
        from portal.organisations.models import Environment
        from portal.outgoing_invoices.models import OutgoingInvoice
        from portal.webhooks.models import WebhookEvent
        from portal.webhooks.services import PROCESS_LEASE

        now = timezone.now()
        # The polling interval of every environment has passed.
        Environment.objects.update(next_collect_at=None, next_fetch_at=None)
        # The 30 s (and later 5 minutes) before a status poll have passed.
        OutgoingInvoice.objects.filter(status=OutgoingInvoice.Status.SUBMITTED, next_attempt_at__gt=now).update(
            next_attempt_at=F("submitted_at")
        )
        # eConnect delivers a sent invoice after a minute on its own clock.
        self.econnect_post("/_sim/clock", {"advance": 30})

        backlog = self.queue_length()
        self.longest_queue = max(self.longest_queue, backlog)
        if backlog > self.idle_queue:
            return
        quiet_since = now - timedelta(seconds=self.lease_seconds)
        long_ago = now - timedelta(minutes=15)
        # Collect and fetch leases (10 minutes) taken more than lease_seconds ago have run out.
        lease_taken_before = now + timedelta(minutes=10) - timedelta(seconds=self.lease_seconds)
        Environment.objects.filter(collect_lease_until__lt=lease_taken_before).update(collect_lease_until=None)
        Environment.objects.filter(fetch_lease_until__lt=lease_taken_before).update(fetch_lease_until=None)
        for model in (OutgoingInvoice, IncomingInvoice, WebhookEvent):
            # Dispatch leases (5 minutes): work queued that long ago and not done is queued again.
            model.objects.filter(dispatched_at__lt=quiet_since).update(dispatched_at=long_ago)
        # NEW and RECEIVED rows nobody prepared or processed within 5 minutes are prepared or processed again.
        OutgoingInvoice.objects.filter(status=OutgoingInvoice.Status.NEW, status_changed_at__lt=quiet_since).update(
            status_changed_at=long_ago
        )
        IncomingInvoice.objects.filter(
            status=IncomingInvoice.Status.RECEIVED, status_changed_at__lt=quiet_since
        ).update(status_changed_at=long_ago)
        # A webhook event whose processing was claimed (a 5-minute lease) and not finished, e.g. the database went
        # away under it, and one waiting for a retry, is due again.
        WebhookEvent.objects.filter(
            outcome=WebhookEvent.Outcome.PENDING, next_attempt_at__lt=now + PROCESS_LEASE - (now - quiet_since)
        ).update(next_attempt_at=long_ago)

    # --- simulator control APIs
    def econnect_get(self, path: str, **params) -> Any:
        response = shared_client().get(self.econnect.url + path, params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def econnect_post(self, path: str, body: dict) -> Any:
        response = shared_client().post(self.econnect.url + path, json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def afas_get(self, path: str) -> Any:
        response = shared_client().get(self.afas.url + path, timeout=60)
        response.raise_for_status()
        return response.json()

    def start_portal(self, *, own_processes: bool = False) -> None:
        """The portal's web server, where eConnect PSB posts its webhooks (``campaigns.portal_web``): in this
        process, or (``own_processes``) under gunicorn as deployed."""
        from campaigns.portal_web import serve_portal, serve_portal_processes
        from tests.stack.celery import as_deployed

        if own_processes:
            env = as_deployed(self.celery_env()) if self.deployed_worker else self.celery_env()
            self.portal = serve_portal_processes(env, self.log_dir / "web.log")
        else:
            self.portal = serve_portal()

    def stop_simulators(self) -> None:
        for simulator in (self.portal, self.afas, self.econnect):
            if simulator is not None:
                with suppress(Exception):
                    simulator.stop()

    def logs(self, lines: int = 40) -> str:
        return "\n".join(
            f"--- {process.name} ({process.log_path}) ---\n{process.log_tail(lines)}"
            for process in (self.worker, self.beat)
            if process is not None
        )


@contextmanager
def running_stack(
    *,
    db_name: str,
    environments: int,
    lease_seconds: float,
    overrides: dict[str, str],
    keep: bool = False,
    web_processes: bool = False,
    deployed_worker: bool = False,
) -> Iterator[Stack]:
    """The stack on a fresh database ``db_name`` with an empty broker database, a worker and beat running; all
    stopped and dropped afterwards (``keep`` keeps the database and the logs). ``web_processes``: the portal's web
    server under gunicorn, as deployed, instead of in this process."""
    var_dir = tempfile.mkdtemp(prefix=f"{db_name}-")
    try:
        bootstrap(db_name=db_name, var_dir=var_dir, overrides=overrides)
    except BaseException:
        shutil.rmtree(var_dir, ignore_errors=True)
        raise
    flush_broker()
    log_dir = Path(var_dir) / "logs"
    log_dir.mkdir()
    stack = Stack(
        log_dir=log_dir, environments=environments, lease_seconds=lease_seconds, deployed_worker=deployed_worker
    )
    try:
        stack.start_simulators()
        stack.start_portal(own_processes=web_processes)
        stack.set_up_world()
        from django.db import connections

        from portal.core.schedules import periodic_tasks_sync

        periodic_tasks_sync()
        connections.close_all()
        stack.start_worker()
        stack.start_beat()
        yield stack
    finally:
        stack.stop_processes()
        stack.stop_simulators()
        with suppress(Exception):
            flush_broker()
        if keep:
            print(f"Kept the database {db_name} and the logs in {log_dir}")
        else:
            drop_database(db_name)
            shutil.rmtree(var_dir, ignore_errors=True)


def wait_until(
    condition: Callable[[], Any], *, timeout: float, every: float = 1.0, tick: Callable[[], None] | None = None
) -> Any:
    """Poll ``condition`` until truthy or ``timeout``; run ``tick`` before each poll. Returns the last result."""
    deadline = time.monotonic() + timeout
    while True:
        if tick is not None:
            tick()
        result = condition()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(every)


def print_table(title: str, rows: list[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in rows)
    print()
    print(title)
    for label, value in rows:
        print(f"  {label:<{width}}  {value:>10}")
    sys.stdout.flush()
