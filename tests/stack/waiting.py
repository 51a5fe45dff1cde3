"""Waiting for a condition with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    condition: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    every: float = 0.5,
    tick: Callable[[], None] | None = None,
    tick_every: float = 0.0,
) -> Any:
    """Poll ``condition`` until it is truthy and return its result; ``RuntimeError`` naming ``what`` after ``timeout``.

    ``tick`` runs before a poll, at most once per ``tick_every`` seconds (every poll when 0)."""
    deadline = time.monotonic() + timeout
    next_tick = 0.0
    while True:
        if tick is not None and time.monotonic() >= next_tick:
            tick()
            next_tick = time.monotonic() + tick_every
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
