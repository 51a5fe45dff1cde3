"""A fetch processes, delivers and acknowledges what it stored, in the order received, once every listing is read:
each step's writes together, a service that hangs asked once, an unexpected error left to the stalled sweep."""

from functools import partialmethod

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.econnect.soap import PlatformSoapGateway
from portal.events.models import Event
from portal.incoming_invoices import services
from portal.incoming_invoices.models import IncomingInvoice

Status = IncomingInvoice.Status
AFAS_DELIVERY = "POST /connectors/FiElectronicInvoicePurchase"


DEMO_INBOX = 5  # documents in the demo environment's eConnect inbox


def test_every_page_is_stored_before_any_document_is_acknowledged(world, monkeypatch):
    # Acknowledging moves a document out of the listing being paged: the pages after it would skip documents.
    monkeypatch.setattr(
        PlatformSoapGateway,
        "list_inbox_documents",
        partialmethod(PlatformSoapGateway.list_inbox_documents, limit=2),
    )

    result = services.incoming_fetch(environment=world.environment)

    assert result.stored == DEMO_INBOX == IncomingInvoice.objects.filter(environment=world.environment).count()
    assert services.incoming_fetch(environment=world.environment).stored == 0


def test_each_steps_moves_are_written_together_each_with_its_timeline(world):
    with CaptureQueriesContext(connection) as queries:
        services.incoming_fetch(environment=world.environment)

    inserts = [query for query in queries.captured_queries if query["sql"].startswith('INSERT INTO "events_event"')]
    # RECEIVED per listing page; then, for all documents at once: the verdicts, DELIVERED, ACKNOWLEDGED.
    assert len(inserts) <= 5
    acknowledged = IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED)
    assert acknowledged.count() == 3
    for invoice in acknowledged:
        steps = list(Event.objects.filter(incoming_invoice=invoice).order_by("pk").values_list("to_status", flat=True))
        assert steps == [Status.RECEIVED, Status.READY, Status.DELIVERING, Status.DELIVERED, Status.ACKNOWLEDGED]


def test_after_afas_timed_out_the_rest_is_not_sent_to_afas_and_waits_for_its_retry(world):
    world.afas_fault(operation=AFAS_DELIVERY, delay=3600, count=1)

    services.incoming_fetch(environment=world.environment)

    documents = IncomingInvoice.objects.filter(environment=world.environment)
    uncertain = documents.get(status=Status.HELD, hold_reason=IncomingInvoice.HoldReason.DELIVERY_UNCERTAIN)
    waiting = documents.filter(status=Status.RETRY_WAIT)
    assert waiting.count() == 2 and all(invoice.pk > uncertain.pk for invoice in waiting)
    assert world.delivered_to_afas() == []  # the fault was for one request only: the others were never sent


def test_an_unexpected_error_leaves_the_document_for_the_stalled_sweep_and_the_fetch_goes_on(world, monkeypatch):
    parse = services.parse_document
    broken = []

    def failing_once(raw, **kwargs):
        if not broken:
            broken.append(raw)
            raise RuntimeError("a bug")
        return parse(raw, **kwargs)

    monkeypatch.setattr(services, "parse_document", failing_once)

    result = services.incoming_fetch(environment=world.environment)

    documents = IncomingInvoice.objects.filter(environment=world.environment)
    assert result.stored == documents.count() == DEMO_INBOX
    assert documents.filter(status=Status.RECEIVED).count() == 1
    assert documents.filter(status=Status.ACKNOWLEDGED).exists()


def test_the_judging_lock_is_taken_once_for_the_documents_judged_together(world):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")

    with CaptureQueriesContext(connection) as queries:
        services.incoming_fetch(environment=world.environment)

    locks = [query["sql"] for query in queries.captured_queries if "FOR NO KEY UPDATE" in query["sql"]]
    assert len(locks) == 1 and '"organisations_environment"' in locks[0]


def test_a_large_inbox_is_taken_in_over_several_fetches_none_skipped(world, monkeypatch):
    from portal.incoming_invoices import fetching

    monkeypatch.setattr(fetching, "MAX_PROCESSED_PER_FETCH", 2)

    stored = [services.incoming_fetch(environment=world.environment).stored for _ in range(4)]

    # A fetch stops listing after the page that reached the limit; the next goes on from the same cursor.
    assert 2 <= stored[0] < DEMO_INBOX and sum(stored) == DEMO_INBOX and stored[-1] == 0
    documents = IncomingInvoice.objects.filter(environment=world.environment)
    assert not documents.filter(status=Status.RECEIVED).exists()
