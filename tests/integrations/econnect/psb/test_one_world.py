"""One eConnect world for both transports: a document sent over SOAP or PSB to a party eConnect hosts lands in that
party's inbox, whichever API it receives with; a PSB receiver's Invoice Response reaches the PSB sender; the live
server's heartbeat moves documents on and sends due webhooks without a request."""

from __future__ import annotations

import json
import threading

from integrations.econnect.psb.auth import PsbCredentials
from integrations.econnect.psb.client import PsbClient, new_document_id
from integrations.econnect.psb.models import Hook, InvoiceResponse, ResponseReason, ResponseStatus
from integrations.simulators.server import start_heartbeat
from integrations.simulators.transport import SimulatorTransport
from tests.integrations.econnect.conftest import CUSTOMER, KEY, OWN, SIM, outgoing

HOOK_SECRET = "hook-secret-1234"


def psb_client(app, client_id: str, party: str) -> PsbClient:
    return PsbClient(
        base_url=SIM,
        identity_url=SIM,
        credentials=PsbCredentials(client_id, "psb-secret"),
        party_id=party,
        transport=SimulatorTransport(app),
    )


def connect_hook(client: PsbClient, topics: tuple[str, ...]) -> None:
    client.put_hook(Hook(id="h1", name="portal", action=f"https://portal.example/h#{HOOK_SECRET}", topics=topics))


def recording(app) -> list[dict]:
    posted: list[dict] = []
    app.webhook_sender = lambda url, body, headers: posted.append(json.loads(body)) or 200
    return posted


def test_an_invoice_sent_over_soap_to_a_psb_party_is_announced_by_webhook(app, gateway):
    app.add_psb_client(client_id="customer", client_secret="psb-secret", parties=[CUSTOMER])
    connect_hook(psb_client(app, "customer", CUSTOMER), ("InvoiceReceived",))
    posted = recording(app)

    gateway.send_document(outgoing())
    app.data["clock_offset"] += 61
    app.tick()

    [event] = posted
    assert event["topic"] == "InvoiceReceived"
    assert b"F2025-0001" in psb_client(app, "customer", CUSTOMER).download_purchase_invoice(event["documentId"])


def test_an_invoice_sent_over_psb_to_a_soap_account_lands_in_its_inbox(app):
    app.add_account(app_key="customer-key", app_secret="x", network="production", parties=[{"id": CUSTOMER}])
    app.add_psb_client(client_id="sender", client_secret="psb-secret", parties=["0106:12345678"])
    del app.data["accounts"][KEY]  # the sender is on PSB only

    psb_client(app, "sender", OWN).send_sales_invoice(outgoing().payload, document_id=new_document_id())
    app.data["clock_offset"] += 61
    app.tick()

    [received] = [doc for doc in app.data["inbox"] if doc["account"] == "customer-key"]
    assert received["number"] == "F2025-0001"


def test_a_psb_receivers_rejection_reaches_the_psb_sender_on_the_document_it_sent(app):
    del app.data["accounts"][KEY]
    app.add_psb_client(client_id="sender", client_secret="psb-secret", parties=[OWN])
    app.add_psb_client(client_id="customer", client_secret="psb-secret", parties=[CUSTOMER])
    sender, customer = psb_client(app, "sender", OWN), psb_client(app, "customer", CUSTOMER)
    connect_hook(sender, ("InvoiceResponseReceived",))
    connect_hook(customer, ("InvoiceReceived",))
    posted = recording(app)
    sent_id = new_document_id()
    sender.send_sales_invoice(outgoing().payload, document_id=sent_id)
    app.data["clock_offset"] += 61
    app.tick()
    received_id = posted[-1]["documentId"]

    rejection = InvoiceResponse(ResponseStatus.REJECTED, reasons={ResponseReason.PRICES_INCORRECT: "Prijs klopt niet"})
    customer.send_invoice_response(received_id, rejection, response_document_id=new_document_id())
    app.tick()

    answer = posted[-1]
    assert (answer["topic"], answer["documentId"]) == ("InvoiceResponseReceived", sent_id)
    assert answer["details"]["status"] == "RE" and answer["details"]["reason"] == "PRI"
    assert "Prijs klopt niet" in answer["message"]


def test_a_failed_delivery_is_booked_as_hook_sent_retry_for_hooks_that_ask(app):
    app.add_psb_client(client_id="customer", client_secret="psb-secret", parties=[CUSTOMER])
    connect_hook(psb_client(app, "customer", CUSTOMER), ("InvoiceReceived", "HookSentRetry", "HookSentError"))
    answers = [500]
    app.webhook_sender = lambda url, body, headers: answers.pop(0) if answers else 200
    app.psb_receive(CUSTOMER, outgoing().payload)

    app.tick()
    app.tick()

    topics = [delivery["event"]["topic"] for delivery in app.psb["deliveries"]]
    assert topics == ["InvoiceReceived", "HookSentRetry"]
    assert [d["state"] for d in app.psb["deliveries"]] == ["pending", "delivered"]  # the retry waits its turn


def test_the_heartbeat_ticks_until_it_is_stopped(app):
    ticked = threading.Event()
    app.tick = ticked.set

    stop = start_heartbeat(app, interval=0.01)

    assert ticked.wait(5)
    stop.set()


def test_an_app_without_a_tick_has_no_heartbeat():
    assert start_heartbeat(object()) is None
