"""A minimal WSGI application base for the simulators: routing, JSON helpers, faults and the ``/_sim`` control API."""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from integrations.simulators.control import ControlError, ControlSpec, parse_json, read_control_json
from integrations.simulators.faults import TRICKLE_CHUNKS, ConnectionDropped, Fault, FaultRegistry, SimulatedTimeout

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
        """The body as JSON (empty = None) for a simulated service; ``ValueError`` (with a clear message) for
        anything that is not strict JSON, which the handler answers the way the real service does."""
        return parse_json(self.body or b"null")

    def control_json(self, expected: type = dict) -> Any:
        """The body of a ``/_sim`` control request as ``expected`` (empty = empty); ``ControlError`` (400) if not."""
        return read_control_json(self.body, expected)

    def control_spec(self) -> ControlSpec:
        """The body of a control request as a JSON object with typed field reads (``ControlError`` = 400)."""
        return ControlSpec.of(self.body)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between the body's chunks (a slow answer, see ``Fault.trickle``)

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
    plus whatever the subclass adds under ``/_sim/``. Control handlers read their body with ``request.control_json``
    or ``request.control_spec`` (``integrations.simulators.control``): whatever is wrong with it, or with one of its
    fields, raises ``ControlError``, answered here as ``400 {"error": "..."}`` naming the field.
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
                return self._run(route, request, match)
            operation = self.operation_for(request, route, match)
            fault = self.faults.take(operation, "before")
            if fault:
                return self._apply(fault, None, request)
            response = self._run(route, request, match)
            fault = self.faults.take(operation, "after")
            return self._apply(fault, response, request) if fault else response
        if path_matched:
            return Response.json({"error": "method not allowed"}, 405)
        return self.not_found(request)

    def _run(self, route: Route, request: Request, match: re.Match[str]) -> Response:
        with self.handler_lock():
            try:
                return route.handler(request, **match.groupdict())
            except ControlError as exc:
                return Response.json({"error": str(exc)}, 400)

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": f"no such path: {request.path}"}, 404)

    @classmethod
    def _apply(cls, fault: Fault, response: Response | None, request: Request) -> Response:
        answer = cls._answer_for(fault, response, request)
        if fault.trickle:
            # In-process a gap as long as the client's read timeout is that timeout, as with ``delay``.
            read_timeout = _read_timeout(request)
            if read_timeout is not None and fault.trickle >= read_timeout:
                raise SimulatedTimeout()
            answer.trickle = fault.trickle
        return answer

    @staticmethod
    def _answer_for(fault: Fault, response: Response | None, request: Request) -> Response:
        if fault.delay:
            # In-process (SimulatorTransport) there is no socket to time out: it passes the client's read timeout
            # along, and a delay beyond it becomes the timeout the client would have seen, without waiting.
            read_timeout = _read_timeout(request)
            if read_timeout is not None and fault.delay >= read_timeout:
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
        spec = request.control_json(dict)
        try:
            fault = Fault.from_spec(spec)
        except ValueError as exc:
            raise ControlError(f"invalid fault: {exc}") from None
        self.faults.add(fault)
        return Response.json({"added": fault.as_dict()}, 201)

    def _sim_faults_clear(self, request: Request) -> Response:
        self.faults.clear()
        return Response.json({"cleared": True})

    # --- WSGI ---------------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = _content_length(environ.get("CONTENT_LENGTH"))
        if length is None:
            response = Response.json({"error": "invalid Content-Length"}, 400)
        elif length > MAX_REQUEST_BYTES:
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
        if response.trickle:
            return _trickled(response.body, response.trickle)
        return [response.body]


def _content_length(value: str | None) -> int | None:
    """The request's length; None when the header is not a plain non-negative number (a negative one would make the
    server read until the client closes)."""
    text = (value or "0").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _read_timeout(request: Request) -> float | None:
    """The client's read timeout that ``SimulatorTransport`` passes along (in-process only); None if absent or odd."""
    try:
        value = float(request.headers.get(READ_TIMEOUT_HEADER, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _trickled(body: bytes, gap: float) -> Iterable[bytes]:
    """The body in ``TRICKLE_CHUNKS`` pieces, ``gap`` seconds before each (the server flushes every piece)."""
    bounds = [len(body) * index // TRICKLE_CHUNKS for index in range(TRICKLE_CHUNKS + 1)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        time.sleep(gap)
        yield body[start:end]
