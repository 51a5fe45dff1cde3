"""The reconciliation of an environment on eConnect PSB, which lists neither outbox nor inbox: each sent invoice is
asked for its status by the document id the portal chose, and a disagreement is found and fixed as over SOAP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.econnect.models import OutgoingDocument
from integrations.econnect.psb.auth import forget_tokens
from integrations.econnect.psb.client import new_document_id
from integrations.peppol.builder import build_ubl
from integrations.peppol.identifiers import parse_identifier
from integrations.peppol.model import Identifier
from portal.events.models import Event
from portal.organisations import clients
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.reconciliation import fixes, services
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun
from tests.integrations.peppol.builders import dutch_customer, dutch_supplier, invoice
from tests.portal.accounts.factories import UserFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

Out = OutgoingInvoice.Status


@pytest.fixture
def flora(world, settings):
    forget_tokens()
    settings.ECONNECT_PSB_URL = settings.ECONNECT_PSB_IDENTITY_URL = "http://127.0.0.1:8102"
    yield Environment.objects.get(econnect_transport=Environment.EConnectTransport.PSB)
    forget_tokens()


def sent_over_psb(world, environment, *, portal_status: str, customer_kvk: str) -> OutgoingInvoice:
    document_id = new_document_id()
    payload = build_ubl(
        invoice(
            number=f"FL-{customer_kvk}",
            supplier=dutch_supplier(endpoint=Identifier("0106", environment.organisation.kvk_number)),
            customer=dutch_customer(endpoint=Identifier("0106", customer_kvk)),
        )
    )
    document = OutgoingDocument(
        reference=document_id,
        sender=parse_identifier(environment.econnect_psb_party_id),
        recipient=parse_identifier(f"0106:{customer_kvk}"),
        payload=payload,
        prepared_at=timezone.now(),
    )
    with clients.econnect_gateway_for(environment) as gateway:
        gateway.send_document(document)
    assert world.econnect.request("POST", "/_sim/clock", json={"advance": 61}).status_code == 200
    return OutgoingInvoiceFactory(
        environment=environment,
        status=portal_status,
        econnect_document_id=document_id,
        submission_reference=document_id,
        invoice_number=f"FL-{customer_kvk}",
        submitted_at=timezone.now() - timedelta(minutes=2),
    )


def test_a_psb_environment_is_reconciled_by_document_status(world, flora, settings):
    agreeing = sent_over_psb(world, flora, portal_status=Out.DELIVERED, customer_kvk="87654321")
    disagreeing = sent_over_psb(world, flora, portal_status=Out.DELIVERED, customer_kvk="55556666")  # nobody there

    run = services.reconciliation_run_now(environment=flora)
    [finding] = ReconciliationFinding.objects.filter(environment=flora, status=ReconciliationFinding.Status.OPEN)
    fixes.finding_fix(finding=finding, actor=UserFactory(), reason="eConnect is right")

    assert run.status == ReconciliationRun.Status.SUCCEEDED
    assert run.counts["econnect_outbox"] == 2
    assert "webhook" in run.counts["econnect_inbox"]
    assert (finding.outgoing_invoice_id, finding.details["econnect_state"]) == (disagreeing.pk, "failed")
    disagreeing.refresh_from_db()
    agreeing.refresh_from_db()
    assert (disagreeing.status, agreeing.status) == (Out.FAILED, Out.DELIVERED)
    assert Event.objects.filter(outgoing_invoice=disagreeing, kind="status_adopted").exists()
