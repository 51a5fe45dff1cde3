"""What eConnect PSB pushes about a sent invoice: the customer's Invoice Response lands on its timeline."""

from __future__ import annotations

import json

import pytest

from portal.events.models import Event
from portal.outgoing_invoices.pushed import outgoing_customer_response
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db


def response_event(message: str, **details) -> bytes:
    return json.dumps(
        {"topic": "InvoiceResponseReceived", "documentId": "doc-1", "message": message, "details": details}
    ).encode()


def test_the_customers_rejection_is_on_the_sent_invoices_timeline():
    invoice = OutgoingInvoiceFactory(econnect_document_id="doc-1")

    found = outgoing_customer_response(
        environment=invoice.environment,
        external_id="doc-1",
        body=response_event("Invoice response 'RE' received. Prijs klopt niet", status="RE", reason="PRI"),
    )

    assert found == invoice
    event = Event.objects.get(outgoing_invoice=invoice, kind="customer_response")
    assert "RE" in event.message and "Prijs klopt niet" in event.message
    assert event.data["details"] == {"status": "RE", "reason": "PRI"}


def test_control_characters_from_outside_are_stored_as_plain_text():
    invoice = OutgoingInvoiceFactory(econnect_document_id="doc-1")

    outgoing_customer_response(
        environment=invoice.environment, external_id="doc-1", body=response_event("a\u0000b", status="R\u0000E")
    )

    event = Event.objects.get(outgoing_invoice=invoice, kind="customer_response")
    assert "\x00" not in event.message and event.data["status"] == "R E"


def test_a_response_to_a_document_the_portal_did_not_send_is_ignored():
    invoice = OutgoingInvoiceFactory(econnect_document_id="doc-1")

    assert outgoing_customer_response(environment=invoice.environment, external_id="other", body=b"{}") is None
    assert not Event.objects.filter(kind="customer_response").exists()
