"""What a live simulator posts to the portal (webhook deliveries), and what the campaigns and benchmarks send to
the simulators' control APIs: over one kept-alive client per process.

A client per request built a TLS context each time (about 20 ms of CPU holding the GIL): with the simulators, the
portal's web server and the campaign in one process, that slowed every simulator answer while webhooks flowed (and
a benchmark that injected documents one client each measured its own injecting).
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit

_lock = threading.Lock()
_client = {"client": None, "pid": None}


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> int:
    """POST a delivery; the receiver's status, or 0 when it could not be reached in time."""
    if urlsplit(url).scheme not in ("http", "https"):
        return 0
    import httpx  # only a live simulator posts over the network

    try:
        return shared_client().post(url, content=body, headers=headers, timeout=timeout).status_code
    except httpx.HTTPError:
        return 0


def shared_client():
    """This process's kept-alive client (thread-safe; a forked child builds its own)."""
    import httpx

    with _lock:
        if _client["client"] is None or _client["pid"] != os.getpid():
            _client["client"], _client["pid"] = httpx.Client(), os.getpid()
        return _client["client"]
