"""Mount a simulator in-process for tests: httpx talks to the WSGI app directly, no socket, same contract."""

from __future__ import annotations

import httpx

from integrations.simulators.app import READ_TIMEOUT_HEADER
from integrations.simulators.faults import ConnectionDropped, SimulatedTimeout


class SimulatorTransport(httpx.BaseTransport):
    """An httpx transport over a simulator's WSGI app that fails the way a real connection would."""

    def __init__(self, app) -> None:
        self._wsgi = httpx.WSGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        if read_timeout is not None:
            request.headers[READ_TIMEOUT_HEADER] = str(read_timeout)
        try:
            return self._wsgi.handle_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from exc
        except SimulatedTimeout as exc:
            raise httpx.ReadTimeout("timed out (simulated)", request=request) from exc
