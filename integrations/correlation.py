"""The correlation id: one id per unit of work (a beat dispatch, a web request), carried to everything it causes.

It lives in a context variable, so it follows the code through threads' own contexts and is never shared between
two requests or two tasks. The portal binds it (``portal.core.logging``, the Celery signals in
``portal.celery_app``); the HTTP choke point sends it as ``X-Correlation-ID`` and logs it. Plain Python: no Django.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

HEADER = "X-Correlation-ID"
# What is accepted from outside (a proxy's or caller's header): short and without anything that could forge a log line.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_current: ContextVar[str] = ContextVar("correlation_id", default="")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str:
    """The id of the work being done now, or "" outside any."""
    return _current.get()


def valid_correlation_id(value: object) -> str:
    """``value`` if it is an acceptable id, else ""."""
    return value if isinstance(value, str) and _VALID.match(value) else ""


def bind_correlation_id(value: str | None = None) -> Token[str]:
    """Make ``value`` (or a new id when it is missing or not acceptable) the current id; reset with the token."""
    return _current.set(valid_correlation_id(value) or new_correlation_id())


def reset_correlation_id(token: Token[str]) -> None:
    _current.reset(token)


@contextmanager
def correlation_id_bound(value: str | None = None) -> Iterator[str]:
    token = bind_correlation_id(value)
    try:
        yield _current.get()
    finally:
        reset_correlation_id(token)
