"""eConnect's failures as the shared typed errors of ``integrations.http``, with eConnect's own error code kept.

Transient (try again later): ``EConnectServerError`` and the transport errors of ``integrations.http``
(``RemoteTimeout``, ``RemoteUnavailable``, ``MalformedResponse``; ``UnreadableDocument`` is a ``MalformedResponse``
that keeps the answer's bytes). Everything else here is permanent: the same request will meet the same refusal, so a
person has to act on ``message`` and ``code``.
"""

from __future__ import annotations

from integrations.http import AccessDenied, AuthenticationError, MalformedResponse, PermanentError, TransientError

SERVICE = "eConnect"


class TokenExpired(AuthenticationError):
    """The security token is no longer accepted. The gateway renews it by itself; callers rarely see this."""


class TokensKeepExpiring(TransientError):
    """eConnect refused even freshly issued security tokens as expired, one after the other. The login worked, so the
    keys are not the cause; the call was not processed and is tried again later."""


class InvalidCredentials(AuthenticationError):
    """The App Key / Secret pair (the "connection keys") is wrong or revoked: create new keys in the platform."""


class SenderNotAllowed(AccessDenied):
    """The account may not send for the given sender party (ERRGRP3000006), or the environment is blocked."""


class DocumentRejected(PermanentError):
    """eConnect refused the document itself (invalid XML, XSD or template rules). Fix the invoice, then resend."""


class UnknownRecipient(PermanentError):
    """The receiver is not reachable on the platform or Peppol and no fallback e-mail was given (ERRSND4000001)."""


class DocumentNotFound(PermanentError):
    """No inbox or outbox document with that ExternalId for this account."""


class StatusNotOffered(PermanentError):
    """The document's template offers none of the statuses the portal acknowledges with: nothing is set."""


class InvalidRequest(PermanentError):
    """eConnect says our request is wrong (a client fault it did not explain further). A bug on our side."""


class EConnectServerError(TransientError):
    """eConnect reported an error on its side (SOAP Server fault or HTTP 5xx). Retried with backoff."""


class UnreadableDocument(MalformedResponse):
    """eConnect answered HTTP 200, but the answer cannot be read safely: the hardened XML parser refused it (nested
    too deep, too large, a DTD, not well-formed) or, for GetInboxDocument, it holds no single document.

    Still a ``MalformedResponse`` (one odd answer may be a fluke), but asking again will most likely get the same
    bytes, so a caller that must not be blocked by one document keeps ``raw`` (the whole answer, byte for byte) as
    evidence instead of asking forever. ``external_id`` names the inbox document asked for, ``reason`` says why in
    words a person can act on. ``raw`` is never part of the message.
    """

    def __init__(self, message: str, *, raw: bytes, external_id: str = "", reason: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.raw = raw
        self.external_id = external_id
        self.reason = reason


# Documented codes (SOURCES.md section 2.1, psb.econnect.eu platform/misc/errorHandling.html), and two that nothing
# public names: "not found" and "status not allowed" (guesses, see docs/vendor-contracts.md).
TOKEN_EXPIRED_CODES = frozenset({"DEFAULT_ERROR_CODE999"})
INVALID_KEY_OR_TOKEN = "ERRIAU6000007"
NO_PERMISSION_FOR_VIA = "ERRGRP3000006"
RECEIVER_UNREACHABLE = "ERRSND4000001"
DOCUMENT_ERROR_CODES = frozenset({"ERRXSL4000001", "ERRIER8000006"})
ENVIRONMENT_BLOCKED_CODES = frozenset({"ERRPRO1000002", "ERRPRO1000003", "ERRPRO1000004"})
NAMESPACE_MISMATCH = "ERRCDO4000041"
DOCUMENT_NOT_FOUND = "ERRDOC4000004"  # [GUESS G-EC-3]
STATUS_NOT_ALLOWED = "ERRSTA4000002"  # [GUESS G-EC-4]
