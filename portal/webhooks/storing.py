"""Storing a checked webhook delivery, for every sender (eConnect PSB, AFAS Profit): once per environment, source
and key, before the sender gets its answer; its processing is queued after the commit."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portal.documents import lifecycle
from portal.organisations.models import Environment
from portal.webhooks.models import WebhookEvent


def webhook_store(
    *, environment: Environment, source: str, key: str, topic: str, document_id: str, body: bytes
) -> bool:
    """Store a checked delivery once (per environment, source and key) and queue its processing; the same event
    delivered again only counts the delivery. True when it was new."""
    now = timezone.now()
    try:
        # The new event is the common case: one INSERT (and its commit) rather than a lookup first.
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                environment=environment, source=source, event_key=key[:400], topic=topic,
                document_id=document_id[:200], body=body, next_attempt_at=now, dispatched_at=now,
            )  # fmt: skip
            lifecycle.enqueue("webhooks.process", stored.pk)
    except IntegrityError:  # stored before (a repeat delivery, or a parallel one a moment ago): counted
        WebhookEvent.objects.filter(environment=environment, source=source, event_key=key[:400]).update(
            deliveries=F("deliveries") + 1
        )
        return False
    return True
