"""A ``celery`` worker or beat as a subprocess in its own process group, and emptying the broker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


# The settings whose defaults with DEBUG on are the local simulators (portal/settings.py).
SIMULATOR_SETTINGS = (
    "AFAS_BASE_URL_TEMPLATE", "AFAS_SB_BASE_URL_TEMPLATE", "ECONNECT_SOAP_URL", "ECONNECT_SIMULATOR_CONTROL_URL",
    "ECONNECT_LOOKUP_URL", "ECONNECT_PSB_URL", "ECONNECT_PSB_IDENTITY_URL", "PORTAL_PUBLIC_URL",
    "ECONNECT_SUBSCRIPTION_KEY",
)  # fmt: skip


def as_deployed(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a worker that runs as deployed: DEBUG off (no query log, no debug cursor), so its task times are
    those of production; what DEBUG would have pointed at the simulators is set explicitly, as a deployment does."""
    from django.conf import settings

    deployed = dict(env, DEBUG="false", SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="127.0.0.1,localhost")
    for name in SIMULATOR_SETTINGS:
        deployed.setdefault(name, str(getattr(settings, name)))
    return deployed


@dataclass
class CeleryProcess:
    """A ``celery`` subprocess in its own process group, its output in a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    _log: Any = None

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== {self.name} started {time.strftime('%H:%M:%S')} =====\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", *self.args],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool's children are stopped (or killed) with it
        )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: the main process and every pool child die mid-task, nothing is acked."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (warm shutdown), then SIGKILL if it does not end in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        # Children that outlived their parent (after a SIGKILL of the parent only) are ours to end too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def purge_broker() -> None:
    """Drop what earlier runs left: queued messages, and unacknowledged ones a killed worker left to be restored."""
    from portal.celery_app import app

    app.control.purge()
    with app.connection_for_write() as connection_:
        channel = connection_.default_channel
        client = getattr(channel, "client", None)
        keys = [getattr(channel, name, None) for name in ("unacked_key", "unacked_index_key", "unacked_mutex_key")]
        if client is not None and all(keys):
            client.delete(*keys)
