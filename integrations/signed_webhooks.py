"""What the webhooks the portal receives share: an HMAC-SHA256 signature over the raw body, sent as
``sha256=<lower-case hex>`` and keyed with the UTF-8 bytes of a secret (eConnect PSB's ``X-EConnect-Signature``,
AFAS Profit's ``X-Profit-Signature-256``), compared in constant time; and why a delivery is refused."""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum


class Refusal(StrEnum):
    """Why a delivery is refused; ``status`` is the HTTP answer (both senders retry what was not answered 2xx)."""

    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_WRONG = "signature_wrong"
    STALE = "stale"
    UNREADABLE = "unreadable"
    TOO_LARGE = "too_large"

    @property
    def status(self) -> int:
        if self in (Refusal.SIGNATURE_MISSING, Refusal.SIGNATURE_WRONG, Refusal.STALE):
            return 401
        if self is Refusal.TOO_LARGE:
            return 413
        return 400


class WebhookRefused(Exception):
    def __init__(self, refusal: Refusal, detail: str = ""):
        super().__init__(f"{refusal.value}: {detail}" if detail else refusal.value)
        self.refusal = refusal
        self.detail = detail


def signature(body: bytes, secret: str) -> str:
    """The header value for ``body``: ``sha256=`` + lower-case hex."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, presented: str | None, secret: str) -> bool:
    if not presented or not secret:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "replace"), signature(body, secret).encode("ascii"))


def check_signed(body: bytes, *, presented: str | None, secret: str, max_bytes: int) -> None:
    """``WebhookRefused`` unless ``body`` is at most ``max_bytes`` and ``presented`` is its signature with
    ``secret``; checked before a byte of the body is parsed."""
    if len(body) > max_bytes:
        raise WebhookRefused(Refusal.TOO_LARGE, f"{len(body)} bytes")
    if not presented:
        raise WebhookRefused(Refusal.SIGNATURE_MISSING)
    if not signature_matches(body, presented, secret):
        raise WebhookRefused(Refusal.SIGNATURE_WRONG)
