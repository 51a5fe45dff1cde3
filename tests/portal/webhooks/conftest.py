"""The eConnect PSB simulator in-process, with an environment whose webhooks reach the portal's endpoint (the Django
test client)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from portal.webhooks.connect import environment_connect_webhooks
from portal.webhooks.models import WebhookEvent
from portal.webhooks.services import webhook_process
from tests.portal.organisations.factories import psb_environment

PARTY = "0106:87654321"  # the customer of tests.integrations.peppol.builders.invoice(): received invoices are ours
SENDER = "0106:12345678"


@pytest.fixture
def sim(psb_simulator, settings):
    app = psb_simulator(PARTY, SENDER)
    app.register("production", PARTY, access_point="econnect")
    settings.PORTAL_PUBLIC_URL = "https://portal.example"
    return app


@pytest.fixture
def environment(db, sim):
    return psb_environment(PARTY)


@pytest.fixture
def connected(environment, sim, django_capture_on_commit_callbacks):
    environment_connect_webhooks(environment=environment, actor=None)
    environment.refresh_from_db()
    client = Client()
    sim.webhook_statuses = []

    def post(url, body, headers):
        response = client.post(
            urlsplit(url).path,
            data=body,
            content_type="application/json",
            HTTP_X_ECONNECT_SIGNATURE=headers.get("X-EConnect-Signature", ""),
        )
        sim.webhook_statuses.append(response.status_code)
        return response.status_code

    sim.webhook_sender = post
    return environment


def deliver(sim, django_capture_on_commit_callbacks):
    """eConnect delivers what is due; the portal's stored events are then processed (tasks run by hand here)."""
    with django_capture_on_commit_callbacks(execute=False):
        sim.psb_deliver_due()
    for event in WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PENDING):
        with django_capture_on_commit_callbacks(execute=False):
            webhook_process(event=event)
