"""Receiving end to end: a real Celery worker (and beat), Redis, PostgreSQL and both simulators over HTTP.

What tests/portal/incoming_invoices/test_receiving.py proves step by step in one process, proven here across
processes and a broker: every document from the eConnect inbox reaches AFAS byte for byte and exactly once, is
marked processed at eConnect only after AFAS accepted it, and a worker killed between the two finishes the
acknowledgement later without delivering again.

The AFAS simulator records the SHA-256 of every XML it receives; the portal stores the SHA-256 of the bytes it
fetched. Equal hashes, each seen once, is "unchanged, exactly once".
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.demo_data import ENVIRONMENTS
from integrations.peppol.builder import build_ubl
from integrations.peppol.model import (
    Address,
    BillingReference,
    DocumentType,
    Identifier,
    InvoiceDocument,
    InvoiceLine,
    Party,
    PaymentMeans,
    Vat,
)
from portal.incoming_invoices import tasks
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.models import Environment

pytestmark = pytest.mark.e2e

Status = IncomingInvoice.Status
Hold = IncomingInvoice.HoldReason
DEMO = next(spec for spec in ENVIRONMENTS if spec.key == "12345-production")
AFAS_DELIVERY = "POST /connectors/FiElectronicInvoicePurchase"
# The demo inbox (integrations/econnect/simulator/seed.py): an invoice, F-1001 of Energie Noord, F-1001 of
# Verpakkingen Zuid on the same date (eConnect wrongly flags it), a true resend of the first, a credit note.
DEMO_DOCUMENTS = 5
DEMO_DELIVERABLE = 3
SETTLED = (Status.ACKNOWLEDGED, Status.HELD, Status.FAILED)
WAIT = 30.0


# --- the world ---------------------------------------------------------------------------------------------------


@pytest.fixture
def receiving(stack):
    """The stack with the demo production environment receiving (and not sending)."""
    Environment.objects.filter(pk=environment().pk).update(
        receiving_enabled=True, sending_enabled=False, next_fetch_at=None
    )
    return stack


def environment() -> Environment:
    return Environment.objects.get(
        afas_participant_number=DEMO.participant, afas_environment_type=DEMO.environment_type
    )


def received():
    return IncomingInvoice.objects.filter(environment=environment())


def _party(name: str, kvk: str, vat: str = "") -> Party:
    return Party(
        name=name,
        endpoint=Identifier("0106", kvk),
        legal_id=Identifier("0106", kvk),
        vat_id=vat,
        address=Address(country_code="NL", street="Havenstraat 3", city="Kampen", postal_zone="8261 AA"),
    )


PRINTER = _party("Drukkerij Het Anker B.V.", "50000009", "NL500000090B01")
CUSTOMER = _party(DEMO.organisation_name, DEMO.organisation_kvk)


def purchase_document(number: str, issued: date, amount: str, *, credits: str = "", supplier: Party = PRINTER) -> bytes:
    """A UBL invoice (or, crediting another, a credit note) of a supplier to the demo firm."""
    return build_ubl(
        InvoiceDocument(
            document_type=DocumentType.CREDIT_NOTE if credits else DocumentType.INVOICE,
            number=number,
            issue_date=issued,
            due_date=None if credits else issued + timedelta(days=30),
            currency="EUR",
            supplier=supplier,
            customer=CUSTOMER,
            lines=(
                InvoiceLine(
                    id="1",
                    name="Drukwerk",
                    quantity=Decimal("1"),
                    unit_code="C62",
                    price=Decimal(amount),
                    vat=Vat.standard(Decimal("21")),
                ),
            ),
            buyer_reference="E2E",
            billing_references=(BillingReference(credits),) if credits else (),
            payment_means=(PaymentMeans.sepa_credit_transfer("NL20INGB0001234567", payment_id=number),),
        )
    )


def inject(stack, payload: bytes, *, unchecked: bool = False) -> dict:
    response = stack.econnect_control(
        "POST",
        "/_sim/inbox",
        json={
            "receiver": DEMO.own_identifier,
            "network": DEMO.econnect_network,
            "payload_base64": base64.b64encode(payload).decode(),
            "unchecked": unchecked,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def econnect_states(stack) -> dict[str, str]:
    """eConnect document id → inbox state (new, duplicate, processed, ...)."""
    documents = stack.econnect_control("GET", "/_sim/inbox", params={"account": DEMO.econnect_app_key}).json()
    return {document["external_id"]: document["state"] for document in documents["documents"]}


def afas_deliveries(stack) -> Counter:
    """SHA-256 of each XML AFAS received → how often."""
    delivered = stack.afas_control("GET", f"/_sim/environments/{DEMO.key}/delivered").json()
    return Counter(entry["xml_sha256"] for entry in delivered["purchase_invoices"])


def fetch_now() -> None:
    """What beat does every 15 s, with the environment's polling interval as if it had passed."""
    Environment.objects.filter(pk=environment().pk).update(next_fetch_at=None)
    tasks.dispatch_fetches.delay()


def all_settled(expected: int):
    def check() -> bool:
        statuses = list(received().values_list("status", flat=True))
        return len(statuses) == expected and all(status in SETTLED for status in statuses)

    return check


def assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, expected: int) -> None:
    """Every acknowledged document is in AFAS once with its exact bytes, nothing else is, and eConnect knows."""
    deliveries = afas_deliveries(stack)
    acknowledged = list(received().filter(status=Status.ACKNOWLEDGED))
    assert len(acknowledged) == expected, [(i.pk, i.status, i.hold_reason) for i in received()]
    # A true resend has the bytes of its original: one delivery per hash, and only hashes of acknowledged ones.
    assert set(deliveries.values()) == {1} and sum(deliveries.values()) == expected, deliveries
    assert set(deliveries) == {invoice.sha256 for invoice in acknowledged}
    states = econnect_states(stack)
    for invoice in received():
        if invoice.status == Status.ACKNOWLEDGED:
            assert states[invoice.econnect_document_id] == "processed"
            assert invoice.delivered_at <= invoice.acknowledged_at
        else:
            assert states[invoice.econnect_document_id] != "processed", (invoice.pk, invoice.status)


# --- the happy path, driven by a real celery beat ---------------------------------------------------------------------


def test_the_inbox_reaches_afas_unchanged_once_with_beat_and_a_worker_and_duplicates_are_held(receiving):
    from django_celery_beat.models import PeriodicTask

    from portal.core.schedules import periodic_tasks_sync

    stack = receiving
    printing = purchase_document("DR-2025-0311", date(2025, 3, 11), "420.00")
    inject(stack, printing)
    inject(stack, printing)  # a true resend of a document injected here
    inject(stack, purchase_document("DR-CN-0007", date(2025, 3, 12), "42.00", credits="DR-2025-0311"))
    # The same number written differently, from the same printer on the same day, but another amount.
    inject(stack, purchase_document("DR-2025-311", date(2025, 3, 11), "421.00"))
    total = DEMO_DOCUMENTS + 4
    periodic_tasks_sync()
    PeriodicTask.objects.filter(task__startswith="incoming.").update(last_run_at=timezone.now() - timedelta(hours=1))
    stack.start_beat()

    stack.wait_until(all_settled(total), timeout=WAIT, what=f"{total} documents fetched and settled")

    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE + 2)
    held = {
        (invoice.invoice_number, invoice.hold_reason, invoice.duplicate_verdict)
        for invoice in received().filter(status=Status.HELD)
    }
    assert held == {
        ("F-1001", Hold.ECONNECT_FLAG_DISPUTED, IncomingInvoice.DuplicateVerdict.ORIGINAL),
        ("2025-0042", Hold.DUPLICATE, IncomingInvoice.DuplicateVerdict.CERTAIN_DUPLICATE),
        ("DR-2025-0311", Hold.DUPLICATE, IncomingInvoice.DuplicateVerdict.CERTAIN_DUPLICATE),
        ("DR-2025-311", Hold.DUPLICATE, IncomingInvoice.DuplicateVerdict.SUSPECTED_DUPLICATE),
    }
    credit_notes = received().filter(document_type="credit_note")
    assert {(c.invoice_number, c.status) for c in credit_notes} == {
        ("CN-2025-7", Status.ACKNOWLEDGED),
        ("DR-CN-0007", Status.ACKNOWLEDGED),
    }

    # Beat keeps fetching: nothing is stored or delivered a second time.
    fetch_now()
    time.sleep(1.5)
    assert received().count() == total
    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE + 2)


# --- faults over real HTTP -------------------------------------------------------------------------------------------


def test_afas_errors_are_retried_and_a_timeout_is_held_until_a_person_delivers_again(receiving):
    stack = receiving
    stack.afas_fault(operation=AFAS_DELIVERY, status=500, body="Internal error", count=1)
    stack.afas_fault(operation=AFAS_DELIVERY, status=503, headers={"Retry-After": "1"}, count=1)

    fetch_now()
    stack.wait_until(
        lambda: received().filter(status=Status.RETRY_WAIT).exists(),
        timeout=WAIT,
        what="a delivery waiting to retry",
        every=0.05,
    )
    waiting = received().filter(status=Status.RETRY_WAIT)
    assert all(econnect_states(stack)[invoice.econnect_document_id] == "new" for invoice in waiting)
    stack.wait_until(
        all_settled(DEMO_DOCUMENTS), timeout=WAIT, what="every document settled", tick=tasks.work_due.delay
    )
    # The 500 and the 503 once each; after the 503's Retry-After the rest of that fetch waited for its retry too.
    retried = received().filter(status=Status.ACKNOWLEDGED, attempts=2)
    assert retried.count() == DEMO_DELIVERABLE, list(received().values_list("invoice_number", "status", "attempts"))
    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE)

    # Then AFAS does not answer within the client's read timeout (30 s). The portal cannot know whether AFAS
    # booked it (FiElectronicInvoicePurchase cannot be asked), so it holds the document instead of risking a
    # second booking; a person checks AFAS and delivers it again.
    late = purchase_document("DR-2025-0400", date(2025, 4, 1), "75.00")
    inject(stack, late)
    stack.afas_fault(operation=AFAS_DELIVERY, delay=31.0, count=1)
    fetch_now()
    stack.wait_until(
        all_settled(DEMO_DOCUMENTS + 1), timeout=WAIT + 15, what="the late document settled", tick=tasks.work_due.delay
    )

    invoice = received().get(invoice_number="DR-2025-0400")
    assert (invoice.status, invoice.hold_reason, invoice.attempts) == (Status.HELD, Hold.DELIVERY_UNCERTAIN, 1)
    assert "did not answer in time" in invoice.events.latest("created_at").message
    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE)

    from portal.incoming_invoices.services import incoming_deliver_again
    from tests.portal.accounts.factories import UserFactory

    assert incoming_deliver_again(invoice=invoice, actor=UserFactory(), reason="Checked AFAS: not there")
    stack.wait_until(
        lambda: received().get(invoice_number="DR-2025-0400").status == Status.ACKNOWLEDGED,
        timeout=WAIT,
        what="the late document delivered after 'deliver again'",
        tick=tasks.work_due.delay,
    )
    assert received().get(invoice_number="DR-2025-0400").status == Status.ACKNOWLEDGED
    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE + 1)


def test_econnect_failing_to_acknowledge_is_retried_later_without_delivering_again(receiving):
    stack = receiving
    stack.econnect_fault(operation="SetInboxDocumentStatus", status=500, body="Internal error", count=None)

    fetch_now()
    stack.wait_until(
        lambda: (
            received().filter(status=Status.DELIVERED, last_error_message__startswith="Acknowledging").count()
            == DEMO_DELIVERABLE
        ),
        timeout=WAIT,
        what="every deliverable document in AFAS, its acknowledgement failed",
    )
    assert sum(afas_deliveries(stack).values()) == DEMO_DELIVERABLE
    assert "processed" not in econnect_states(stack).values()
    stack.econnect_control("DELETE", "/_sim/faults")

    stack.wait_until(
        all_settled(DEMO_DOCUMENTS), timeout=WAIT, what="every document acknowledged", tick=tasks.work_due.delay
    )

    assert set(received().filter(status=Status.ACKNOWLEDGED).values_list("attempts", flat=True)) == {1}
    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE)


# --- a worker killed between delivery and acknowledgement --------------------------------------------------------


def test_a_worker_killed_after_delivery_leaves_the_acknowledgement_to_the_next_worker_never_a_second_delivery(
    receiving,
):
    stack = receiving
    # eConnect records the status at once but answers slowly: the worker dies waiting, the invoice DELIVERED.
    stack.econnect_fault(operation="SetInboxDocumentStatus", phase="after", delay=4.0, count=None)

    fetch_now()
    stack.wait_until(
        lambda: (
            received().filter(status=Status.DELIVERED).exists()
            and not received().filter(status=Status.DELIVERING).exists()
        ),
        timeout=WAIT,
        what="a document in AFAS whose acknowledgement is under way",
        every=0.05,
    )
    stack.worker.kill()
    interrupted = set(received().filter(status=Status.DELIVERED).values_list("pk", flat=True))
    assert interrupted
    assert not received().filter(status=Status.DELIVERING).exists()
    stack.econnect_control("DELETE", "/_sim/faults")
    # Work whose messages died with the worker is queued again after five minutes, and a fetch the worker was still
    # running (the inbox read up to some page) is taken up again once its ten-minute lease ran out; let those pass.
    long_ago = timezone.now() - timedelta(minutes=11)
    received().filter(status=Status.RECEIVED).update(status_changed_at=long_ago)
    received().filter(status__in=(Status.READY, Status.DELIVERED)).update(dispatched_at=long_ago)
    Environment.objects.filter(pk=environment().pk).update(fetch_lease_until=long_ago)

    stack.start_worker()
    fetch_now()
    stack.wait_until(
        all_settled(DEMO_DOCUMENTS), timeout=WAIT, what="every document settled", tick=tasks.work_due.delay
    )

    finished = received().filter(pk__in=interrupted)
    assert {(invoice.status, invoice.attempts) for invoice in finished} == {(Status.ACKNOWLEDGED, 1)}
    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE)


def test_a_credit_note_with_an_invoices_number_is_delivered_and_an_unreadable_file_is_held(receiving):
    stack = receiving
    invoice = purchase_document("DR-2025-0500", date(2025, 5, 1), "200.00")
    credit_note_same_number = purchase_document("DR-2025-0500", date(2025, 5, 1), "200.00", credits="DR-2025-0500")
    not_ubl = b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"><ID>PO-1</ID></Order>'
    for payload in (invoice, credit_note_same_number):
        inject(stack, payload)
    inject(stack, not_ubl, unchecked=True)

    fetch_now()
    stack.wait_until(
        all_settled(DEMO_DOCUMENTS + 3), timeout=WAIT, what="every document settled", tick=tasks.work_due.delay
    )

    same_number = {document.document_type: document for document in received().filter(invoice_number="DR-2025-0500")}
    assert same_number["invoice"].status == Status.ACKNOWLEDGED
    credit_note = same_number["credit_note"]
    # eConnect flags it (number + date only); the portal finds it is no duplicate, and holds it for a person.
    assert credit_note.econnect_duplicate_flag
    assert credit_note.duplicate_verdict == IncomingInvoice.DuplicateVerdict.ORIGINAL
    assert (credit_note.status, credit_note.hold_reason) == (Status.HELD, Hold.ECONNECT_FLAG_DISPUTED)
    assert "another document type" in credit_note.duplicate_evidence["econnect"]
    held = received().get(hold_reason=Hold.UNPARSEABLE)
    assert bytes(held.raw_xml) == not_ubl  # kept as evidence, exactly as received
    assert "not a UBL" in held.parse_error or "Order" in held.parse_error
    assert_in_afas_exactly_once_unchanged_and_acknowledged_after(stack, DEMO_DELIVERABLE + 1)
