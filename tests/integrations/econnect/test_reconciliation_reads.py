"""Reading back eConnect's outbox and inbox for the reconciliation, and the simulator controls that make eConnect
disagree with the portal."""

import base64
from datetime import UTC, datetime, timedelta

from integrations.econnect.models import InboxState, OutboxState
from tests.integrations.econnect.conftest import CUSTOMER, advance, outgoing
from tests.integrations.econnect.test_inbox import incoming


def inject(control, payload: bytes) -> dict:
    from tests.integrations.econnect.conftest import OWN

    response = control.post("/_sim/inbox", json={"receiver": OWN, "payload_base64": base64.b64encode(payload).decode()})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_outbox_is_listed_page_by_page_with_each_documents_status(gateway, control):
    sent = [gateway.send_document(outgoing(number=f"F-{n}", reference=f"ref-{n}")).external_id for n in range(3)]
    advance(control, 61)

    first = gateway.list_outbox_documents(since=datetime.now(UTC) - timedelta(hours=1), limit=2)
    second = gateway.list_outbox_documents(since=datetime.now(UTC) - timedelta(hours=1), page=first.next_page, limit=2)

    documents = first.documents + second.documents
    assert [d.external_id for d in documents] == sent and second.next_page is None
    assert {d.status.state for d in documents} == {OutboxState.DELIVERED}
    assert documents[0].invoice_number == "F-0"
    assert documents[0].receiver.econnect_party_id == CUSTOMER


def test_documents_sent_before_since_are_not_listed(gateway):
    gateway.send_document(outgoing(number="F-9"))

    page = gateway.list_outbox_documents(since=datetime.now(UTC) + timedelta(hours=1))

    assert page.documents == () and page.next_page is None


def test_one_sent_document_is_read_with_its_payload(gateway):
    document = outgoing(number="F-10")
    external_id = gateway.send_document(document).external_id

    read = gateway.get_outbox_document(external_id)

    assert read.summary.external_id == external_id and read.summary.subject == "Factuur F-10"
    assert b"F-10" in read.payload and read.summary.status.state is OutboxState.ACCEPTED


def test_the_inbox_since_lists_every_state_or_one(gateway, control):
    first, second = inject(control, incoming("INK-1")), inject(control, incoming("INK-2"))
    gateway.set_inbox_document_status(first["external_id"], "35")
    since = datetime.now(UTC) - timedelta(hours=1)

    every = gateway.list_inbox_documents_since(since=since)
    new = gateway.list_inbox_documents_since(since=since, state=InboxState.NEW)
    later = gateway.list_inbox_documents_since(since=datetime.now(UTC) + timedelta(hours=1))

    assert {(d.external_id, d.state) for d in every.documents} == {
        (first["external_id"], InboxState.PROCESSED),
        (second["external_id"], InboxState.NEW),
    }
    assert [d.external_id for d in new.documents] == [second["external_id"]]
    assert later.documents == ()


def test_the_simulator_changes_an_outbox_and_an_inbox_status_on_request(gateway, control):
    external_id = gateway.send_document(outgoing(number="F-11")).external_id
    received = inject(control, incoming("INK-3"))
    gateway.set_inbox_document_status(received["external_id"], "35")

    assert control.post(f"/_sim/outbox/{external_id}/state", json={"state": "failed"}).status_code == 200
    assert control.post(f"/_sim/inbox/{received['external_id']}/status", json={"state": "new"}).status_code == 200
    assert control.post(f"/_sim/outbox/{external_id}/state", json={"state": "bogus"}).status_code == 400
    assert control.post("/_sim/inbox/XCNIN0/status", json={"state": "new"}).status_code == 404

    assert gateway.outbox_status(external_id).state is OutboxState.FAILED
    [listed] = gateway.list_inbox_documents_since(since=datetime.now(UTC) - timedelta(hours=1)).documents
    assert listed.state is InboxState.NEW
