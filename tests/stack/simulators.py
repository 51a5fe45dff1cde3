"""A simulator served over HTTP from a daemon thread on a free loopback port."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integrations.simulators.server import make_server, start_heartbeat


def no_seed(app: Any) -> None:
    """For a simulator that starts empty."""


@dataclass
class LiveSimulator:
    app: Any
    server: Any
    thread: threading.Thread
    seed: Callable[[Any], None]
    heartbeat: threading.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def reset(self) -> None:
        """Back to the seeded state, without faults."""
        self.app.faults.clear()
        self.app.reset()
        self.seed(self.app)

    def stop(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.set()
        self.server.shutdown()
        self.server.server_close()


def serve_simulator(app: Any, seed: Callable[[Any], None] = no_seed) -> LiveSimulator:
    seed(app)
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return LiveSimulator(app, server, thread, seed, start_heartbeat(app, interval=0.2))
