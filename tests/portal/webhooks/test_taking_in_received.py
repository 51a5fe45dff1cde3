"""Documents announced by webhook are taken in per environment, like a fetch's: in the order announced, by one run at
a time, a batch downloaded with one gateway and each step's writes made together."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.peppol.builder import build_ubl
from integrations.simulators.faults import Fault
from portal.documents import lifecycle
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import clients
from portal.webhooks import services
from portal.webhooks.models import WebhookEvent
from portal.webhooks.services import webhook_process, webhooks_take_in_received
from tests.integrations.peppol.builders import invoice
from tests.portal.webhooks.conftest import PARTY

Outcome = WebhookEvent.Outcome


@pytest.fixture
def announced(connected, sim, django_capture_on_commit_callbacks):
    """Announce documents: eConnect receives them and delivers their webhooks, which the portal stores (and whose
    messages are not sent: the tests run the take-in themselves). Returns their eConnect ids in announced order."""

    def announce(*numbers: str) -> list[str]:
        ids = [sim.psb_receive(PARTY, build_ubl(invoice(number=number))) for number in numbers]
        with django_capture_on_commit_callbacks(execute=False):
            sim.psb_deliver_due()
        return ids

    return announce


@pytest.fixture
def gateways(monkeypatch):
    opened = []
    make = clients.econnect_gateway_for

    def counting(environment, **kwargs):
        opened.append(environment.pk)
        return make(environment, **kwargs)

    monkeypatch.setattr(clients, "econnect_gateway_for", counting)
    return opened


def test_one_event_takes_in_its_environments_announced_documents_in_the_order_announced(
    connected, announced, gateways, django_capture_on_commit_callbacks
):
    ids = announced("IN-1", "IN-2", "IN-3")
    first = WebhookEvent.objects.get(document_id=ids[0])

    with django_capture_on_commit_callbacks(execute=False):
        webhook_process(event=first)

    stored = list(IncomingInvoice.objects.filter(environment=connected).order_by("pk"))
    assert [invoice.econnect_document_id for invoice in stored] == ids
    assert IncomingInvoice.Status.RECEIVED not in {invoice.status for invoice in stored}  # processed in this run
    assert set(WebhookEvent.objects.values_list("outcome", flat=True)) == {Outcome.PROCESSED}
    assert gateways == [connected.pk]  # downloaded and processed with one gateway
    assert first.outcome == Outcome.PROCESSED and "IN-" not in first.outcome_message


def test_the_other_events_messages_then_find_nothing_to_do(connected, announced, django_capture_on_commit_callbacks):
    ids = announced("IN-1", "IN-2")
    with django_capture_on_commit_callbacks(execute=False):
        webhook_process(event=WebhookEvent.objects.get(document_id=ids[0]))

    later = WebhookEvent.objects.get(document_id=ids[1])
    with django_capture_on_commit_callbacks(execute=False):
        webhook_process(event=later)

    later.refresh_from_db()
    assert (later.outcome, later.attempts) == (Outcome.PROCESSED, 1)
    assert IncomingInvoice.objects.filter(environment=connected).count() == 2


def test_while_another_run_holds_the_environment_a_run_leaves_its_event_to_that_run(connected, announced):
    [document_id] = announced("IN-1")

    with lifecycle.environment_lease(connected, lease_field="fetch_lease_until", duration=services.PROCESS_LEASE):
        taken = webhooks_take_in_received(environment=connected)

    assert taken == 0
    assert WebhookEvent.objects.get(document_id=document_id).outcome == Outcome.PENDING
    assert webhooks_take_in_received(environment=connected) == 1


def test_an_event_stored_while_the_run_lets_go_is_taken_by_that_run(
    connected, announced, monkeypatch, django_capture_on_commit_callbacks
):
    [first] = announced("IN-1")
    claim = services._claim_received
    late = []

    def claim_then_announce_once_more(environment, now):
        claimed = claim(environment, now)
        if not claimed and not late:  # the run found nothing more: a webhook arrives before it lets go
            late.extend(announced("IN-2"))
            late.append(webhooks_take_in_received(environment=environment))  # its own message: the lease is held
        return claimed

    monkeypatch.setattr(services, "_claim_received", claim_then_announce_once_more)

    with django_capture_on_commit_callbacks(execute=False):  # as the task runs it: stored after it started
        webhook_process(event=WebhookEvent.objects.get(document_id=first))

    assert late[1] == 0
    assert WebhookEvent.objects.get(document_id=late[0]).outcome == Outcome.PROCESSED


def test_a_new_event_is_due_even_when_the_web_servers_clock_runs_ahead_of_the_workers(
    connected, announced, django_capture_on_commit_callbacks
):
    [document_id] = announced("IN-1")
    WebhookEvent.objects.filter(document_id=document_id).update(next_attempt_at=timezone.now() + timedelta(seconds=5))

    with django_capture_on_commit_callbacks(execute=False):
        webhooks_take_in_received(environment=connected)

    assert WebhookEvent.objects.get(document_id=document_id).outcome == Outcome.PROCESSED


def test_a_run_takes_its_share_and_queues_the_rest(connected, announced, monkeypatch):
    monkeypatch.setattr(services, "TAKEN_TOGETHER", 2)
    monkeypatch.setattr(services, "TAKEN_PER_RUN", 2)
    ids = announced("IN-1", "IN-2", "IN-3")
    queued = []
    monkeypatch.setattr(lifecycle, "enqueue", lambda name, *ids, **kwargs: queued.append((name, ids)))

    taken = webhooks_take_in_received(environment=connected)

    assert taken == 2
    assert WebhookEvent.objects.get(document_id=ids[2]).outcome == Outcome.PENDING
    assert queued == [("webhooks.process", (WebhookEvent.objects.get(document_id=ids[2]).pk,))]


def test_after_a_download_that_asks_to_wait_the_rest_are_not_asked_for_and_all_wait(
    connected, announced, sim, django_capture_on_commit_callbacks
):
    ids = announced("IN-1", "IN-2", "IN-3")
    busy = Fault(operation="psb.download", status=503, headers={"Retry-After": "30"}, count=None)
    sim.faults.add(busy)

    with django_capture_on_commit_callbacks(execute=False):
        webhooks_take_in_received(environment=connected)

    assert busy.hits == 1
    events = WebhookEvent.objects.filter(document_id__in=ids)
    assert {event.outcome for event in events} == {Outcome.PENDING}
    assert all(event.next_attempt_at >= timezone.now() for event in events)
    assert not IncomingInvoice.objects.exists()


def test_a_failed_download_is_that_documents_alone(connected, announced, sim, django_capture_on_commit_callbacks):
    ids = announced("IN-1", "IN-2")
    sim.faults.add(Fault(operation="psb.download", status=500, count=1))

    with django_capture_on_commit_callbacks(execute=False):
        webhooks_take_in_received(environment=connected)

    assert WebhookEvent.objects.get(document_id=ids[0]).outcome == Outcome.PENDING
    assert WebhookEvent.objects.get(document_id=ids[1]).outcome == Outcome.PROCESSED
    assert list(IncomingInvoice.objects.values_list("econnect_document_id", flat=True)) == [ids[1]]


def test_a_document_stored_already_ends_its_event_without_a_download(
    connected, announced, sim, django_capture_on_commit_callbacks
):
    [document_id] = announced("IN-1")
    with django_capture_on_commit_callbacks(execute=False):
        webhooks_take_in_received(environment=connected)
    event = WebhookEvent.objects.get(document_id=document_id)
    WebhookEvent.objects.filter(pk=event.pk).update(outcome=Outcome.PENDING, next_attempt_at=timezone.now())
    unreachable = Fault(operation="psb.download", status=500, count=None)
    sim.faults.add(unreachable)

    with django_capture_on_commit_callbacks(execute=False):
        webhooks_take_in_received(environment=connected)

    event.refresh_from_db()
    assert event.outcome == Outcome.PROCESSED and "Already stored" in event.outcome_message
    assert unreachable.hits == 0


def test_an_announcement_without_a_document_is_ignored_without_asking_econnect(connected, gateways):
    from portal.webhooks.storing import webhook_store

    webhook_store(environment=connected, source=WebhookEvent.Source.ECONNECT, key="hook-empty",
                  topic="InvoiceReceived", document_id="", body=b"{}")  # fmt: skip

    webhooks_take_in_received(environment=connected)

    event = WebhookEvent.objects.get(event_key="hook-empty")
    assert event.outcome == Outcome.IGNORED
    assert gateways == []
