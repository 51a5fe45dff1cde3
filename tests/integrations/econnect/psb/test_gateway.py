"""The PSB gateway (``EConnectGateway`` over PSB) against the simulator: exactly-once send by the saved reference,
status follow-up, finding a sent document again, the party check of "test connection", and receiving by id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from integrations.econnect.errors import SenderNotAllowed
from integrations.econnect.gateway import EConnectGateway
from integrations.econnect.models import OutboxState, OutgoingDocument
from integrations.econnect.psb.auth import PsbCredentials
from integrations.econnect.psb.client import PsbClient
from integrations.econnect.psb.gateway import NotAvailableOverPsb, PsbGateway
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import parse_identifier
from integrations.simulators.transport import SimulatorTransport
from tests.integrations.econnect.conftest import CUSTOMER, OWN, RecordingTransport
from tests.integrations.econnect.psb.conftest import CLIENT_ID, CLIENT_SECRET, SIM
from tests.integrations.econnect.psb.test_against_simulator import ubl


def gateway(sim, party: str = OWN, transport=None) -> PsbGateway:
    transport = transport or SimulatorTransport(sim)
    client = PsbClient(
        base_url=SIM,
        identity_url=SIM,
        credentials=PsbCredentials(CLIENT_ID, CLIENT_SECRET),
        party_id=party,
        transport=transport,
    )
    return PsbGateway(client)


def outgoing(reference: str | None = None) -> OutgoingDocument:
    return OutgoingDocument(
        reference=reference or uuid.uuid4().hex,
        sender=parse_identifier(OWN),
        recipient=parse_identifier(CUSTOMER),
        payload=ubl(),
        prepared_at=datetime.now(UTC),
        invoice_number="F2026-001",
    )


def test_it_is_an_econnect_gateway(sim):
    assert isinstance(gateway(sim), EConnectGateway)


def test_a_send_repeated_after_a_crash_reaches_econnect_once(sim):
    document = outgoing()

    first = gateway(sim).send_once(document, check_first=False)
    again = gateway(sim).send_once(document, check_first=True)

    assert first.external_id == again.external_id == document.reference
    assert len(sim.psb["sent"]) == 1


def test_a_sent_document_is_found_again_and_followed_to_delivered(sim):
    document = outgoing()
    psb = gateway(sim)

    assert psb.find_sent_document(document) is None
    psb.send_document(document)
    found = psb.find_sent_document(document)
    sim.data["clock_offset"] += 61

    assert found is not None and found.status.state is OutboxState.ACCEPTED
    status = psb.outbox_status(document.reference)
    assert (status.state, status.name) == (OutboxState.DELIVERED, "Delivered")


def test_test_connection_names_the_parties_the_credentials_hold(sim):
    with pytest.raises(SenderNotAllowed) as refused:
        gateway(sim, party="0106:99999999").login()

    assert "0106:12345678" in refused.value.message
    gateway(sim).login()


def test_the_inbox_cannot_be_listed_over_psb_but_a_document_is_read_by_id(sim):
    payload = ubl("IN-9")
    document_id = sim.psb_receive(OWN, payload)
    psb = gateway(sim)

    with pytest.raises(NotAvailableOverPsb):
        psb.list_inbox_documents()
    assert psb.get_inbox_document(document_id).payload == payload


def test_the_recipient_is_econnects_own_answer_to_every_candidate_in_one_call(sim):
    unknown, customer = parse_identifier("0106:11112222"), parse_identifier(CUSTOMER)
    recording = RecordingTransport(sim)

    result = gateway(sim, transport=recording).look_up_participants([unknown, customer], DocumentType.INVOICE)

    assert [(p.identifier, p.reachability.value) for p in result.participants] == [
        (unknown, "not_registered"),
        (customer, "registered"),
    ]
    assert result.best.identifier == customer
    [query] = [r for r in recording.requests if r.url.path.endswith("/queryRecipientParty")]
    assert query.url.params["preferredDocumentTypeId"] == DocumentType.INVOICE.peppol_id


def test_a_customer_that_takes_invoices_only_is_no_recipient_for_a_credit_note(sim):
    sim.register("production", CUSTOMER, access_point="econnect", document_types=["invoice"])

    result = gateway(sim).look_up_participants([parse_identifier(CUSTOMER)], DocumentType.CREDIT_NOTE)

    assert result.best is None
    assert result.participants[0].reachability.value == "not_registered"


def test_nobody_reachable_is_no_recipient(sim):
    result = gateway(sim).look_up_participants([parse_identifier("0106:11112222")], DocumentType.INVOICE)

    assert result.best is None
