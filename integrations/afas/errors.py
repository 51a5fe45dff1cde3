"""AFAS answers mapped onto the typed errors of the HTTP choke point (``integrations.http``).

Profit documents its error statuses in every OpenAPI spec (``components/responses``): 401 "valid token but no
access to this endpoint" (or an invalid token), 403 "due to IP restrictions", 500 with a JSON body
``{"externalMessage", "errorNumber", "profitLogReference"}`` and 503 maintenance with ``Retry-After`` and
``{"error": {...}, "retry_after": n}``. The obsolete ``X-PROFIT-ERROR`` header is not read (removed by end 2026).
"""

from __future__ import annotations

import math

import httpx

from integrations.http import (
    MAX_RETRY_AFTER_SECONDS,
    AccessDenied,
    AuthenticationError,
    MalformedResponse,
    PermanentError,
    RemoteError,
    RemoteUnavailable,
    TransientError,
    retry_after_seconds,
)

SERVICE = "AFAS"

# A 500 whose message says a record or journal is in use by someone else is worth retrying later
# (APIS.md 2.5: "500 sometimes, e.g. FiEntries when the journal is locked by a user").
# [GUESS G-AFAS-4] the exact wording is unpublished; these fragments cover the English and Dutch phrasings seen in clients.
_LOCKED_MARKERS = ("locked", "in use by", "vergrendeld", "geblokkeerd door", "in gebruik door", "is in gebruik")


class AfasAuthenticationError(AuthenticationError):
    """401: the token is wrong, for another environment, or its app connector lacks this connector."""


class AfasConnectorMissing(AfasAuthenticationError):
    """The token is accepted, but the app connector lacks a connector the call needs (e.g. AppConnectorSubject)."""


class AfasNotConfigured(PermanentError):
    """The environment's AFAS settings cannot make a valid address (e.g. no SB customer environment)."""


class AfasAccessDenied(AccessDenied):
    """403: the app connector's IP restriction refuses the portal's address."""


class AfasFunctionalError(PermanentError):
    """500 with Profit's error body: a validation or processing error a person must act on."""

    def __init__(self, message: str, *, log_reference: str = "", error_number: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.log_reference = log_reference
        self.error_number = error_number


class AfasRecordLocked(TransientError):
    """500 saying a record or journal is locked by a user: try again later."""

    def __init__(self, message: str, *, log_reference: str = "", error_number: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.log_reference = log_reference
        self.error_number = error_number


class AfasMaintenance(RemoteUnavailable):
    """503: scheduled maintenance; ``retry_after`` says when to come back."""


class AfasQueryTooLong(PermanentError):
    """One filter group alone does not fit in Profit's 2049-character query string; it was not sent."""


def _json(response: httpx.Response) -> object:
    """The error body as JSON, or None. An error body is only a hint: one nested beyond Python's recursion limit, or
    with an integer beyond the 4,300-digit conversion limit (both raised by the json module as other errors), is
    ignored like any other unreadable body."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _body_retry_after(body: object) -> float | None:
    """``retry_after`` from a 503 body, in seconds, if it is a usable number: finite, not negative, capped like the
    header. NaN, infinities, negative numbers, integers too large for a float and booleans are ignored."""
    if not isinstance(body, dict):
        return None
    value = body.get("retry_after")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except (OverflowError, ValueError):
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def error_for(response: httpx.Response, *, what: str) -> RemoteError:
    """The typed error for a non-2xx AFAS answer. ``what`` names the call (e.g. "GetConnector Profit_Debtor")."""
    status = response.status_code
    body = _json(response)
    if status == 401:
        return AfasAuthenticationError(
            f"AFAS refused the token for {what}: check that the token belongs to this environment and that its app "
            "connector includes this connector.",
            service=SERVICE,
            status=status,
        )
    if status == 403:
        return AfasAccessDenied(
            f"AFAS refused {what} because of the app connector's IP restriction: allow the portal's IP address.",
            service=SERVICE,
            status=status,
        )
    if status == 503:
        retry_after = retry_after_seconds(response)
        if retry_after is None:
            retry_after = _body_retry_after(body)
        message = "AFAS is temporarily unavailable (maintenance)"
        if isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("message"):
            message = str(body["error"]["message"])
        return AfasMaintenance(f"{what}: {message}", service=SERVICE, status=status, retry_after=retry_after)
    if status == 429:
        return TransientError(
            f"AFAS asked to slow down ({what}).",
            service=SERVICE,
            status=status,
            retry_after=retry_after_seconds(response),
        )
    if status == 500 and isinstance(body, dict) and "externalMessage" in body:
        message = str(body.get("externalMessage") or "")
        reference = str(body.get("profitLogReference") or "")
        number = body.get("errorNumber") if isinstance(body.get("errorNumber"), int) else None
        kind = AfasRecordLocked if any(m in message.lower() for m in _LOCKED_MARKERS) else AfasFunctionalError
        suffix = f" (Profit log reference {reference})" if reference else ""
        return kind(
            f"AFAS refused {what}: {message}{suffix}",
            service=SERVICE,
            status=status,
            code=str(number) if number is not None else "",
            log_reference=reference,
            error_number=number,
        )
    if status >= 500:
        return RemoteUnavailable(f"AFAS answered {status} to {what}.", service=SERVICE, status=status)
    if status == 404:
        return PermanentError(
            f"AFAS does not know {what} (404): check the connector name and the environment's address.",
            service=SERVICE,
            status=status,
        )
    return PermanentError(f"AFAS refused {what} with status {status}.", service=SERVICE, status=status)


def malformed(what: str, detail: str) -> MalformedResponse:
    return MalformedResponse(f"AFAS's answer to {what} could not be read: {detail}", service=SERVICE)
