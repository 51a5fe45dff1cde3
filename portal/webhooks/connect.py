"""Connecting an environment's eConnect PSB webhooks: the portal registers (or updates) its hook at eConnect, with
an unguessable address of its own and a secret eConnect signs every delivery with."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.econnect.psb.models import PORTAL_TOPICS, Hook, portal_hook_id
from portal.accounts.models import User
from portal.core.public_address import public_address_problem
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.models import Environment


class HooksRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def hook_address(environment: Environment) -> str:
    path = reverse("webhooks:econnect", args=[environment.econnect_hook_token])
    return f"{settings.PORTAL_PUBLIC_URL.strip().rstrip('/')}{path}"


def environment_connect_webhooks(*, environment: Environment, actor: User | None) -> Hook:
    """Register the environment's hook at eConnect (an update when it exists: eConnect keeps its delivery state).
    The address and secret are stored first, so a delivery that arrives at once is already recognised."""
    if not environment.uses_psb:
        raise HooksRefused(_("Webhooks are for environments on eConnect PSB."))
    problem = public_address_problem()
    if problem:
        raise HooksRefused(problem)
    if not environment.has_econnect_keys:
        raise HooksRefused(_("Set the eConnect PSB client id, secret and party id first."))
    with transaction.atomic():
        locked = Environment.objects.select_for_update().get(pk=environment.pk)
        if not locked.econnect_hook_token:
            locked.econnect_hook_token = secrets.token_urlsafe(32)
        if not locked.econnect_hook_secret:
            locked.econnect_hook_secret = secrets.token_urlsafe(32)
        locked.save(update_fields=["econnect_hook_token", "econnect_hook_secret", "updated_at"])
    hook = Hook(
        id=portal_hook_id(locked.afas_participant_number, locked.afas_environment_type),
        name=f"Peppol bridge {locked.afas_participant_number}-{locked.afas_environment_type}"[:100],
        action=f"{hook_address(locked)}#{locked.econnect_hook_secret}",
        topics=PORTAL_TOPICS,
    )
    with clients.econnect_gateway_for(locked) as gateway:
        gateway.put_hook(hook)
    now = timezone.now()
    Environment.objects.filter(pk=locked.pk).update(econnect_hooks_connected_at=now, updated_at=now)
    environment.econnect_hooks_connected_at = now
    event_record(
        environment=locked,
        actor=actor,
        kind=EventKind.WEBHOOKS_CONNECTED,
        message=Msg("webhook.connected", address=hook_address(locked)),
        data={"hook_id": hook.id, "topics": list(hook.topics)},
    )
    return hook
