"""Two copies of one invoice processed by two workers at the same moment: judged one at a time, so exactly one is
delivered. Needs row locks (PostgreSQL); SQLite runs one writer at a time."""

import hashlib
import threading
import time

import pytest
from django.db import connection

from integrations.peppol.builder import build_ubl
from portal.documents import lifecycle
from portal.incoming_invoices import duplicates, services
from portal.incoming_invoices.models import IncomingInvoice
from tests.integrations.peppol.builders import invoice
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory, OwnPeppolIdentifierFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
]
Status = IncomingInvoice.Status


def received(environment, raw: bytes) -> IncomingInvoice:
    return IncomingInvoiceFactory(
        environment=environment, raw_xml=raw, sha256=hashlib.sha256(raw).hexdigest(), status=Status.RECEIVED
    )


def test_two_copies_processed_at_the_same_moment_deliver_one(monkeypatch):
    environment = EnvironmentFactory()
    OwnPeppolIdentifierFactory(environment=environment, scheme="0106", value="87654321")  # the builder's customer
    # Same supplier, number and date; the bytes differ (a resend with a new timestamp in a note).
    first = received(environment, build_ubl(invoice(number="PAR-1", note="sent once")))
    second = received(environment, build_ubl(invoice(number="PAR-1", note="sent again")))
    first_judging, second_started = threading.Event(), threading.Event()
    judge = duplicates.duplicate_verdict

    def slow_for_the_first(document):
        if document.pk == first.pk:
            first_judging.set()
            second_started.wait(5)
            time.sleep(0.3)  # the second worker reaches the judging meanwhile
        return judge(document)

    monkeypatch.setattr(services, "duplicate_verdict", slow_for_the_first)
    monkeypatch.setattr(lifecycle, "enqueue", lambda *args, **kwargs: None)  # judged only: nothing delivered here

    def process(document, before=None):
        try:
            if before is not None:
                before.wait(5)
                second_started.set()
            services.incoming_process(invoice=IncomingInvoice.objects.select_related("environment").get(pk=document.pk))
        finally:
            connection.close()

    workers = [
        threading.Thread(target=process, args=(first,)),
        threading.Thread(target=process, args=(second, first_judging)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(20)

    statuses = sorted(IncomingInvoice.objects.filter(environment=environment).values_list("status", flat=True))
    assert statuses == [Status.HELD, Status.READY]
    assert IncomingInvoice.objects.get(pk=second.pk).duplicate_of_id == first.pk
