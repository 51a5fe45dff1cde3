"""The portal served over HTTP inside a campaign's process, so that eConnect PSB (the simulator) can post its webhooks
to it, and an environment put on PSB: a PSB client at the simulator, its credentials, and its hook registered
through the portal's own "connect webhooks"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from campaigns.stack import Tenant
from tests.stack.waiting import wait_for


class PortalServer:
    def __init__(self, server: Any, thread: threading.Thread):
        self.server, self.thread = server, thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_portal() -> PortalServer:
    """The portal's WSGI application on a free loopback port; each request closes its database connection (a
    request runs in a thread of its own). ``PORTAL_PUBLIC_URL`` is set to it: DEBUG accepts plain HTTP there."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    from integrations.simulators.server import make_server

    django_app = get_wsgi_application()

    def app(environ, start_response):
        try:
            return list(django_app(environ, start_response))
        finally:
            connections.close_all()

    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    portal = PortalServer(server, thread)
    os.environ["PORTAL_PUBLIC_URL"] = settings.PORTAL_PUBLIC_URL = portal.url
    return portal


class PortalProcess:
    """The portal under gunicorn in processes of its own, as deployed: its webhook requests do not wait for the
    simulators' or the benchmark's Python in this process."""

    def __init__(self, process: subprocess.Popen, url: str):
        self.process, self.url = process, url

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_portal_processes(env: dict[str, str], log_path: Path, *, workers: int = 2) -> PortalProcess:
    """``gunicorn portal.wsgi`` on a free loopback port with ``workers`` processes; returns once it answers.
    ``PORTAL_PUBLIC_URL`` is set to it."""
    import httpx
    from django.conf import settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--access-logfile", "-"],
        env={**env, "PORTAL_PUBLIC_URL": url}, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start; see {log_path}")
        try:
            return httpx.get(f"{url}/healthz", timeout=2) is not None
        except httpx.HTTPError:
            return False

    portal = PortalProcess(process, url)
    try:
        wait_for(answers, timeout=60, what=f"gunicorn to answer (log: {log_path})", every=0.2)
    except RuntimeError:
        portal.stop()
        raise
    os.environ["PORTAL_PUBLIC_URL"] = settings.PORTAL_PUBLIC_URL = url
    return portal


def connect_over_psb(http, econnect_url: str, environment, tenant: Tenant) -> None:
    """The tenant's environment on eConnect PSB: a PSB client at the simulator, its credentials, acknowledging
    with AB, and its webhooks connected to the portal's web server."""
    from portal.organisations.models import Environment
    from portal.organisations.services import environment_set_credentials
    from portal.webhooks.connect import environment_connect_webhooks

    http.post(
        f"{econnect_url}/_sim/psb/clients",
        json={"client_id": tenant.psb_client_id, "client_secret": tenant.app_secret, "parties": [tenant.party]},
    ).raise_for_status()
    Environment.objects.filter(pk=environment.pk).update(
        econnect_transport=Environment.EConnectTransport.PSB,
        econnect_psb_party_id=tenant.party,
        econnect_psb_send_acknowledgement=True,
    )
    environment_set_credentials(
        environment=environment,
        actor=None,
        afas_token=tenant.token,
        econnect_psb_client_id=tenant.psb_client_id,
        econnect_psb_client_secret=tenant.app_secret,
    )
    environment.refresh_from_db()
    environment_connect_webhooks(environment=environment, actor=None)


class UnreliableWebhooks:
    """eConnect's webhook deliveries as a bad network makes them: of each delivery, ``lost`` never reaches the
    portal and ``unanswered`` reaches it but its answer never comes back (so eConnect sends it again). Both are
    retried by the simulator on its schedule; counted for the campaign's table."""

    def __init__(self, rng, *, lost: float, unanswered: float):
        from integrations.econnect.simulator.psb_hooks import post_over_http

        self.rng, self.lost, self.unanswered, self._post = rng, lost, unanswered, post_over_http
        self.counts = {"lost": 0, "unanswered": 0}
        self._lock = threading.Lock()

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            draw = self.rng.random()
        if draw < self.lost:
            self.counts["lost"] += 1
            return 0
        status = self._post(url, body, headers)
        if draw < self.lost + self.unanswered:
            self.counts["unanswered"] += 1
            return 0
        return status
