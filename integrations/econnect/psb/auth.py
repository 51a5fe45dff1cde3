"""OAuth2 tokens for eConnect's PSB API, from eConnect's identity host.

The token endpoint is found through the host's OpenID configuration (``/.well-known/openid-configuration``,
``token_endpoint``), as the PHP clients do. Client credentials grant, or the password grant when a PSB user per end
customer is used; scope ``ap`` (the docs and PHP clients; .NET sends ``openid ap``). The client id and secret go in
the form body [GUESS G-PSB-1: eConnect's .NET SDK may send them as HTTP Basic; the identity host is IdentityServer,
which accepts both]. A token is cached per credential and renewed when fewer than 60 s of it remain, as eConnect's
SDK does; a negative ``expires_in`` means it is already spent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from integrations.econnect.errors import SERVICE, EConnectServerError, InvalidCredentials
from integrations.http import HttpClient, MalformedResponse, retry_after_seconds

DISCOVERY_PATH = "/.well-known/openid-configuration"
RENEW_BEFORE_SECONDS = 60.0
SCOPE = "ap"


@dataclass(frozen=True)
class PsbCredentials:
    client_id: str
    client_secret: str = field(repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    scope: str = SCOPE

    @property
    def cache_key(self) -> str:
        """Names the credential without holding its secrets (a changed secret is a new key)."""
        secret = hashlib.sha256(f"{self.client_secret}\0{self.password}".encode()).hexdigest()[:16]
        return f"{self.client_id}|{self.username}|{self.scope}|{secret}"

    def form(self) -> dict[str, str]:
        form = {"client_id": self.client_id, "client_secret": self.client_secret, "scope": self.scope}
        if self.username:
            form.update(grant_type="password", username=self.username, password=self.password)
        else:
            form["grant_type"] = "client_credentials"
        return form


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenProvider:
    """Bearer tokens from one identity host. Tokens and the discovered endpoint are kept per process (keyed by host
    and credential), so the short-lived clients of each task reuse them."""

    def __init__(self, http: HttpClient, identity_url: str, *, clock: Callable[[], float] = time.monotonic):
        self._http = http
        self._identity_url = identity_url.rstrip("/")
        self._clock = clock

    def token(self, credentials: PsbCredentials) -> str:
        key = (self._identity_url, credentials.cache_key)
        with _LOCK:
            cached = _TOKENS.get(key)
            if cached is not None and cached.expires_at - self._clock() > RENEW_BEFORE_SECONDS:
                return cached.value
        fresh = self._request(credentials)
        with _LOCK:
            _TOKENS[key] = fresh
        return fresh.value

    def invalidate(self, credentials: PsbCredentials) -> None:
        """Forget the token (eConnect answered 401 with it): the next call fetches a new one."""
        with _LOCK:
            _TOKENS.pop((self._identity_url, credentials.cache_key), None)

    def _endpoint(self) -> str:
        with _LOCK:
            known = _ENDPOINTS.get(self._identity_url)
        if known is not None:
            return known
        response = self._http.request("GET", f"{self._identity_url}{DISCOVERY_PATH}")
        _raise_for_identity(response, what="the OpenID configuration")
        endpoint = _json(response).get("token_endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise MalformedResponse(
                "eConnect's identity host names no token endpoint in its OpenID configuration.", service=SERVICE
            )
        with _LOCK:
            _ENDPOINTS[self._identity_url] = endpoint
        return endpoint

    def _request(self, credentials: PsbCredentials) -> _Token:
        response = self._http.request(
            "POST", self._endpoint(), content=_form_bytes(credentials.form()), headers=_FORM_HEADERS
        )
        _raise_for_identity(response, what="a token")
        data = _json(response)
        value, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(value, str) or not value:
            raise MalformedResponse("eConnect's identity host answered without an access token.", service=SERVICE)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 0.0
        return _Token(value=value, expires_at=self._clock() + lifetime)


_LOCK = threading.Lock()
_TOKENS: dict[tuple[str, str], _Token] = {}
_ENDPOINTS: dict[str, str] = {}


def forget_tokens() -> None:
    """Drop every cached token and endpoint (tests; a changed identity host)."""
    with _LOCK:
        _TOKENS.clear()
        _ENDPOINTS.clear()


_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


def _form_bytes(form: dict[str, str]) -> bytes:
    return str(httpx.QueryParams(form)).encode("ascii")


def _json(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond the limit
        raise MalformedResponse("eConnect's identity host answered with something other than JSON.") from exc
    if not isinstance(data, dict):
        raise MalformedResponse("eConnect's identity host answered with an unexpected JSON shape.", service=SERVICE)
    return data


def _raise_for_identity(response: httpx.Response, *, what: str) -> None:
    status = response.status_code
    if status < 300:
        return
    if status >= 500 or status == 429:
        raise EConnectServerError(
            f"eConnect's identity host could not give {what} now (HTTP {status}).",
            service=SERVICE,
            status=status,
            retry_after=retry_after_seconds(response),
        )
    try:
        error = str(response.json().get("error", ""))[:100]
    except (ValueError, AttributeError, RecursionError):
        error = ""
    raise InvalidCredentials(
        "eConnect refused the PSB client id and secret"
        + (f" ({error})" if error else "")
        + ": check them on the environment page, or ask eConnect for new ones.",
        service=SERVICE,
        status=status,
        code=error or f"OAUTH{status}",
    )
