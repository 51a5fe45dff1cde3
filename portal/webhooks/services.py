"""eConnect PSB webhooks: receive (check, store, answer) and process (a task per stored event's message).

Receiving answers fast and loses nothing: the signature (HMAC-SHA256 over the raw body with the environment's hook
secret) and the freshness of ``sentOn`` are checked, the event is stored, and only then is the answer 2xx; the work
is a task. A refused delivery is answered 401/400 and recorded on the environment's timeline. The same event twice
is one stored row. Processing calls the owning app's service for the topic: received invoices are taken in per
environment in the order announced, like a fetch's (downloaded, stored, processed, delivered, acknowledged); a sent
invoice's topic makes the portal ask its status now (the status poll stays the safety net for a hook that never
arrives).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.econnect.psb.models import Topic
from integrations.econnect.psb.webhooks import WebhookRefused, verified_event
from integrations.http import AuthenticationError, RemoteError
from portal.documents import lifecycle
from portal.events.messages import Msg, explained, set_explanation
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.incoming_invoices import fetching
from portal.incoming_invoices.fetching import Pushed
from portal.incoming_invoices.services import incoming_receive_pushed_many
from portal.organisations.models import Environment
from portal.outgoing_invoices.pushed import outgoing_customer_response, outgoing_status_pushed
from portal.webhooks.afas import afas_event_handle
from portal.webhooks.models import WebhookEvent
from portal.webhooks.storing import webhook_store

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome
PROCESS_LEASE = timedelta(minutes=5)  # a claimed event whose worker died is due again after this
TAKEN_TOGETHER = 50  # announced documents taken in together: downloaded, stored, and each step's writes made at once
TAKEN_PER_RUN = 500  # then the run lets go of the environment and queues the rest: a run stays well within its lease
TAKE_IN_ROUNDS = 3  # looks again after letting go (events stored meanwhile), at most this often
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
    if not token:
        return Receipt(404)
    found = Environment.objects.filter(
        econnect_hook_token=token, econnect_transport=Environment.EConnectTransport.PSB
    ).exclude(econnect_hook_token="")
    environment = next(iter(found[:1]), None)  # the token is unique: no ORDER BY needed
    if environment is None:
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
    anything else ends the event as failed with the reason (support sees it in the admin). A received document's
    event starts its environment's take-in (``webhooks_take_in_received``), which takes it with the others."""
    if _announces_a_received_document(event):
        # Not the moment this task started: the run takes the announcements stored while it runs too.
        webhooks_take_in_received(environment=event.environment, now=now)
        event.refresh_from_db()
        return event
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
        if _failed(event, exc, now):
            return event
        outcome, message = Outcome.FAILED, exc.message
    _end_together([(event, outcome, message)])
    return event


def _failed(event: WebhookEvent, exc: RemoteError, now: datetime) -> bool:
    """A remote failure while processing the event: True when it waits for another attempt (the attempt is set),
    False when it is given up."""
    decision = lifecycle.retry_decision(attempts=event.attempts, retry_after=exc.retry_after, now=now)
    # Refused credentials are fixed by a person on the environment page: the event waits for that, as the document
    # waits at eConnect, instead of being given up at once.
    if (exc.transient or isinstance(exc, AuthenticationError)) and not decision.give_up:
        WebhookEvent.objects.filter(pk=event.pk).update(
            next_attempt_at=decision.next_attempt_at, dispatched_at=None, **explained("outcome_message", exc.message)
        )
        return True
    return False


def _end_together(ended: list[tuple[WebhookEvent, str, Msg | str]]) -> None:
    """Events done (processed, ignored or failed), with their outcomes, in one query."""
    processed_at = timezone.now()
    for event, outcome, message in ended:
        event.outcome, event.processed_at, event.next_attempt_at = outcome, processed_at, None
        set_explanation(event, "outcome_message", message)
    fields = ["outcome", "processed_at", "next_attempt_at", "outcome_message", "outcome_message_data"]
    WebhookEvent.objects.bulk_update([event for event, *_ in ended], fields)


# --- received documents: taken in per environment, in the order announced -------------------------------------------


def _announces_a_received_document(event: WebhookEvent) -> bool:
    return event.source == WebhookEvent.Source.ECONNECT and event.topic == Topic.INVOICE_RECEIVED


def _received_due(environment: Environment, now: datetime):
    """Announcements never tried (whatever the web server's clock stamped them with: a worker whose clock is behind
    must not leave them to the sweep), and those whose retry or lease is due."""
    return WebhookEvent.objects.filter(
        environment=environment, source=WebhookEvent.Source.ECONNECT, topic=Topic.INVOICE_RECEIVED,
        outcome=Outcome.PENDING,
    ).filter(Q(attempts=0) | Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))  # fmt: skip


def webhooks_take_in_received(*, environment: Environment, now: datetime | None = None) -> int:
    """The environment's announced documents, taken in as a fetch takes in its inbox: downloaded, stored, processed,
    delivered and acknowledged in the order announced, ``TAKEN_TOGETHER`` at a time with each step's writes made
    together, by one run at a time (the environment's receiving lease: over PSB no fetch holds it), so that they are
    judged in the order they arrived. A run that finds the lease held leaves its event to the run that holds it,
    which looks again after letting go. Returns how many events this run took."""
    taken, waiting = 0, None
    for _ in range(TAKE_IN_ROUNDS):
        with lifecycle.environment_lease(
            environment, lease_field=fetching.FETCH.lease_field, duration=fetching.FETCH.duration
        ) as held:
            if not held:
                return taken
            while taken < TAKEN_PER_RUN and (events := _claim_received(environment, now or timezone.now())):
                _take_in(environment, events, now or timezone.now())
                taken += len(events)
        # Let go, then look again: an event stored while letting go found the lease held and left its work to this run.
        waiting = _received_due(environment, now or timezone.now()).values_list("pk", flat=True).first()
        if waiting is None or taken >= TAKEN_PER_RUN:
            break
    if waiting is not None:  # this run took its share: the rest is another task's
        lifecycle.enqueue("webhooks.process", waiting)
    return taken


def _claim_received(environment: Environment, now: datetime) -> list[WebhookEvent]:
    """The next due announcements, oldest first, each attempt counted; claimed for ``PROCESS_LEASE``."""
    with transaction.atomic():
        due = _received_due(environment, now).select_for_update(skip_locked=True).order_by("received_at", "pk")
        claimed = list(due.values_list("pk", flat=True)[:TAKEN_TOGETHER])
        WebhookEvent.objects.filter(pk__in=claimed).update(
            attempts=F("attempts") + 1, next_attempt_at=now + PROCESS_LEASE, dispatched_at=None
        )
    return list(WebhookEvent.objects.filter(pk__in=claimed).order_by("received_at", "pk")) if claimed else []


def _take_in(environment: Environment, events: list[WebhookEvent], now: datetime) -> None:
    """Claimed announcements: their documents taken in together; each event ends with its document's outcome, or
    waits for its retry when its document could not be downloaded."""
    announced = [event for event in events if event.document_id]
    try:
        pushed = (
            incoming_receive_pushed_many(
                environment=environment, external_ids=[event.document_id for event in announced]
            )
            if announced
            else {}
        )
    except RemoteError as exc:  # e.g. the login itself was refused: every download waits for it
        pushed = {event.document_id[:100]: Pushed(error=exc) for event in announced}
    ended = [(event, Outcome.IGNORED, Msg("webhook.outcome.no_document")) for event in events if not event.document_id]
    for event in announced:
        result = pushed[event.document_id[:100]]
        if result.error is None:
            key = "webhook.outcome.received" if result.created else "webhook.outcome.already_received"
            ended.append((event, Outcome.PROCESSED, Msg(key, pk=str(result.invoice.pk))))
        elif not _failed(event, result.error, now):
            ended.append((event, Outcome.FAILED, result.error.message))
    _end_together(ended)


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


def _handle(event: WebhookEvent) -> tuple[str, Msg | str]:
    if event.source == WebhookEvent.Source.AFAS:
        return afas_event_handle(event)
    environment = event.environment
    topic = event.topic
    if not event.document_id and topic not in (Topic.HOOK_SENT, Topic.HOOK_SENT_RETRY, Topic.HOOK_SENT_ERROR):
        return Outcome.IGNORED, Msg("webhook.outcome.no_document")
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
