"""The one HTTP choke point for every external call: explicit timeouts, typed errors, retries only when transient.

Clients (AFAS, eConnect) build on ``HttpClient``. Transport failures become typed errors here; each client maps
its service's status codes and error bodies onto the same types. Nothing here logs headers, bodies or query strings:
they carry tokens and secrets. Every call sends the current correlation id (``integrations.correlation``) as
``X-Correlation-ID`` and logs it, so one id ties a beat dispatch, its tasks and their calls together.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from integrations.correlation import HEADER as CORRELATION_HEADER
from integrations.correlation import current_correlation_id, new_correlation_id

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
# A Retry-After beyond this is capped: a task reschedules itself instead of waiting that long.
MAX_RETRY_AFTER_SECONDS = 3600.0

T = TypeVar("T")


class RemoteError(Exception):
    """A call to an external service failed. ``transient`` says whether trying again later can help."""

    transient = False

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.service = service
        self.status = status
        self.code = code  # the remote system's own error code, kept for the person who has to act
        self.retry_after = retry_after

    @property
    def service_stalled(self) -> bool:
        """The service did not answer in time, or asked to wait: the rest of a batch is not sent to it now (a service
        that hangs costs one timeout, not one per document)."""
        return isinstance(self, RemoteTimeout) or (self.transient and self.retry_after is not None)


class TransientError(RemoteError):
    """Timeouts, connection failures, 5xx, 429, 503 with Retry-After: retried with backoff."""

    transient = True


class PermanentError(RemoteError):
    """4xx and refusals that the same request will meet again: stop and tell a person."""


class RemoteTimeout(TransientError):
    """No answer in time. The remote may or may not have acted on the request: check before repeating a write."""


class RemoteUnavailable(TransientError):
    """Could not connect, the connection broke, or the service said it is unavailable."""


class MalformedResponse(TransientError):
    """The answer could not be read (e.g. an HTML error page from a proxy instead of JSON or SOAP)."""


class AuthenticationError(PermanentError):
    """Credentials missing, wrong or expired beyond renewal."""


class AccessDenied(PermanentError):
    """Authenticated, but not allowed (e.g. an IP restriction or a connector the token may not use)."""


_tls = {"context": None, "pid": None}
_tls_lock = threading.Lock()


def shared_tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, shared by every client.

    Building one loads the CA bundle and costs about 20 ms; a context per client made client construction half of
    a worker's time per invoice (benchmarks/sending.py). Built lazily, and again after a fork.
    """
    with _tls_lock:
        return _tls_context_locked()


def _tls_context_locked() -> ssl.SSLContext:
    if _tls["context"] is None or _tls["pid"] != os.getpid():
        _tls["context"], _tls["pid"] = httpx.create_ssl_context(), os.getpid()
    return _tls["context"]


# Kept-alive connections are closed well before servers close idle ones, so that a request is not written into a
# connection the server is closing. [GUESS G-HTTP-1] AFAS and eConnect keep an idle connection open longer than this.
KEEPALIVE_EXPIRY_SECONDS = 5.0
_pool = {"transport": None, "pid": None}


def shared_transport() -> httpx.BaseTransport:
    """One connection pool per process, shared by every client: a call reuses a kept-alive connection to the same
    host instead of a new TCP connection and TLS handshake. Built lazily, and again after a fork (a child never uses
    its parent's sockets)."""
    with _tls_lock:
        if _pool["transport"] is None or _pool["pid"] != os.getpid():
            _pool["transport"] = httpx.HTTPTransport(
                verify=_tls_context_locked(),
                # A request goes out in two writes (headers, body); on a kept-alive connection Nagle's algorithm
                # would hold the body back until the server's delayed ACK. (urllib3 sets this too.)
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20,
                                    keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS),
            )  # fmt: skip
            _pool["pid"] = os.getpid()
        return _pool["transport"]


class _Borrowed(httpx.BaseTransport):
    """The shared pool as one client's transport: closing the client leaves the pool to the others."""

    def __init__(self, pool: httpx.BaseTransport):
        self._pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool.handle_request(request)

    def close(self) -> None:
        pass


class HttpClient:
    """An httpx client with explicit timeouts whose transport failures are typed errors. Its connections come from
    the process's shared pool (``shared_transport``).

    ``transport`` lets tests mount a simulator in-process (see ``integrations.simulators.transport``).
    """

    def __init__(
        self,
        *,
        service: str,
        base_url: str = "",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.service = service
        self._client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers=dict(headers or {}),
            transport=transport or _Borrowed(shared_transport()),
            follow_redirects=False,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        content: bytes | None = None,
        json: Any = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send one request. Returns the response whatever its status; raises only for transport failures."""
        started = time.monotonic()
        extra = {"timeout": timeout} if timeout is not None else {}
        # Work outside any bound id (a shell, a one-off command) still gets one per call, so both sides can match it.
        correlation_id = current_correlation_id() or new_correlation_id()
        headers = {**(headers or {}), CORRELATION_HEADER: correlation_id}
        path = httpx.URL(url).path  # never the query string: it may carry a key (eConnect's subscriptionKey)
        log_extra = {"correlation_id": correlation_id}  # the log formatter writes it on the line
        deadline = _deadline(started, timeout or self._client.timeout)
        try:
            request = self._client.build_request(
                method, url, headers=headers, params=params, content=content, json=json, **extra
            )
            response = self._read_before(deadline, self._client.send(request, stream=True))
        except httpx.TimeoutException as exc:
            logger.info(
                "%s %s %s -> no answer in time (%s)",
                self.service,
                method,
                path,
                type(exc).__name__,
                extra=log_extra,
            )
            raise RemoteTimeout(
                f"{self.service} did not answer in time ({type(exc).__name__}).", service=self.service
            ) from exc
        except httpx.TransportError as exc:
            logger.info(
                "%s %s %s -> unreachable (%s)",
                self.service,
                method,
                path,
                type(exc).__name__,
                extra=log_extra,
            )
            raise RemoteUnavailable(
                f"Could not reach {self.service}: {type(exc).__name__}: {exc}", service=self.service
            ) from exc
        logger.debug(
            "%s %s %s -> %s in %.0f ms",
            self.service,
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            extra=log_extra,
        )
        return response

    @staticmethod
    def _read_before(deadline: float | None, streamed: httpx.Response) -> httpx.Response:
        """The whole answer, or ``httpx.ReadTimeout`` once the deadline passes: a read timeout alone applies to each
        socket read, so an answer that trickles in would hold the worker for as long as it takes."""
        if streamed.is_stream_consumed:  # a transport that read the answer itself (a test double): it is all here
            return streamed
        try:
            body = bytearray()
            for chunk in streamed.iter_raw():
                body += chunk
                _check(deadline, streamed.request)
            _check(deadline, streamed.request)  # the end of the answer counts too (empty pieces are not yielded)
        finally:
            streamed.close()
        # The raw (still encoded) bytes with the original headers: reading decodes them once, as usual.
        return httpx.Response(
            streamed.status_code,
            headers=streamed.headers,
            content=bytes(body),
            request=streamed.request,
            extensions=streamed.extensions,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _check(deadline: float | None, request: httpx.Request) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise httpx.ReadTimeout("the whole answer did not arrive in time", request=request)


def _deadline(started: float, timeout: httpx.Timeout) -> float | None:
    """When a whole call must be over: connecting plus one read timeout for the complete answer."""
    if timeout.read is None:
        return None
    return started + (timeout.connect or 0.0) + timeout.read


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """The Retry-After header as seconds (it may be a number of seconds or an HTTP date), capped."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # not "²": str.isdigit() takes other digits that float() refuses
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def backoff_delay(
    attempt: int, *, base: float = 2.0, cap: float = 600.0, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter: attempt 1 waits up to ``base`` s, then 2x, 4x, ... never above ``cap``."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return ceiling * rng()


def call_with_retries(
    operation: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run an idempotent operation, retrying transient failures (honouring Retry-After) up to ``attempts`` times.

    Only for reads and for writes made safe to repeat; permanent errors are raised at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except TransientError as exc:
            if attempt == attempts:
                raise
            delay = exc.retry_after if exc.retry_after is not None else backoff_delay(attempt, base=base_delay)
            if delay > max_delay:
                raise  # too long to wait in-line: the caller (a task) reschedules
            logger.info("Transient failure (%s), attempt %s of %s; retrying in %.1f s", exc, attempt, attempts, delay)
            sleep(delay)
    raise AssertionError("unreachable")
