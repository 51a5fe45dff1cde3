"""AFAS Profit dossier webhooks (optional, Profit 8): a new sales invoice is collected at once instead of at the next
poll. Polling stays the safety net: Profit delivers at least once, in a batch job, and may give up or be blocked.

Setting up: the portal makes an unguessable address and a password for the environment and shows the password once;
the AFAS administrator enters both on a webhook of the app connector and links it to the dossier item type that
holds the sales invoices' UBL (there is no API for that). Receiving checks the ``X-Profit-Signature-256`` signature,
stores the event once per ``EventId`` and answers within Profit's 2 seconds; the task then asks for a collect."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from integrations.afas import webhooks as profit
from portal.accounts.models import User
from portal.documents import lifecycle
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import Environment
from portal.webhooks.models import WebhookEvent
from portal.webhooks.storing import webhook_store

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome


def afas_hook_address(environment: Environment) -> str:
    path = reverse("webhooks:afas", args=[environment.afas_hook_token])
    return f"{settings.PORTAL_PUBLIC_URL.strip().rstrip('/')}{path}"


def environment_set_up_afas_webhooks(*, environment: Environment, actor: User | None) -> str:
    """A new password for the environment's AFAS webhook (the address stays once made); returned to be shown once,
    stored encrypted. An earlier password stops working: the administrator enters the new one in Profit."""
    password = secrets.token_urlsafe(24)
    with transaction.atomic():
        locked = Environment.objects.select_for_update().get(pk=environment.pk)
        if not locked.afas_hook_token:
            locked.afas_hook_token = secrets.token_urlsafe(32)
        locked.afas_hook_password = password
        locked.afas_hooks_set_up_at = timezone.now()
        locked.save(update_fields=["afas_hook_token", "afas_hook_password", "afas_hooks_set_up_at", "updated_at"])
        event_record(
            environment=locked,
            actor=actor,
            kind=EventKind.AFAS_WEBHOOKS_SET_UP,
            message=Msg("afas_webhook.set_up", address=afas_hook_address(locked)),
        )
    environment.afas_hook_token, environment.afas_hooks_set_up_at = locked.afas_hook_token, locked.afas_hooks_set_up_at
    return password


def afas_webhook_receive(*, token: str, body: bytes, signature: str | None) -> int:
    """Check, store once, answer: the HTTP status for Profit."""
    environment = Environment.objects.filter(afas_hook_token=token).exclude(afas_hook_token="").first()
    if environment is None or not token or not environment.afas_hook_password:
        return 404
    try:
        event = profit.verified(body, presented_signature=signature, password=environment.afas_hook_password)
    except profit.WebhookRefused as exc:
        logger.warning("AFAS webhook for environment %s refused: %s", environment.pk, exc.refusal.value)
        event_record(
            environment=environment,
            kind=EventKind.WEBHOOK_REFUSED,
            message=Msg("afas_webhook.refused", reason=Msg(f"afas_webhook.refusal.{exc.refusal.value}")),
            system_actor="webhook",
            data={"refusal": exc.refusal.value, "status": exc.refusal.status, "source": "afas"},
        )
        return exc.refusal.status
    webhook_store(
        environment=environment,
        source=WebhookEvent.Source.AFAS,
        key=event.event_id,
        topic=event.event_type,
        document_id=str(event.subject_id) if event.subject_id is not None else "",
        body=body,
    )
    return 200


def afas_event_handle(event: WebhookEvent) -> tuple[str, Msg]:
    """What a stored Profit event asks of the portal."""
    environment = event.environment
    if event.topic in profit.DOSSIER_CHANGED:
        if not environment.sending_enabled:
            return Outcome.IGNORED, Msg("afas_webhook.outcome.sending_off")
        Environment.objects.filter(pk=environment.pk).update(next_collect_at=timezone.now())
        lifecycle.enqueue("outgoing.collect", environment.pk)
        return Outcome.PROCESSED, Msg("afas_webhook.outcome.collect_asked", subject_id=event.document_id or "-")
    if event.topic == profit.TEST_MESSAGE:
        event_record(
            environment=environment,
            kind=EventKind.AFAS_WEBHOOK_TEST,
            message=Msg("afas_webhook.test_received"),
            system_actor="webhook",
        )
        return Outcome.PROCESSED, Msg("afas_webhook.test_received")
    return Outcome.IGNORED, Msg("webhook.outcome.topic_unused", topic=event.topic)
