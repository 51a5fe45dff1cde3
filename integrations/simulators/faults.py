"""Faults injected into a simulator on request, per operation, to prove the clients' error handling."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


class ConnectionDropped(Exception):
    """The simulator closes the connection without answering (the live server drops the socket)."""


class SimulatedTimeout(Exception):
    """In-process only: the injected delay is longer than the client's read timeout."""


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
    phase: str = "before"
    count: int | None = 1  # how many requests it affects; None = until reset
    hits: int = 0

    def __post_init__(self) -> None:
        if self.phase not in ("before", "after"):
            raise ValueError("phase must be 'before' or 'after'")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1 (or null for 'until reset')")

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
