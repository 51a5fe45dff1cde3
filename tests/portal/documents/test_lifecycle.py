"""The shared lifecycle: READY with its remote step started in the same statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.events.messages import Msg
from portal.events.models import Event
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.services import SUBMISSION
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

Status = OutgoingInvoice.Status
pytestmark = pytest.mark.django_db


def starting(document, *, now):
    return Msg("outgoing.submitting", attempt=document.attempts + 1, reference="ref-1"), {
        "submission_reference": "ref-1",
        "submission_prepared_at": now,
    }


def test_ready_with_its_start_is_one_update_and_both_steps_on_the_timeline():
    invoice = OutgoingInvoiceFactory(status=Status.NEW, attempts=2)

    with CaptureQueriesContext(connection) as queries:
        moved = SUBMISSION.ready(invoice, from_statuses=(Status.NEW,), message=Msg("outgoing.ready", recipient="x"),
                                 start_now=starting, system_actor="prepare")  # fmt: skip

    assert moved
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements.count("UPDATE") == 1 and statements.count("INSERT") == 1
    stored = OutgoingInvoice.objects.get(pk=invoice.pk)
    assert (stored.status, stored.attempts, stored.submission_reference) == (Status.SUBMITTING, 3, "ref-1")
    assert stored.dispatched_at is None and stored.next_attempt_at is not None
    assert (invoice.status, invoice.attempts) == (Status.SUBMITTING, 3)  # the instance in hand holds what was written
    steps = Event.objects.filter(outgoing_invoice=invoice).order_by("pk")
    assert [(e.from_status, e.to_status, e.actor_name) for e in steps] == [
        (Status.NEW, Status.READY, "prepare"),
        (Status.READY, Status.SUBMITTING, "prepare"),
    ]
    assert steps[1].message_data["params"]["attempt"] == 3


def test_ready_with_its_start_does_nothing_when_another_worker_moved_the_document():
    invoice = OutgoingInvoiceFactory(status=Status.NEW)
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(status=Status.NOT_SENT)

    moved = SUBMISSION.ready(invoice, from_statuses=(Status.NEW,), message=Msg("outgoing.ready", recipient="x"),
                             start_now=starting, system_actor="prepare")  # fmt: skip

    assert not moved
    assert OutgoingInvoice.objects.get(pk=invoice.pk).status == Status.NOT_SENT
    assert invoice.status == Status.NEW
    assert not Event.objects.filter(outgoing_invoice=invoice).exists()
