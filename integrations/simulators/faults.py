"""Faults injected into a simulator on request, per operation, to prove the clients' error handling."""

from __future__ import annotations

import fnmatch
import math
import re
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any


class ConnectionDropped(Exception):
    """The simulator closes the connection without answering (the live server drops the socket)."""


class SimulatedTimeout(Exception):
    """In-process only: the injected delay is longer than the client's read timeout."""


TRICKLE_CHUNKS = 8
MAX_WAIT_SECONDS = 3600.0  # a longer delay or trickle gap only ties up a server thread (and overflows time.sleep)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")  # an HTTP token (RFC 9110)
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]{0,8000}$")  # no CR, LF or other control characters


@dataclass
class Fault:
    """One injected fault.

    ``operation`` is matched with shell wildcards against the operation name the simulator gives a request
    (AFAS: ``GET /connectors/<name>``, eConnect: the SOAP action name, e.g. ``SendDocument``).
    ``phase`` "before" fails the request without doing anything; "after" does the work first (state changes,
    e.g. a document accepted) and then fails, like a timeout after the remote accepted.
    """

    operation: str
    status: int | None = None  # answer with this status (and ``body``/``headers``) instead of the real answer
    body: str | None = None  # e.g. a malformed body; with status None, replaces the real body with status 200
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "2"}
    delay: float = 0.0  # seconds to wait before answering (beyond the client's timeout = a timeout)
    drop: bool = False  # close the connection without an answer
    # Seconds between the chunks of a body sent slowly (in ``TRICKLE_CHUNKS`` pieces): each gap stays within a read
    # timeout while the whole answer takes longer than it, like a server that answers byte by byte.
    trickle: float = 0.0
    phase: str = "before"
    count: int | None = 1  # how many requests it affects; None = until reset
    hits: int = 0

    def __post_init__(self) -> None:
        """Every field checked for type and range, the field named: a fault is applied later, inside a simulated
        request, where a wrong type would crash that request instead of answering as told."""
        if not isinstance(self.operation, str) or not self.operation or len(self.operation) > 500:
            raise ValueError("operation must be a non-empty text (shell wildcards allowed)")
        if self.status is not None and (
            isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599
        ):
            raise ValueError("status must be an HTTP status (an integer from 100 to 599) or null")
        if self.body is not None:
            if not isinstance(self.body, str):
                raise ValueError("body must be text or null")
            try:
                self.body.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("body must be valid text (it holds a lone surrogate)") from None
        if not isinstance(self.headers, dict):
            raise ValueError("headers must be an object of header names and text values")
        for name, value in self.headers.items():
            if not isinstance(name, str) or not _HEADER_NAME.match(name):
                raise ValueError(f"headers: {str(name)[:50]!r} is not a valid header name")
            if not isinstance(value, str) or not _HEADER_VALUE.match(value):
                raise ValueError(f"headers: the value of {name} must be text without line breaks")
        for name in ("delay", "trickle"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a number of seconds")
            if not 0 <= value <= MAX_WAIT_SECONDS:
                raise ValueError(f"{name} must be between 0 and {MAX_WAIT_SECONDS:g} seconds (delay and trickle "
                                 "cannot be negative)")  # fmt: skip
        if not isinstance(self.drop, bool):
            raise ValueError("drop must be true or false")
        if self.phase not in ("before", "after"):
            raise ValueError("phase must be 'before' or 'after'")
        if self.count is not None and (isinstance(self.count, bool) or not isinstance(self.count, int)):
            raise ValueError("count must be an integer (or null for 'until reset')")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1 (or null for 'until reset')")
        if isinstance(self.hits, bool) or not isinstance(self.hits, int) or self.hits < 0:
            raise ValueError("hits must be a non-negative integer")

    @classmethod
    def from_spec(cls, spec: Any) -> Fault:
        """A fault from the JSON object of ``POST /_sim/faults``; ``hits`` (as listed) is ignored. ``ValueError``
        naming the field for anything else than the fields above with their types."""
        if not isinstance(spec, dict):
            raise ValueError("a fault must be an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in spec if key not in known)
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; known: {sorted(known - {'hits'})}")
        if "operation" not in spec:
            raise ValueError("operation is required")
        return cls(**{key: value for key, value in spec.items() if key != "hits"})

    def matches(self, operation: str) -> bool:
        return fnmatch.fnmatchcase(operation.lower(), self.operation.lower())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultRegistry:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, operation: str, phase: str) -> Fault | None:
        """The first active fault for this operation and phase, counted as used."""
        with self._lock:
            for fault in self._faults:
                if fault.phase == phase and fault.matches(operation):
                    fault.hits += 1
                    if fault.count is not None and fault.hits >= fault.count:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def as_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults]
