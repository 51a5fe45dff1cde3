"""Checking and reading an AFAS Profit webhook delivery (Profit 8: dossier items, reactions, workflows).

Facts (``../shared/specs/afas/howto/profit-webhooks.md``, from AFAS's own webhook page): a JSON ``POST`` with
``EventId``, ``EnvironmentId``, ``EventType``, ``Data`` and ``Timestamp``; the header ``X-Profit-Signature-256:
sha256=<hex HMAC-SHA256>`` keyed with the webhook's password; Profit waits 2 seconds for a 2xx, retries otherwise
and delivers at least once, so a receiver stores the event and answers before doing any work.

[GUESS G-AFAS-9] AFAS does not say which bytes are signed: the raw body, keyed with the UTF-8 password, as for
eConnect and GitHub-style signatures (the derived test vector assumes the same). A real "Send test message" confirms it.

A notification only says that something changed; the data are read with a GetConnector. No time window is checked:
Profit sends in a batch job and retries for a long while, and an old event only makes the portal look sooner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from integrations.signed_webhooks import Refusal, WebhookRefused, check_signed, signature

SIGNATURE_HEADER = "X-Profit-Signature-256"
MAX_BODY_BYTES = 64 * 1024  # a notification is a small JSON object
# The events that can mean a new sales invoice in the dossier (its UBL is a dossier item's attachment).
DOSSIER_CHANGED = frozenset({"subject.created", "subject.updated"})
TEST_MESSAGE = "test.executed"

__all__ = ["DOSSIER_CHANGED", "ProfitEvent", "Refusal", "TEST_MESSAGE", "WebhookRefused", "signature", "verified"]


@dataclass(frozen=True)
class ProfitEvent:
    event_id: str
    environment_id: str  # Profit's environment name, e.g. 12345AA
    event_type: str
    subject_type_id: int | None
    subject_id: int | None
    timestamp: str  # as sent (UTC, seven fractional digits)
    subscription_name: str = ""  # test.executed: the webhook's description


def verified(body: bytes, *, presented_signature: str | None, password: str) -> ProfitEvent:
    """The event of a delivery signed with ``password``; ``WebhookRefused`` otherwise. The signature is checked
    before a byte of the body is parsed."""
    check_signed(body, presented=presented_signature, secret=password, max_bytes=MAX_BODY_BYTES)
    return parse(body)


def parse(body: bytes) -> ProfitEvent:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookRefused(Refusal.UNREADABLE, "not JSON") from None
    if not isinstance(data, dict):
        raise WebhookRefused(Refusal.UNREADABLE, "not a JSON object")
    details = data.get("Data") if isinstance(data.get("Data"), dict) else {}
    return ProfitEvent(
        event_id=_text(data, "EventId", required=True),
        environment_id=_text(data, "EnvironmentId"),
        event_type=_text(data, "EventType", required=True),
        subject_type_id=_integer(details, "SubjectTypeId"),
        subject_id=_integer(details, "SubjectId"),
        timestamp=_text(data, "Timestamp"),
        subscription_name=_text(details, "SubscriptionName"),
    )


def _text(data: dict[str, Any], name: str, *, required: bool = False, limit: int = 100) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit or not value.isprintable():
        raise WebhookRefused(Refusal.UNREADABLE, f"{name} is not a short printable text")
    return value.strip()


def _integer(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**53:
        raise WebhookRefused(Refusal.UNREADABLE, f"{name} is not an integer")
    return value
