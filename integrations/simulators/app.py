"""A minimal WSGI application base for the simulators: routing, JSON helpers, faults and the ``/_sim`` control API."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from integrations.simulators.faults import ConnectionDropped, Fault, FaultRegistry, SimulatedTimeout

MAX_REQUEST_BYTES = 50 * 1024 * 1024
READ_TIMEOUT_HEADER = "x-simulator-read-timeout"

REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Request:
    method: str
    path: str  # without the query string, percent-decoded by the server
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    def query_value(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter, name matched case-insensitively."""
        for key, value in self.query:
            if key.lower() == name.lower():
                return value
        return default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status, json.dumps(data).encode(), {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode(), {"Content-Type": content_type})


Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    operation: str  # the name faults are matched against, may use {group} placeholders


class SimulatorApp:
    """Subclasses add routes in ``__init__`` and keep their state in a ``StateStore``.

    Control API (JSON): ``GET /_sim/health``, ``POST /_sim/reset``, ``GET|POST|DELETE /_sim/faults``,
    plus whatever the subclass adds under ``/_sim/``.
    """

    name = "simulator"

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.faults = FaultRegistry()
        self.route("GET", r"/_sim/health", self._sim_health, operation="_sim")
        self.route("POST", r"/_sim/reset", self._sim_reset, operation="_sim")
        self.route("GET", r"/_sim/faults", self._sim_faults_list, operation="_sim")
        self.route("POST", r"/_sim/faults", self._sim_faults_add, operation="_sim")
        self.route("DELETE", r"/_sim/faults", self._sim_faults_clear, operation="_sim")

    # --- routing -------------------------------------------------------------------------------------------
    def route(
        self, method: str, pattern: str, handler: Handler, *, operation: str | None = None, ignore_case: bool = False
    ):
        flags = re.IGNORECASE if ignore_case else 0
        self.routes.append(
            Route(method.upper(), re.compile(f"^{pattern}$", flags), handler, operation or f"{method} {pattern}")
        )

    def handler_lock(self):
        """Held around a route handler only, never around an injected delay: a slow fault must not freeze the rest."""
        state = getattr(self, "state", None)
        return state.lock if state is not None else contextlib.nullcontext()

    def operation_for(self, request: Request, route: Route, match: re.Match[str]) -> str:
        """The operation name faults match against. Subclasses may refine it (e.g. the SOAP action)."""
        return route.operation.format(**match.groupdict())

    def handle(self, request: Request) -> Response:
        path_matched = False
        for route in self.routes:
            match = route.pattern.match(request.path)
            if not match:
                continue
            path_matched = True
            if route.method != request.method:
                continue
            if request.path.startswith("/_sim/"):
                with self.handler_lock():
                    return route.handler(request, **match.groupdict())
            operation = self.operation_for(request, route, match)
            fault = self.faults.take(operation, "before")
            if fault:
                return self._apply(fault, None, request)
            with self.handler_lock():
                response = route.handler(request, **match.groupdict())
            fault = self.faults.take(operation, "after")
            return self._apply(fault, response, request) if fault else response
        if path_matched:
            return Response.json({"error": "method not allowed"}, 405)
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": f"no such path: {request.path}"}, 404)

    @staticmethod
    def _apply(fault: Fault, response: Response | None, request: Request) -> Response:
        if fault.delay:
            # In-process (SimulatorTransport) there is no socket to time out: it passes the client's read timeout
            # along, and a delay beyond it becomes the timeout the client would have seen, without waiting.
            read_timeout = request.headers.get(READ_TIMEOUT_HEADER)
            if read_timeout and fault.delay >= float(read_timeout):
                raise SimulatedTimeout()
            time.sleep(fault.delay)
        if fault.drop:
            raise ConnectionDropped()
        if fault.status is not None:
            return Response(fault.status, (fault.body or "").encode(), {"Content-Type": "text/plain", **fault.headers})
        if fault.body is not None:
            headers = dict(response.headers) if response else {}
            headers.update(fault.headers)
            return Response(response.status if response else 200, fault.body.encode(), headers)
        if response is None:
            return Response.json({"error": "injected fault without status"}, 500)
        return Response(response.status, response.body, {**response.headers, **fault.headers})

    # --- control API -----------------------------------------------------------------------------------------
    def _sim_health(self, request: Request) -> Response:
        return Response.json({"simulator": self.name, "ok": True})

    def _sim_reset(self, request: Request) -> Response:
        self.faults.clear()
        self.reset()
        return Response.json({"reset": True})

    def reset(self) -> None:
        """Subclasses reset their state here."""

    def _sim_faults_list(self, request: Request) -> Response:
        return Response.json({"faults": self.faults.as_list()})

    def _sim_faults_add(self, request: Request) -> Response:
        try:
            spec = request.json()
            fault = Fault(**{key: value for key, value in spec.items() if key != "hits"})
        except (TypeError, ValueError) as exc:
            return Response.json({"error": f"invalid fault: {exc}"}, 400)
        self.faults.add(fault)
        return Response.json({"added": fault.as_dict()}, 201)

    def _sim_faults_clear(self, request: Request) -> Response:
        self.faults.clear()
        return Response.json({"cleared": True})

    # --- WSGI ---------------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_REQUEST_BYTES:
            response = Response.json({"error": "request too large"}, 413)
        else:
            body = environ["wsgi.input"].read(length) if length else b""
            headers = {
                key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
            }
            if environ.get("CONTENT_TYPE"):
                headers["content-type"] = environ["CONTENT_TYPE"]
            request = Request(
                method=environ["REQUEST_METHOD"].upper(),
                path=environ.get("PATH_INFO", "") or "/",
                query_string=environ.get("QUERY_STRING", ""),
                headers=headers,
                body=body,
            )
            response = self.handle(request)
        headers = {"Content-Length": str(len(response.body)), **response.headers}
        start_response(f"{response.status} {REASONS.get(response.status, 'Status')}", list(headers.items()))
        return [response.body]
