"""eConnect PSB webhooks end to end, in-process: the simulator posts signed events to the portal's endpoint (the
Django test client), the portal stores them before answering and processes them with the owning apps' services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from integrations.econnect.psb.auth import PsbCredentials, forget_tokens
from integrations.econnect.psb.client import PsbClient, new_document_id
from integrations.peppol.builder import build_ubl
from integrations.simulators.transport import SimulatorTransport
from portal.events.models import Event
from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.services import incoming_acknowledge, incoming_acknowledge_again
from portal.organisations.models import Environment
from portal.organisations.routes import receiving_blockers
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.webhooks.connect import HooksRefused, environment_connect_webhooks
from portal.webhooks.models import WebhookEvent
from portal.webhooks.services import webhook_process
from tests.integrations.peppol.builders import invoice
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory
from tests.portal.webhooks.conftest import PARTY, SENDER, deliver


def test_connecting_registers_the_hook_with_an_unguessable_address_and_secret(connected, sim):
    [hook] = sim.psb["hooks"][PARTY].values()

    address, _, secret = hook["action"].partition("#")
    assert address == f"https://portal.example/hooks/econnect/{connected.econnect_hook_token}/"
    assert len(connected.econnect_hook_token) >= 40 and secret == connected.econnect_hook_secret
    assert "InvoiceReceived" in hook["topics"]
    assert connected.econnect_hooks_connected_at is not None
    assert Event.objects.filter(environment=connected, kind="webhooks_connected").exists()


def test_connecting_again_updates_the_same_hook(connected, sim):
    environment_connect_webhooks(environment=connected, actor=None)

    assert len(sim.psb["hooks"][PARTY]) == 1


def test_without_a_public_https_address_webhooks_cannot_be_connected(environment, settings):
    settings.DEBUG, settings.PORTAL_PUBLIC_URL = False, ""

    with pytest.raises(HooksRefused) as refused:
        environment_connect_webhooks(environment=environment, actor=None)

    assert "no public HTTPS address" in refused.value.message
    assert any("no public HTTPS address" in problem for problem in receiving_blockers(environment))


def test_receiving_over_psb_waits_for_the_webhooks(environment):
    assert any("webhooks are not connected" in problem for problem in receiving_blockers(environment))


def test_a_received_invoice_arrives_by_webhook_and_is_stored_exactly_as_received(
    connected, sim, django_capture_on_commit_callbacks
):
    payload = build_ubl(invoice(number="IN-100"))
    document_id = sim.psb_receive(PARTY, payload)

    deliver(sim, django_capture_on_commit_callbacks)

    assert sim.webhook_statuses == [200]
    stored = IncomingInvoice.objects.get(environment=connected, econnect_document_id=document_id)
    assert bytes(stored.raw_xml) == payload
    event = WebhookEvent.objects.get(environment=connected)
    assert (event.topic, event.outcome) == ("InvoiceReceived", WebhookEvent.Outcome.PROCESSED)


def test_a_pushed_document_is_processed_in_the_task_that_took_it_in(
    connected, sim, django_capture_on_commit_callbacks, monkeypatch
):
    from portal.incoming_invoices import tasks as incoming_tasks

    queued = []
    monkeypatch.setattr(incoming_tasks.process, "delay", lambda *ids: queued.append(ids))
    document_id = sim.psb_receive(PARTY, build_ubl(invoice(number="IN-103")))
    with django_capture_on_commit_callbacks(execute=False):
        sim.psb_deliver_due()

    with django_capture_on_commit_callbacks(execute=True):  # what its commits queue is sent
        webhook_process(event=WebhookEvent.objects.get(environment=connected))

    stored = IncomingInvoice.objects.get(environment=connected, econnect_document_id=document_id)
    assert stored.status != IncomingInvoice.Status.RECEIVED
    assert queued == []  # no second message per pushed document


def test_a_pushed_document_whose_processing_fails_is_left_to_the_sweep_and_the_event_done(
    connected, sim, django_capture_on_commit_callbacks, monkeypatch
):
    def failing(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("portal.incoming_invoices.services._work_through", failing)
    document_id = sim.psb_receive(PARTY, build_ubl(invoice(number="IN-104")))

    deliver(sim, django_capture_on_commit_callbacks)

    stored = IncomingInvoice.objects.get(environment=connected, econnect_document_id=document_id)
    assert stored.status == IncomingInvoice.Status.RECEIVED  # stored as received; processing_stalled picks it up
    assert WebhookEvent.objects.get(environment=connected).outcome == WebhookEvent.Outcome.PROCESSED


def test_the_same_event_delivered_twice_is_stored_and_processed_once(
    connected, sim, django_capture_on_commit_callbacks
):
    sim.psb_receive(PARTY, build_ubl(invoice(number="IN-101")))
    delivery = sim.psb["deliveries"][-1]

    deliver(sim, django_capture_on_commit_callbacks)
    delivery["state"], delivery["next_at"] = "pending", 0  # eConnect did not see our answer and sends it again
    deliver(sim, django_capture_on_commit_callbacks)

    assert sim.webhook_statuses == [200, 200]
    assert WebhookEvent.objects.get(environment=connected).deliveries == 2
    assert IncomingInvoice.objects.filter(environment=connected).count() == 1


def test_a_forged_webhook_is_refused_and_recorded(connected):
    response = Client().post(
        f"/hooks/econnect/{connected.econnect_hook_token}/",
        data=b'{"topic": "InvoiceReceived", "documentId": "x"}',
        content_type="application/json",
        HTTP_X_ECONNECT_SIGNATURE="sha256=" + "0" * 64,
    )

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    refused = Event.objects.get(environment=connected, kind="webhook_refused")
    assert "signature does not match" in refused.message


def test_an_unknown_address_is_404(db):
    response = Client().post("/hooks/econnect/no-such-token/", data=b"{}", content_type="application/json")

    assert response.status_code == 404


def test_a_stale_delivery_is_refused_with_401(connected, sim, django_capture_on_commit_callbacks):
    sim.psb["hook_clock_skew"] = -3600  # eConnect's clock an hour behind: sentOn is an hour old
    sim.psb_receive(PARTY, build_ubl(invoice(number="IN-102")))

    deliver(sim, django_capture_on_commit_callbacks)

    assert sim.webhook_statuses == [401]
    assert not IncomingInvoice.objects.exists()


def test_a_sent_invoice_is_followed_to_delivered_when_its_hook_arrives(
    connected, sim, django_capture_on_commit_callbacks
):
    sender = PsbClient(
        base_url="http://127.0.0.1:8102",
        identity_url="http://127.0.0.1:8102",
        credentials=PsbCredentials("portal-client", "s3cret"),
        party_id=SENDER,
        transport=SimulatorTransport(sim),
    )
    sim.psb["hooks"][SENDER] = dict(sim.psb["hooks"][PARTY])  # the same portal hook for the sending party
    document_id = new_document_id()
    sender.send_sales_invoice(build_ubl(invoice(number="OUT-1")), document_id=document_id)
    sent = OutgoingInvoiceFactory(
        environment=connected,
        status=OutgoingInvoice.Status.SUBMITTED,
        econnect_document_id=document_id,
        submission_reference=document_id,
    )
    Environment.objects.filter(pk=connected.pk).update(econnect_psb_party_id=SENDER)
    sim.data["clock_offset"] += 61
    sender.sales_invoice_status(document_id)  # eConnect moves on with its clock and queues InvoiceSent

    deliver(sim, django_capture_on_commit_callbacks)

    sent.refresh_from_db()
    assert sent.status == OutgoingInvoice.Status.DELIVERED


def test_an_acknowledgement_ab_is_sent_once_after_afas_accepted(connected, sim):
    Environment.objects.filter(pk=connected.pk).update(econnect_psb_send_acknowledgement=True)
    document_id = sim.psb_receive(PARTY, build_ubl(invoice(number="IN-103")))
    received = IncomingInvoiceFactory(
        environment=connected, econnect_document_id=document_id, status=IncomingInvoice.Status.DELIVERED
    )

    incoming_acknowledge(invoice=received)
    received.refresh_from_db()
    incoming_acknowledge_again(invoice=received, actor=None, reason="check", data=None)

    assert received.status == IncomingInvoice.Status.ACKNOWLEDGED
    [response] = sim.psb["received"][document_id]["responses"]
    assert sim.psb["responses"][response]["body"]["status"] == "AB"


def test_without_the_ab_switch_acknowledging_sends_nothing(connected, sim):
    document_id = sim.psb_receive(PARTY, build_ubl(invoice(number="IN-104")))
    received = IncomingInvoiceFactory(
        environment=connected, econnect_document_id=document_id, status=IncomingInvoice.Status.DELIVERED
    )

    incoming_acknowledge(invoice=received)

    received.refresh_from_db()
    assert received.status == IncomingInvoice.Status.ACKNOWLEDGED
    assert sim.psb["received"][document_id]["responses"] == []


def test_refused_credentials_keep_the_event_waiting_for_a_person_to_fix_them(
    connected, sim, django_capture_on_commit_callbacks
):
    from integrations.simulators.faults import Fault

    forget_tokens()
    sim.faults.add(Fault(operation="psb.token", status=400, body='{"error": "invalid_client"}'))
    sim.psb_receive(PARTY, build_ubl(invoice(number="IN-103")))

    deliver(sim, django_capture_on_commit_callbacks)

    event = WebhookEvent.objects.get(environment=connected)
    assert event.outcome == WebhookEvent.Outcome.PENDING and event.next_attempt_at is not None
    assert "invalid_client" in event.outcome_message
    assert not IncomingInvoice.objects.exists()


def test_with_the_broker_unreachable_the_event_is_stored_answered_200_and_left_to_the_dispatcher(
    connected, sim, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from portal.celery_app import app
    from portal.documents.lifecycle import DISPATCH_LEASE
    from portal.webhooks.services import webhooks_due

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app.tasks["webhooks.process"], "delay", unreachable)
    sim.psb_receive(PARTY, build_ubl(invoice(number="IN-102")))

    with django_capture_on_commit_callbacks(execute=True):
        sim.psb_deliver_due()

    assert sim.webhook_statuses == [200]
    event = WebhookEvent.objects.get(environment=connected)
    assert webhooks_due() == []  # its message may still come: queued work waits for its lease, as documents do
    assert webhooks_due(now=timezone.now() + DISPATCH_LEASE + timedelta(seconds=1)) == [event.pk]


def test_a_queued_event_is_queued_again_only_when_its_message_was_lost(
    connected, monkeypatch, django_capture_on_commit_callbacks
):
    from portal.webhooks import tasks
    from portal.webhooks.storing import webhook_store

    queued = []
    monkeypatch.setattr(tasks.process, "delay", lambda *ids: queued.append(ids))
    webhook_store(environment=connected, source=WebhookEvent.Source.ECONNECT, key="hook-1",
                  topic="InvoiceReceived", document_id="doc-1", body=b"{}")  # fmt: skip
    event = WebhookEvent.objects.get(environment=connected)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.work_due()
    assert queued == []  # queued when it was stored: the dispatcher leaves it to that message

    WebhookEvent.objects.filter(pk=event.pk).update(dispatched_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.work_due()
        tasks.work_due()
    assert queued == [(event.pk,)]  # the message was lost: queued once more, and once


def test_with_the_database_unavailable_the_webhook_is_answered_503_for_eConnect_to_retry(connected, monkeypatch):
    from django.db import OperationalError

    from portal.webhooks import views

    def database_down(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    monkeypatch.setattr(views, "webhook_receive", database_down)

    response = Client().post(f"/hooks/econnect/{connected.econnect_hook_token}/", data=b"{}",
                             content_type="application/json")  # fmt: skip

    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
