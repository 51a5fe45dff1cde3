"""Sending over eConnect PSB (REST) with the real services, in-process against both simulators: the saved reference
is the PSB document id, so a submit repeated after a crash between eConnect's answer and our save reaches eConnect
once (its 409 says "already processed"), and the status history follows the invoice to delivered."""

from __future__ import annotations

import hashlib

import pytest

from integrations.demo_data import CUSTOMERS
from integrations.econnect.psb.auth import forget_tokens
from integrations.peppol.parser import parse_document
from portal.events.models import Event
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from portal.outgoing_invoices import services
from portal.outgoing_invoices.models import OutgoingInvoice

Status = OutgoingInvoice.Status


@pytest.fixture
def psb_world(world, settings):
    forget_tokens()
    settings.ECONNECT_PSB_URL = settings.ECONNECT_PSB_IDENTITY_URL = "http://127.0.0.1:8102"
    party = services.sender_identifier(world.environment).icd
    answer = world.econnect.request(
        "POST",
        "/_sim/psb/clients",
        json={"client_id": "portal-psb", "client_secret": "psb-secret", "parties": [party]},
    )
    assert answer.status_code == 201, answer.text
    Environment.objects.filter(pk=world.environment.pk).update(
        econnect_transport=Environment.EConnectTransport.PSB, econnect_psb_party_id=party
    )
    environment_set_credentials(
        environment=world.environment,
        actor=None,
        econnect_psb_client_id="portal-psb",
        econnect_psb_client_secret="psb-secret",
    )
    world.environment.refresh_from_db()
    yield world
    forget_tokens()


def sent_at_econnect(world) -> list[dict]:
    return world.econnect.request("GET", "/_sim/psb/sent").json()["sent"]


def test_invoices_are_submitted_over_psb_with_the_saved_reference_as_document_id(
    psb_world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.outgoing_collect(environment=psb_world.environment)

    submitted = psb_world.environment.outgoing_invoices.filter(status=Status.SUBMITTED)
    assert submitted.exists()
    assert all(invoice.econnect_document_id == invoice.submission_reference for invoice in submitted)
    assert sorted(doc["document_id"] for doc in sent_at_econnect(psb_world)) == sorted(
        submitted.values_list("submission_reference", flat=True)
    )
    assert psb_world.sent_counts() == {}  # nothing went over the SOAP API


def test_a_submit_repeated_after_a_crash_reaches_econnect_once(psb_world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.outgoing_collect(environment=psb_world.environment)
    invoice = psb_world.environment.outgoing_invoices.filter(status=Status.SUBMITTED).first()
    before = len(sent_at_econnect(psb_world))
    # The worker died after eConnect accepted the document but before the portal saved that: due again.
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(status=Status.RETRY_WAIT, next_attempt_at=None)

    services.outgoing_submit(invoice=OutgoingInvoice.objects.get(pk=invoice.pk))

    invoice.refresh_from_db()
    assert invoice.status == Status.SUBMITTED
    assert invoice.econnect_document_id == invoice.submission_reference
    assert len(sent_at_econnect(psb_world)) == before


def test_a_psb_invoice_is_followed_to_delivered(psb_world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.outgoing_collect(environment=psb_world.environment)
    invoice = psb_world.environment.outgoing_invoices.filter(status=Status.SUBMITTED).first()

    psb_world.advance_econnect_clock(120)
    services.outgoing_follow_status(invoice=invoice)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.econnect_status) == (Status.DELIVERED, "Delivered")


def test_a_customer_found_under_another_identifier_gets_that_address_in_the_ubl(
    psb_world, django_capture_on_commit_callbacks
):
    # Restaurant De Gouden Leeuw: AFAS writes its KvK as the UBL address, but only its VAT number is on Peppol now.
    assert psb_world.econnect.request("DELETE", "/_sim/directory/production/0106:30123456").status_code == 200
    vat = next(customer.vat for customer in CUSTOMERS if customer.number == "10001")
    psb_world.issue_sales_invoice("10001", number="2026-9001")

    with django_capture_on_commit_callbacks(execute=True):
        services.outgoing_collect(environment=psb_world.environment)

    invoice = psb_world.environment.outgoing_invoices.get(invoice_number="2026-9001")
    assert invoice.status == Status.SUBMITTED
    assert (invoice.recipient_scheme, invoice.recipient_value) == ("9944", vat)
    assert str(parse_document(bytes(invoice.ubl)).customer.endpoint_id) == f"9944:{vat}"
    assert invoice.sha256 == hashlib.sha256(bytes(invoice.ubl)).hexdigest()
    [sent] = [doc for doc in sent_at_econnect(psb_world) if doc["number"] == "2026-9001"]
    assert sent["receiver"] == f"9944:{vat}"
    readdressed = Event.objects.get(outgoing_invoice=invoice, kind="recipient_address_set")
    assert "0106:30123456" in readdressed.message and f"9944:{vat}" in readdressed.message
    assert invoice.validated_at is not None and not any(f["flag"] == "fatal" for f in invoice.validation_findings)
