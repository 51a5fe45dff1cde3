"""`make run`'s demo on PSB: the portal's demo seed and the eConnect simulator's demo seed describe the same hook
(address and secret), so the simulator's first purchase invoices reach the PSB environment by webhook."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from integrations import demo_data
from integrations.econnect.psb.auth import forget_tokens
from integrations.econnect.simulator import create_app, seed_demo
from integrations.simulators.transport import SimulatorTransport
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import clients
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment
from portal.webhooks.connect import hook_address
from portal.webhooks.models import WebhookEvent
from portal.webhooks.services import webhook_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, monkeypatch):
    forget_tokens()
    settings.PORTAL_PUBLIC_URL = demo_data.DEMO_PORTAL_URL
    simulator = create_app()
    seed_demo(simulator)
    transport = SimulatorTransport(simulator)
    make = clients.econnect_gateway_for
    monkeypatch.setattr(clients, "econnect_gateway_for", lambda env, **kw: make(env, transport=transport, **kw))
    demo_seed()
    yield simulator
    forget_tokens()


def test_the_simulators_demo_hook_is_the_one_the_portal_registers(world):
    flora = Environment.objects.get(econnect_transport=Environment.EConnectTransport.PSB)

    [hook] = world.psb["hooks"][flora.econnect_psb_party_id].values()

    assert hook["action"] == f"{hook_address(flora)}#{flora.econnect_hook_secret}"


def test_the_demo_purchase_invoices_arrive_by_webhook(world, django_capture_on_commit_callbacks):
    flora = Environment.objects.get(econnect_transport=Environment.EConnectTransport.PSB)
    client = Client()
    world.webhook_sender = lambda url, body, headers: (
        client.post(
            urlsplit(url).path,
            data=body,
            content_type="application/json",
            HTTP_X_ECONNECT_SIGNATURE=headers["X-EConnect-Signature"],
        ).status_code
    )

    with django_capture_on_commit_callbacks(execute=False):
        world.tick()
    for event in WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PENDING):
        with django_capture_on_commit_callbacks(execute=False):
            webhook_process(event=event)

    assert IncomingInvoice.objects.filter(environment=flora).count() == 3
    assert not IncomingInvoice.objects.exclude(environment=flora).exists()
