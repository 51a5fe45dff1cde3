"""eConnect SOAP security tokens kept per process: the short-lived gateway of each task reuses the token of its
endpoint and keys instead of logging in again. Keyed by endpoint, App Key and a digest of the Secret (never the
Secret itself); never logged."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime

_SESSIONS: dict[tuple[str, str], tuple[str, datetime]] = {}
_LOCK = threading.Lock()


def _key(soap_url: str, app_key: str, app_secret: str) -> tuple[str, str]:
    return soap_url, f"{app_key}|{hashlib.sha256(app_secret.encode()).hexdigest()[:16]}"


def kept(soap_url: str, app_key: str, app_secret: str) -> tuple[str | None, datetime | None]:
    """(token, renew at) kept for these keys, or (None, None)."""
    with _LOCK:
        return _SESSIONS.get(_key(soap_url, app_key, app_secret), (None, None))


def keep(soap_url: str, app_key: str, app_secret: str, token: str, renew_at: datetime) -> None:
    with _LOCK:
        _SESSIONS[_key(soap_url, app_key, app_secret)] = (token, renew_at)


def forget(soap_url: str, app_key: str, app_secret: str, token: str) -> None:
    """Drop the kept token if it is ``token`` (eConnect refused it; another thread may have renewed it already)."""
    key = _key(soap_url, app_key, app_secret)
    with _LOCK:
        if _SESSIONS.get(key, (None,))[0] == token:
            del _SESSIONS[key]


def forget_sessions() -> None:
    """Drop every kept token (tests; a new worker's first call)."""
    with _LOCK:
        _SESSIONS.clear()
