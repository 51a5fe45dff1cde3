"""Checking and reading an eConnect PSB webhook delivery.

``X-EConnect-Signature: sha256=<lower-case hex>`` is HMAC-SHA256 over the raw body bytes exactly as received, keyed
with the UTF-8 bytes of the hook's secret (contract.md section 4; eConnect's .NET ``PsbWebHookSignature``). Never
hash a re-serialised body: eConnect's own test vector only matches its CRLF original. The header is compared in
constant time and case-sensitively, as both reference receivers do. ``sentOn`` must lie within five minutes of
our clock (the .NET receiver's rule): an old delivery replayed later is refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from integrations.econnect.psb.models import WebhookEvent, has_control_characters, plain_text
from integrations.signed_webhooks import Refusal, WebhookRefused, check_signed, signature, signature_matches

__all__ = ["Refusal", "WebhookRefused", "signature", "signature_matches", "verified_event", "parse_event"]

SIGNATURE_HEADER = "X-EConnect-Signature"
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_BODY_BYTES = 256 * 1024  # an event is a small JSON envelope; the document itself is downloaded separately


def verified_event(
    body: bytes, *, presented_signature: str | None, secret: str, now: datetime | None = None
) -> WebhookEvent:
    """The event of a delivery whose signature and time are right; ``WebhookRefused`` otherwise. The signature is
    checked before a byte of the body is parsed."""
    check_signed(body, presented=presented_signature, secret=secret, max_bytes=MAX_BODY_BYTES)
    event = parse_event(body)
    now = now or datetime.now(UTC)
    if event.sent_on is None or abs(now - event.sent_on) > MAX_CLOCK_SKEW:
        raise WebhookRefused(Refusal.STALE, f"sentOn {event.sent_on.isoformat() if event.sent_on else 'missing'}")
    return event


def parse_event(body: bytes) -> WebhookEvent:
    """The JSON envelope ``{topic, partyId, hookId, documentId, message, details, createdOn, sentOn}``."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: nested beyond the limit
        raise WebhookRefused(Refusal.UNREADABLE, "not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("topic"), str) or not data["topic"].strip():
        raise WebhookRefused(Refusal.UNREADABLE, "no topic")
    if any(has_control_characters(data.get(name)) for name in ("topic", "documentId")):
        raise WebhookRefused(Refusal.UNREADABLE, "control characters in the topic or document id")
    details = data.get("details")
    return WebhookEvent(
        topic=data["topic"].strip()[:100],
        party_id=plain_text(data.get("partyId"), limit=200),
        hook_id=plain_text(data.get("hookId"), limit=200),
        document_id=plain_text(data.get("documentId"), limit=200),
        message=plain_text(data.get("message"), limit=2000),
        details={plain_text(k, limit=100): plain_text(v, limit=2000) for k, v in details.items()}
        if isinstance(details, dict)
        else {},
        created_on=parse_timestamp(data.get("createdOn")),
        sent_on=parse_timestamp(data.get("sentOn")),
    )


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 time as eConnect writes it (.NET: seven fraction digits, ``+00:00``), in UTC; None if unusable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Python reads at most six fraction digits
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
