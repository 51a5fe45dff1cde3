"""Answering a supplier from the inbox over eConnect PSB (RE or UQ with a coded reason): the response's document id
is saved before the call, so a repeat (a second submit, a retry after a failure, a crash after eConnect took it)
reaches eConnect once; and the document can be removed at eConnect once AFAS accepted it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.econnect.psb.models import InvoiceResponse, ResponseReason, ResponseStatus
from integrations.peppol.builder import build_ubl
from integrations.simulators.faults import Fault
from portal.events.models import Event
from portal.incoming_invoices.acknowledgement import econnect_acknowledge
from portal.incoming_invoices.models import SupplierResponse
from portal.incoming_invoices.responses import (
    ResponseRefused,
    incoming_respond,
    incoming_response_retry,
    incoming_response_send,
    new_response_key,
)
from portal.organisations import clients
from portal.organisations.models import Environment
from tests.integrations.peppol.builders import invoice
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory, SupplierResponseFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory, psb_environment

PARTY = "0106:87654321"
State = SupplierResponse.State


@pytest.fixture
def sim(psb_simulator):
    return psb_simulator(PARTY)


@pytest.fixture
def received(sim, membership):
    environment = psb_environment(PARTY, organisation=OrganisationFactory(firm=membership.firm))
    payload = build_ubl(invoice(number="IN-7"))
    document_id = sim.psb_receive(PARTY, payload)
    return IncomingInvoiceFactory(environment=environment, econnect_document_id=document_id, raw_xml=payload)


def at_econnect(sim) -> list[dict]:
    return [response["body"] for response in sim.psb["responses"].values()]


def test_a_rejection_with_a_reason_and_note_reaches_the_supplier_once_and_is_on_the_timeline(sim, received, membership):
    response = incoming_respond(
        invoice=received, code="RE", reason="PRI", note="Prijs  wijkt af van de offerte", actor=membership.user
    )

    assert response.state == State.SENT and response.sent_at is not None
    assert at_econnect(sim) == [{"status": "RE", "reasons": {"PRI": "Prijs wijkt af van de offerte"}}]
    event = Event.objects.get(incoming_invoice=received, kind="response_sent")
    assert event.actor == membership.user and event.reason == "Prijs wijkt af van de offerte"
    assert "Rejected" in event.message and "Prices incorrect" in event.message


def test_a_query_without_a_note_tells_the_supplier_the_reason_in_words(sim, received, membership):
    incoming_respond(invoice=received, code="UQ", reason="REF", note="", actor=membership.user)

    assert at_econnect(sim) == [{"status": "UQ", "reasons": {"REF": "References incorrect"}}]


def test_the_same_form_submitted_twice_is_one_response(sim, received, membership):
    key = new_response_key()

    first = incoming_respond(
        invoice=received, code="RE", reason="QTY", note="", actor=membership.user, response_key=key
    )
    again = incoming_respond(
        invoice=received, code="RE", reason="QTY", note="", actor=membership.user, response_key=key
    )

    assert first.pk == again.pk
    assert len(at_econnect(sim)) == 1 and SupplierResponse.objects.count() == 1


def test_a_response_eConnect_did_not_take_is_kept_and_sent_once_when_tried_again(sim, received, membership):
    sim.faults.add(Fault(operation="psb.response", status=503))

    failed = incoming_respond(invoice=received, code="RE", reason="DEL", note="", actor=membership.user)
    assert failed.state == State.FAILED and failed.last_error
    assert at_econnect(sim) == []

    sent = incoming_response_retry(response=failed)

    assert sent.state == State.SENT and len(at_econnect(sim)) == 1
    assert Event.objects.filter(incoming_invoice=received, kind="response_sent").count() == 1


def test_a_response_eConnect_took_before_a_crash_counts_as_sent_on_the_next_try(sim, received, membership):
    response = SupplierResponseFactory(incoming_invoice=received, reason="ITM", actor=membership.user)
    with clients.econnect_gateway_for(received.environment) as gateway:  # eConnect took it; our save never happened
        gateway.send_invoice_response(
            received.econnect_document_id,
            InvoiceResponse(ResponseStatus.REJECTED, reasons={ResponseReason.ITEMS_INCORRECT: "x"}),
            response_document_id=response.response_document_id,
        )

    incoming_response_send(response=response)

    response.refresh_from_db()
    assert response.state == State.SENT and len(at_econnect(sim)) == 1


@pytest.mark.parametrize(
    ("code", "reason", "note", "says"),
    [
        ("AP", "PRI", "", "reject the invoice or have a query"),
        ("RE", "NON", "", "Choose the reason"),
        ("RE", "PRI", "x" * 501, "at most 500"),
    ],
)
def test_an_answer_out_of_bounds_is_refused_with_what_to_do(sim, received, membership, code, reason, note, says):
    with pytest.raises(ResponseRefused) as refused:
        incoming_respond(invoice=received, code=code, reason=reason, note=note, actor=membership.user)

    assert says in refused.value.message
    assert at_econnect(sim) == [] and not SupplierResponse.objects.exists()


def test_an_environment_on_the_soap_platform_cannot_answer(db, membership):
    document = IncomingInvoiceFactory(environment=EnvironmentFactory())

    with pytest.raises(ResponseRefused) as refused:
        incoming_respond(invoice=document, code="RE", reason="PRI", note="", actor=membership.user)

    assert "eConnect PSB" in refused.value.message


def test_once_in_afas_the_document_is_removed_at_econnect_when_the_environment_says_so(sim, received, membership):
    Environment.objects.filter(pk=received.environment_id).update(econnect_psb_remove_after_delivery=True)
    received.refresh_from_db()

    with clients.econnect_gateway_for(received.environment) as gateway:
        econnect_acknowledge(gateway, received)
        econnect_acknowledge(gateway, received)  # a repeat finds nothing left to do

    received.refresh_from_db()
    assert sim.psb["received"][received.econnect_document_id]["deleted"]
    assert received.econnect_removed_at is not None
    with pytest.raises(ResponseRefused) as refused:
        incoming_respond(invoice=received, code="RE", reason="PRI", note="", actor=membership.user)
    assert "removed at eConnect" in refused.value.message


def test_the_page_offers_the_answer_and_eConnects_retention(sim, received, accountant_client):
    page = accountant_client.get(reverse("web:incoming_detail", args=[received.pk])).content.decode()

    assert "Answer the supplier" in page and 'name="response_key"' in page
    assert "7 days after download" in page


def test_an_accountant_answers_from_the_page(sim, received, accountant_client):
    response = accountant_client.post(
        reverse("web:incoming_respond", args=[received.pk]),
        {"code": "UQ", "reason": "PAY", "note": "Betaaltermijn?", "response_key": new_response_key()},
        follow=True,
    )

    assert "Your answer went to the supplier" in response.content.decode()
    assert at_econnect(sim) == [{"status": "UQ", "reasons": {"PAY": "Betaaltermijn?"}}]


def test_a_viewer_cannot_answer(sim, received, viewer_client):
    response = viewer_client.post(
        reverse("web:incoming_respond", args=[received.pk]), {"code": "RE", "reason": "PRI", "response_key": "x"}
    )

    assert response.status_code == 403
    assert at_econnect(sim) == []


def test_another_firms_document_cannot_be_answered(sim, accountant_client):
    theirs = IncomingInvoiceFactory()

    response = accountant_client.post(reverse("web:incoming_respond", args=[theirs.pk]), {"code": "RE"})

    assert response.status_code == 404


def test_a_note_with_control_characters_is_stored_and_sent_as_plain_text(sim, received, membership):
    response = incoming_respond(invoice=received, code="UQ", reason="OTH", note="a\x00b\tc", actor=membership.user)

    assert response.note == "a b c"
    assert at_econnect(sim) == [{"status": "UQ", "reasons": {"OTH": "a b c"}}]
