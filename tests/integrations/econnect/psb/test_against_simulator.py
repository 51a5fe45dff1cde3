"""The PSB client against the simulator's PSB API (in-process): OAuth2, idempotent send, recipient query, status,
receiving by webhook, download, delete, Invoice Responses and signed webhook deliveries with retries. The simulator
keeps its own rules (``integrations/econnect/simulator/psb.py``); these tests prove the two agree."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest

from integrations.econnect.errors import DocumentNotFound, DocumentRejected, InvalidCredentials, SenderNotAllowed
from integrations.econnect.psb.auth import PsbCredentials
from integrations.econnect.psb.client import PsbClient, new_document_id
from integrations.econnect.psb.models import Hook, InvoiceResponse, ResponseReason, ResponseStatus, Topic
from integrations.econnect.psb.webhooks import WebhookRefused, verified_event
from integrations.econnect.simulator import create_app
from integrations.peppol.builder import build_ubl
from integrations.simulators.transport import SimulatorTransport
from tests.integrations.econnect.conftest import CUSTOMER, OWN
from tests.integrations.econnect.psb.conftest import CLIENT_ID, CLIENT_SECRET, HOOK_SECRET, SIM
from tests.integrations.peppol.builders import invoice


def psb(sim, *, secret=CLIENT_SECRET, party=OWN) -> PsbClient:
    return PsbClient(
        base_url=SIM,
        identity_url=SIM,
        credentials=PsbCredentials(CLIENT_ID, secret),
        party_id=party,
        transport=SimulatorTransport(sim),
    )


def ubl(number: str = "F2026-001") -> bytes:
    return build_ubl(invoice(number=number))


def with_hook(sim, client: PsbClient) -> None:
    client.put_hook(
        Hook(
            id="portal-1",
            name="portal",
            action=f"https://portal.example/hooks/abc#{HOOK_SECRET}",
            topics=("*Received", "*Sent", "*SentError"),
        )
    )


def test_me_proves_the_credentials():
    simulator = create_app()
    simulator.add_psb_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, parties=[OWN])

    assert psb(simulator).me() == CLIENT_ID


def test_a_wrong_secret_is_a_clear_credentials_error(sim):
    with pytest.raises(InvalidCredentials) as refused:
        psb(sim, secret="wrong").me()

    assert refused.value.code == "invalid_client"


def test_a_party_the_credentials_do_not_hold_is_refused(sim):
    with pytest.raises(SenderNotAllowed):
        psb(sim, party="0106:99999999").send_sales_invoice(ubl(), document_id=new_document_id())


def test_a_repeated_send_is_answered_409_and_counts_as_done_once(sim):
    client, document_id = psb(sim), new_document_id()

    first = client.send_sales_invoice(ubl(), document_id=document_id)
    again = client.send_sales_invoice(ubl(), document_id=document_id)

    assert (first.already_processed, again.already_processed) == (False, True)
    assert list(sim.psb["sent"]) == [document_id]


def test_a_document_from_another_sender_is_rejected_with_econnects_code(sim):
    other_sender = build_ubl(invoice(number="X-1")).replace(b"12345678", b"11112222")

    with pytest.raises(DocumentRejected) as rejected:
        psb(sim).send_sales_invoice(other_sender, document_id=new_document_id())

    assert rejected.value.code == "API400.USRMS1"


def test_the_recipient_query_answers_the_reachable_candidate_in_econnect_notation(sim):
    client = psb(sim)

    assert client.query_recipient_party(["0106:11111111", CUSTOMER]) == "NL:KVK:87654321"
    assert client.query_recipient_party(["0106:11111111"]) is None


def test_an_expired_token_is_renewed_once_without_the_caller_noticing(sim):
    client = psb(sim)
    client.me()
    control(sim).post("/_sim/psb/expire-tokens")

    assert client.me() == CLIENT_ID


def test_a_sent_invoice_is_delivered_and_its_hook_signed_and_fresh(sim):
    client, document_id = psb(sim), new_document_id()
    with_hook(sim, client)
    client.send_sales_invoice(ubl(), document_id=document_id)

    sim.data["clock_offset"] += 61
    statuses = client.sales_invoice_status(document_id)
    sim.psb_deliver_due()

    assert [s.name for s in statuses] == ["Pending", "Delivered"]
    url, body, headers = sim.posted[-1]
    assert url == "https://portal.example/hooks/abc"
    event = verified_event(
        body, presented_signature=headers["X-EConnect-Signature"], secret=HOOK_SECRET, now=datetime.now(UTC)
    )
    assert (event.known_topic, event.document_id) == (Topic.INVOICE_SENT, document_id)


def test_an_unreachable_recipient_ends_in_invoice_sent_error(sim):
    client, document_id = psb(sim), new_document_id()
    with_hook(sim, client)
    unknown_customer = ubl().replace(b"87654321", b"55556666")
    client.send_sales_invoice(unknown_customer, document_id=document_id)

    sim.data["clock_offset"] += 61
    client.sales_invoice_status(document_id)
    sim.psb_deliver_due()

    assert json.loads(sim.posted[-1][1])["topic"] == "InvoiceSentError"


def test_a_received_invoice_is_announced_downloaded_byte_for_byte_and_deleted(sim):
    client = psb(sim)
    with_hook(sim, client)
    payload = ubl("IN-1")
    document_id = sim.psb_receive(OWN, payload)

    sim.psb_deliver_due()
    event = json.loads(sim.posted[-1][1])
    downloaded = client.download_purchase_invoice(document_id)
    client.delete_purchase_invoice(document_id)

    assert (event["topic"], event["documentId"]) == ("InvoiceReceived", document_id)
    assert downloaded == payload
    with pytest.raises(DocumentNotFound):
        client.download_purchase_invoice(document_id)
    client.delete_purchase_invoice(document_id)  # already gone counts as done


def test_a_failed_webhook_is_retried_on_schedule_re_signed_with_a_new_sent_on(sim):
    client = psb(sim)
    with_hook(sim, client)
    sim.webhook_answers = [500]
    sim.psb_receive(OWN, ubl("IN-2"))

    sim.psb_deliver_due()
    sim.psb_deliver_due()  # not due yet: nothing is sent
    sim.data["clock_offset"] += 60
    sim.psb["hook_clock_skew"] = 60  # the minute passes on the wall clock too
    sim.psb_deliver_due()

    assert len(sim.posted) == 2
    (_, first, first_headers), (_, second, second_headers) = sim.posted
    assert json.loads(first)["createdOn"] == json.loads(second)["createdOn"]
    assert first_headers["X-EConnect-Signature"] != second_headers["X-EConnect-Signature"]
    assert sim.psb["deliveries"][0]["state"] == "delivered" and sim.psb["deliveries"][0]["statuses"] == [500, 200]


def test_a_forged_webhook_is_refused():
    body = json.dumps({"topic": "InvoiceReceived", "sentOn": datetime.now(UTC).isoformat()}).encode()

    with pytest.raises(WebhookRefused) as refused:
        verified_event(body, presented_signature="sha256=" + "0" * 64, secret=HOOK_SECRET)

    assert refused.value.refusal.status == 401


def test_an_invoice_response_is_stored_once_per_response_id(sim):
    client = psb(sim)
    document_id = sim.psb_receive(OWN, ubl("IN-3"))
    rejection = InvoiceResponse(ResponseStatus.REJECTED, reasons={ResponseReason.PRICES_INCORRECT: "Te hoog"})
    response_id = new_document_id()

    client.send_invoice_response(document_id, rejection, response_document_id=response_id)
    client.send_invoice_response(document_id, rejection, response_document_id=response_id)

    assert sim.psb["received"][document_id]["responses"] == [response_id]
    assert sim.psb["responses"][response_id]["body"]["reasons"] == {"PRI": "Te hoog"}


def test_the_simulator_refuses_a_rejection_without_reason_and_accepts_basic_auth(sim):
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    token = (
        control(sim)
        .post(
            "/connect/token",
            content=b"grant_type=client_credentials&scope=openid+ap",
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        .json()["access_token"]
    )
    document_id = sim.psb_receive(OWN, ubl("IN-4"))

    answer = control(sim).post(
        f"/api/v1/NL%3aKVK%3a12345678/purchaseInvoice/{document_id}/response",
        json={"status": "RE"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 400 and answer.json()["code"] == "API400"


def test_the_simulator_refuses_a_scope_without_ap(sim):
    answer = control(sim).post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "scope": "openid",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert answer.status_code == 400 and answer.json() == {"error": "invalid_scope"}


def control(sim) -> httpx.Client:
    return httpx.Client(base_url=SIM, transport=SimulatorTransport(sim))


def test_a_delivery_is_stamped_by_the_wall_clock_however_far_the_simulated_clock_moved(sim):
    client = psb(sim)
    with_hook(sim, client)
    sim.data["clock_offset"] += 3 * 3600  # documents moved three hours on; the receiver's clock did not
    sim.psb_receive(OWN, ubl("IN-9"))

    sim.psb_deliver_due()

    _, body, headers = sim.posted[-1]
    event = verified_event(body, presented_signature=headers["X-EConnect-Signature"], secret=HOOK_SECRET)
    assert event.document_id


@pytest.mark.parametrize(
    ("body", "read_as_document"),
    [
        ("<html><body>Bad gateway</body></html>", False),
        ("Service temporarily unavailable", False),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', True),  # hostile: stored, then held
        ("<Invoice><ID>not quite UBL</ID></Invoice>", True),  # unreadable: stored, then held
    ],
)
def test_a_download_that_is_an_error_page_is_a_malformed_answer_anything_else_is_the_document(
    sim, body, read_as_document
):
    from integrations.http import MalformedResponse
    from integrations.simulators.faults import Fault

    client = psb(sim)
    document_id = sim.psb_receive(OWN, ubl("IN-10"))
    sim.faults.add(Fault(operation="psb.download", body=body, phase="after"))

    if read_as_document:
        assert client.download_purchase_invoice(document_id) == body.encode()
    else:
        with pytest.raises(MalformedResponse) as malformed:
            client.download_purchase_invoice(document_id)
        assert "could not be read" in malformed.value.message and malformed.value.transient


def test_held_webhooks_are_queued_and_posted_once_released(sim):
    control = httpx.Client(base_url=SIM, transport=SimulatorTransport(sim))
    with_hook(sim, psb(sim))

    assert control.post("/_sim/psb/webhooks/hold", json={"held": True}).json() == {"held": True}
    sim.psb_receive(OWN, ubl("IN-3"))
    held = sim.psb_deliver_due()
    control.post("/_sim/psb/webhooks/hold", json={"held": False})
    released = sim.psb_deliver_due()

    assert held == [] and len(released) == 1
    assert json.loads(sim.posted[-1][1])["topic"] == "InvoiceReceived"
    assert control.post("/_sim/psb/webhooks/hold", json={"held": "yes"}).status_code == 400
