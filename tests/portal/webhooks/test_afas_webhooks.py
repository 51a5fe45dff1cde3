"""AFAS Profit dossier webhooks end to end, in-process: the AFAS simulator's "Send webhooks" job posts signed events
to the portal's endpoint (the Django test client); the portal stores each once and collects at once."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from integrations.afas.webhooks import signature
from portal.events.models import Event
from portal.webhooks.afas import afas_hook_address, environment_set_up_afas_webhooks
from portal.webhooks.models import WebhookEvent
from portal.webhooks.services import webhook_process
from tests.portal.outgoing_invoices.conftest import world  # noqa: F401 - the sending world

HEADER = "HTTP_X_PROFIT_SIGNATURE_256"


@pytest.fixture
def hooked(world, settings, django_capture_on_commit_callbacks):  # noqa: F811
    """The environment with its AFAS webhook set up, and the simulator's webhook pointed at the portal."""
    settings.PORTAL_PUBLIC_URL = "https://portal.example"
    password = environment_set_up_afas_webhooks(environment=world.environment, actor=None)
    client, statuses = Client(), []

    def post(url, body, headers):
        response = client.post(urlsplit(url).path, data=body, content_type="application/json",
                               **{HEADER: headers.get("X-Profit-Signature-256", "")})  # fmt: skip
        statuses.append(response.status_code)
        return response.status_code

    world.afas_app.webhook_sender = post
    key = f"{world.environment.afas_participant_number}-{world.environment.afas_environment_type}"
    response = world.afas.request(
        "POST", f"/_sim/environments/{key}/webhooks",
        json={"url": afas_hook_address(world.environment), "password": password},
    )  # fmt: skip
    assert response.status_code == 201
    world.statuses, world.password = statuses, password
    return world


def process_stored(django_capture_on_commit_callbacks) -> None:
    for event in WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.PENDING):
        with django_capture_on_commit_callbacks(execute=True):
            webhook_process(event=event)


def test_a_filed_sales_invoice_is_collected_and_sent_on_the_webhook_without_waiting_for_a_poll(
    hooked, django_capture_on_commit_callbacks
):
    environment = hooked.environment
    environment.outgoing_invoices.all().delete()
    from portal.organisations.models import Environment

    Environment.objects.filter(pk=environment.pk).update(next_collect_at="2099-01-01T00:00Z")  # no poll due
    hooked.issue_sales_invoice("10001")

    with django_capture_on_commit_callbacks(execute=False):
        assert hooked.afas_app.send_webhooks() == 1
    process_stored(django_capture_on_commit_callbacks)

    assert hooked.statuses == [200]
    event = WebhookEvent.objects.get(environment=environment, source=WebhookEvent.Source.AFAS)
    assert (event.topic, event.outcome) == ("subject.created", WebhookEvent.Outcome.PROCESSED)
    assert environment.outgoing_invoices.filter(status="submitted").count() >= 1


def test_the_same_event_delivered_twice_is_stored_and_processed_once(hooked, django_capture_on_commit_callbacks):
    hooked.issue_sales_invoice("10001")
    [queued] = [e for e in hooked.afas_app.state.data["webhooks"]["events"] if e["state"] == "Registered"]

    with django_capture_on_commit_callbacks(execute=False):
        hooked.afas_app.send_webhooks()
        queued["state"] = "Retry"  # Profit did not see our answer and sends it again
        hooked.afas_app.send_webhooks()

    assert hooked.statuses == [200, 200]
    event = WebhookEvent.objects.get(environment=hooked.environment, source=WebhookEvent.Source.AFAS)
    assert event.deliveries == 2


def test_a_wrong_password_is_refused_with_401_on_the_timeline_and_profit_retries(hooked):
    hooked.afas_app.state.data["webhooks"]["hooks"]["1"]["password"] = "an old password"
    hooked.issue_sales_invoice("10001")

    hooked.afas_app.send_webhooks()

    assert hooked.statuses == [401]
    assert not WebhookEvent.objects.filter(source=WebhookEvent.Source.AFAS).exists()
    refused = Event.objects.get(environment=hooked.environment, kind="webhook_refused")
    assert "does not match the webhook password" in refused.text
    [event] = hooked.afas_app.state.data["webhooks"]["events"]
    assert event["state"] == "Retry"


def test_the_test_message_shows_on_the_timeline(hooked, django_capture_on_commit_callbacks):
    body = json.dumps({"EventId": "t-1", "EnvironmentId": "12345AA", "EventType": "test.executed",
                       "Data": {"SubscriptionId": 1, "SubscriptionName": "Peppol bridge"},
                       "Timestamp": "2026-12-07T09:00:00.0000000Z"}).encode()  # fmt: skip
    response = Client().post(
        urlsplit(afas_hook_address(hooked.environment)).path, data=body, content_type="application/json",
        **{HEADER: signature(body, hooked.password)},
    )  # fmt: skip
    process_stored(django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert Event.objects.filter(environment=hooked.environment, kind="afas_webhook_test").exists()


def test_an_unknown_address_is_404(db):
    assert Client().post("/hooks/afas/unknown/", data=b"{}", content_type="application/json").status_code == 404


def test_a_new_password_replaces_the_old_one_and_keeps_the_address(hooked):
    before = afas_hook_address(hooked.environment)

    new_password = environment_set_up_afas_webhooks(environment=hooked.environment, actor=None)

    assert afas_hook_address(hooked.environment) == before and new_password != hooked.password
    hooked.environment.refresh_from_db()
    assert hooked.environment.afas_hook_password == new_password
    assert Event.objects.filter(environment=hooked.environment, kind="afas_webhooks_set_up").count() == 2


def test_the_set_up_page_shows_the_password_once_to_a_firm_admin_and_never_caches(
    hooked, settings, accountant_client, membership
):
    from portal.accounts.models import Membership
    from portal.organisations.models import Organisation

    Organisation.objects.filter(pk=hooked.environment.organisation_id).update(firm=membership.firm)
    Membership.objects.filter(pk=membership.pk).update(role=Membership.Role.FIRM_ADMIN)

    response = accountant_client.post(f"/environments/{hooked.environment.pk}/afas-webhooks/")

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    hooked.environment.refresh_from_db()
    assert hooked.environment.afas_hook_password in response.content.decode()
    detail = accountant_client.get(f"/environments/{hooked.environment.pk}/").content.decode()
    assert hooked.environment.afas_hook_password not in detail
