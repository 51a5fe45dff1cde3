"""eConnect PSB webhooks: receive (check, store, answer) and process (one task per stored event).

Receiving answers fast and loses nothing: the signature (HMAC-SHA256 over the raw body with the environment's hook
secret) and the freshness of ``sentOn`` are checked, the event is stored, and only then is the answer 2xx; the work
is a task. A refused delivery is answered 401/400 and recorded on the environment's timeline. The same event twice
is one stored row. Processing calls the owning app's service for the topic: a received invoice is downloaded and
stored like any other (then processed, delivered, acknowledged); a sent invoice's topic makes the portal ask its
status now (the status poll stays the safety net for a hook that never arrives).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from integrations.econnect.psb.models import Topic
from integrations.econnect.psb.webhooks import WebhookRefused, verified_event
from integrations.http import AuthenticationError, RemoteError
from portal.documents import lifecycle
from portal.events.messages import Msg, explained
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.incoming_invoices.fetching import incoming_receive_pushed
from portal.incoming_invoices.services import incoming_process_and_deliver
from portal.organisations.models import Environment
from portal.outgoing_invoices.pushed import outgoing_customer_response, outgoing_status_pushed
from portal.webhooks.afas import afas_event_handle
from portal.webhooks.models import WebhookEvent
from portal.webhooks.storing import webhook_store

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome
PROCESS_LEASE = timedelta(minutes=5)  # a claimed event whose worker died is due again after this
SENT_TOPICS = {
    Topic.INVOICE_SENT,
    Topic.INVOICE_SENT_ERROR,
    Topic.INVOICE_SENT_RETRY,
    Topic.MESSAGE_LEVEL_STATUS_RECEIVED,
}


@dataclass(frozen=True)
class Receipt:
    status: int  # the HTTP answer for eConnect
    stored: bool = False


def webhook_receive(*, token: str, body: bytes, signature: str | None, now: datetime | None = None) -> Receipt:
    environment = (
        Environment.objects.filter(econnect_hook_token=token, econnect_transport=Environment.EConnectTransport.PSB)
        .exclude(econnect_hook_token="")
        .first()
    )
    if environment is None or not token:
        return Receipt(404)
    try:
        event = verified_event(body, presented_signature=signature, secret=environment.econnect_hook_secret, now=now)
    except WebhookRefused as exc:
        logger.warning("eConnect webhook for environment %s refused: %s", environment.pk, exc.refusal.value)
        event_record(
            environment=environment,
            kind=EventKind.WEBHOOK_REFUSED,
            message=Msg("webhook.refused", reason=Msg(f"webhook.refusal.{exc.refusal.value}")),
            system_actor="webhook",
            data={"refusal": exc.refusal.value, "status": exc.refusal.status},
        )
        return Receipt(exc.refusal.status)
    created = webhook_store(environment=environment, source=WebhookEvent.Source.ECONNECT, key=event.key,
                            topic=event.topic, document_id=event.document_id, body=body)  # fmt: skip
    return Receipt(200, stored=created)


def webhook_process(*, event: WebhookEvent, now: datetime | None = None) -> WebhookEvent:
    """Do what the event's topic asks, once. A transient failure is tried again later with the shared retry policy;
    anything else ends the event as failed with the reason (support sees it in the admin)."""
    now = now or timezone.now()
    claimed = (
        WebhookEvent.objects.filter(pk=event.pk, outcome=Outcome.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=now + PROCESS_LEASE, dispatched_at=None)
    )
    if not claimed:
        return event
    event.refresh_from_db(fields=["attempts", "next_attempt_at", "dispatched_at"])  # the rest is as stored
    try:
        outcome, message = _handle(event)
    except RemoteError as exc:
        decision = lifecycle.retry_decision(attempts=event.attempts, retry_after=exc.retry_after, now=now)
        # Refused credentials are fixed by a person on the environment page: the event waits for that, as the
        # document waits at eConnect, instead of being given up at once.
        if (exc.transient or isinstance(exc, AuthenticationError)) and not decision.give_up:
            WebhookEvent.objects.filter(pk=event.pk).update(
                next_attempt_at=decision.next_attempt_at, dispatched_at=None,
                **explained("outcome_message", exc.message),
            )  # fmt: skip
            return event
        outcome, message = Outcome.FAILED, exc.message
    ended = dict(outcome=outcome, processed_at=timezone.now(), next_attempt_at=None,
                 **explained("outcome_message", message))  # fmt: skip
    WebhookEvent.objects.filter(pk=event.pk).update(**ended)
    for name, value in ended.items():
        setattr(event, name, value)
    return event


def webhooks_due(*, now: datetime | None = None) -> list[int]:
    """Stored events whose processing is due and not queued already: new ones whose message was lost, claimed ones
    whose worker died, and transient failures whose retry is due."""
    now = now or timezone.now()
    return list(
        WebhookEvent.objects.filter(outcome=Outcome.PENDING, next_attempt_at__lte=now)
        .filter(lifecycle.not_dispatched_recently(now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )


def webhooks_dispatch_due(*, now: datetime | None = None) -> list[int]:
    """``webhooks_due``, marked as queued (a queued event is not queued again on every run while it waits)."""
    now = now or timezone.now()
    due = webhooks_due(now=now)
    WebhookEvent.objects.filter(pk__in=due).update(dispatched_at=now)
    return due


def _process_received(invoice) -> None:
    """A pushed document, stored (committed), processed and delivered in this task: no second message and load per
    document. Its failure is the document's, not the event's (which took it in): it stays received, for the
    stalled-processing sweep."""
    try:
        incoming_process_and_deliver(invoice=invoice)
    except Exception:
        logger.exception("Processing pushed document %s failed; left to the stalled-processing sweep", invoice.pk)


def _handle(event: WebhookEvent) -> tuple[str, Msg | str]:
    if event.source == WebhookEvent.Source.AFAS:
        return afas_event_handle(event)
    environment = event.environment
    topic = event.topic
    if not event.document_id and topic not in (Topic.HOOK_SENT, Topic.HOOK_SENT_RETRY, Topic.HOOK_SENT_ERROR):
        return Outcome.IGNORED, Msg("webhook.outcome.no_document")
    if topic == Topic.INVOICE_RECEIVED:
        invoice, created = incoming_receive_pushed(
            environment=environment, external_id=event.document_id, queue_processing=False
        )
        if created:
            _process_received(invoice)
        key = "webhook.outcome.received" if created else "webhook.outcome.already_received"
        return Outcome.PROCESSED, Msg(key, pk=str(invoice.pk))
    if topic in SENT_TOPICS:
        invoice = outgoing_status_pushed(environment=environment, external_id=event.document_id)
        if invoice is None:
            return Outcome.IGNORED, Msg("webhook.outcome.not_sent_by_portal", document_id=event.document_id)
        return Outcome.PROCESSED, Msg("webhook.outcome.status_asked", pk=str(invoice.pk))
    if topic == Topic.INVOICE_RESPONSE_RECEIVED:
        invoice = outgoing_customer_response(environment=environment, external_id=event.document_id, body=event.body)
        if invoice is None:
            return Outcome.IGNORED, Msg("webhook.outcome.not_sent_by_portal", document_id=event.document_id)
        return Outcome.PROCESSED, Msg("webhook.outcome.response_recorded", pk=str(invoice.pk))
    return Outcome.IGNORED, Msg("webhook.outcome.topic_unused", topic=topic)
