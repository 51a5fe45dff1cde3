"""eConnect PSB end to end: the portal served over HTTP (pytest-django's live server), a real Celery worker, Redis,
PostgreSQL, and the eConnect simulator posting signed webhooks to the portal by itself (its heartbeat), retrying
a delivery that was not answered as eConnect does.

Proven here across processes: a purchase invoice announced by webhook reaches AFAS once, unchanged, and is answered
AB after AFAS accepted it; an accountant's RE reaches the supplier; a webhook whose answer was lost is delivered
again and processed once; a sales invoice whose send answer was lost is sent once (eConnect's 409 proves it), its
missed status hook made up for by polling, with the access token expiring mid-run; a forged or stale webhook is
refused and recorded.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from integrations.demo_data import ENVIRONMENTS
from integrations.econnect.psb.webhooks import signature
from integrations.econnect.simulator.psb_hooks import post_over_http
from portal.events.models import Event
from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.responses import incoming_respond
from portal.organisations.models import Environment
from portal.outgoing_invoices import tasks as outgoing_tasks
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.webhooks.connect import environment_connect_webhooks
from portal.webhooks.models import WebhookEvent
from tests.e2e.test_receiving_e2e import _party
from tests.portal.accounts.factories import UserFactory
from tests.stack.world import purchase_document

pytestmark = pytest.mark.e2e

FLORA = next(spec for spec in ENVIRONMENTS if spec.transport == "psb")
DEMO_PURCHASES = 3  # announced by the simulator's demo seed (integrations/econnect/simulator/seed.py)
DEMO_SALES = 5  # issued in AFAS by the simulator's demo seed, every customer reachable
WAIT = 45.0
In = IncomingInvoice.Status
Out = OutgoingInvoice.Status
FLORA_AS_CUSTOMER = _party(FLORA.organisation_name, FLORA.organisation_kvk)


def flora() -> Environment:
    return Environment.objects.get(afas_participant_number=FLORA.participant, afas_environment_type="production")


@pytest.fixture
def psb(stack, live_server, settings):
    """The stack with Flora (PSB) receiving, its hook pointed at the live portal and the acknowledgement on."""
    # The live server is plain HTTP on loopback, which the portal accepts as its public address only in DEBUG.
    settings.DEBUG, settings.PORTAL_PUBLIC_URL = True, live_server.url
    Environment.objects.filter(pk=flora().pk).update(
        sending_enabled=False, receiving_enabled=True, econnect_psb_send_acknowledgement=True
    )
    environment_connect_webhooks(environment=flora(), actor=None)
    stack.live_url = live_server.url
    yield stack
    stack.econnect.app.webhook_sender = None


def announce(stack, payload: bytes) -> str:
    answer = stack.econnect_control(
        "POST",
        "/_sim/psb/inbox",
        json={"party": FLORA.own_identifier, "payload_base64": base64.b64encode(payload).decode()},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["document_id"]


def afas_deliveries(stack) -> Counter:
    delivered = stack.afas_control("GET", f"/_sim/environments/{FLORA.key}/delivered").json()
    return Counter(entry["xml_sha256"] for entry in delivered["purchase_invoices"])


def responses_at_econnect(stack) -> list[tuple[str, str]]:
    """(received document id, response status) of every Invoice Response eConnect took."""
    with stack.econnect.app.state.lock:
        return [(r["document_id"], r["body"]["status"]) for r in stack.econnect.app.psb["responses"].values()]


def acknowledged(expected: int):
    return lambda: IncomingInvoice.objects.filter(environment=flora(), status=In.ACKNOWLEDGED).count() == expected


def invoice_from_printer(number: str) -> bytes:
    return purchase_document(FLORA_AS_CUSTOMER, 9, number, date(2026, 11, 20), Decimal("60.00"))


def test_purchase_invoices_arrive_by_webhook_reach_afas_once_and_are_answered(psb):
    stack = psb
    document_id = announce(stack, invoice_from_printer("PSB-IN-1"))
    stack.advance_econnect_clock(61)  # the demo's first announcements found no portal: eConnect's retry is due

    stack.wait_until(
        acknowledged(DEMO_PURCHASES + 1), timeout=WAIT, what="every announced invoice in AFAS and acknowledged"
    )

    received = IncomingInvoice.objects.filter(environment=flora())
    deliveries = afas_deliveries(stack)
    assert set(deliveries.values()) == {1} and set(deliveries) == {invoice.sha256 for invoice in received}
    # AB only after AFAS accepted: each acknowledged document was delivered first.
    assert all(invoice.delivered_at <= invoice.acknowledged_at for invoice in received)
    assert sorted(responses_at_econnect(stack)) == sorted((i.econnect_document_id, "AB") for i in received)
    assert WebhookEvent.objects.filter(environment=flora(), outcome=WebhookEvent.Outcome.PROCESSED).count() >= 4

    ours = received.get(econnect_document_id=document_id)
    answer = incoming_respond(invoice=ours, code="RE", reason="PRI", note="Prijs klopt niet", actor=UserFactory())

    assert answer.state == answer.State.SENT
    assert (document_id, "RE") in responses_at_econnect(stack)


def test_a_webhook_whose_answer_was_lost_is_delivered_again_and_processed_once(psb):
    stack = psb
    lost = []

    def answer_lost_once(url, body, headers):
        status = post_over_http(url, body, headers)  # the portal gets it and answers...
        if json.loads(body)["documentId"] == document_id and not lost:
            lost.append(status)
            return 0  # ...but eConnect never hears the answer
        return status

    stack.econnect.app.webhook_sender = answer_lost_once
    document_id = announce(stack, invoice_from_printer("PSB-IN-2"))
    stack.wait_until(lambda: lost, timeout=WAIT, what="the first delivery, answered but lost")
    stack.advance_econnect_clock(61)

    stack.wait_until(acknowledged(DEMO_PURCHASES + 1), timeout=WAIT, what="every announced invoice acknowledged")

    event = WebhookEvent.objects.get(environment=flora(), document_id=document_id)
    assert event.deliveries == 2 and lost == [200]
    assert IncomingInvoice.objects.filter(environment=flora(), econnect_document_id=document_id).count() == 1
    assert set(afas_deliveries(stack).values()) == {1}


def test_a_sales_invoice_is_sent_once_through_a_lost_answer_and_a_missed_status_hook_is_made_up_by_polling(psb):
    stack = psb
    stack.econnect.app.webhook_sender = lambda url, body, headers: (
        500 if json.loads(body)["topic"].startswith("InvoiceSent") else post_over_http(url, body, headers)
    )  # every status hook is lost
    stack.econnect_fault(operation="psb.send", phase="after", drop=True, count=1)  # accepted, answer lost
    Environment.objects.filter(pk=flora().pk).update(sending_enabled=True, next_collect_at=None)
    outgoing_tasks.dispatch_collects.delay()

    stack.wait_until(
        lambda: OutgoingInvoice.objects.filter(environment=flora(), status=Out.SUBMITTED).count() == DEMO_SALES,
        timeout=WAIT,
        what="every sales invoice submitted",
        tick=outgoing_tasks.work_due.delay,
    )
    sent = stack.econnect_control("GET", "/_sim/psb/sent").json()
    assert len(sent["sent"]) == DEMO_SALES and sent["repeats"] >= 1  # the repeat was answered 409
    submitted = OutgoingInvoice.objects.filter(environment=flora())
    assert {doc["document_id"] for doc in sent["sent"]} == {i.econnect_document_id for i in submitted}

    stack.econnect_control("POST", "/_sim/psb/expire-tokens")  # the token expires mid-run
    stack.advance_econnect_clock(61)
    stack.wait_until(
        lambda: submitted.filter(status=Out.DELIVERED).count() == DEMO_SALES,
        timeout=WAIT,
        what="every sales invoice delivered, learnt by polling",
        tick=lambda: (
            submitted.filter(status=Out.SUBMITTED).update(next_attempt_at=timezone.now()),
            outgoing_tasks.work_due.delay(),
        ),
    )
    assert not WebhookEvent.objects.filter(environment=flora(), topic__startswith="InvoiceSent").exists()


def test_forged_and_stale_webhooks_are_refused_and_recorded(psb):
    stack = psb
    environment = flora()
    address = f"{stack.live_url}/hooks/econnect/{environment.econnect_hook_token}/"
    fresh = json.dumps({"topic": "InvoiceReceived", "documentId": "forged-1", "sentOn": datetime.now(UTC).isoformat()})
    old = json.dumps(
        {
            "topic": "InvoiceReceived",
            "documentId": "replayed-1",
            "sentOn": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        }
    )

    forged = httpx.post(address, content=fresh, headers={"X-EConnect-Signature": signature(fresh.encode(), "guess")})
    stale = httpx.post(
        address,
        content=old,
        headers={"X-EConnect-Signature": signature(old.encode(), environment.econnect_hook_secret)},
    )

    assert (forged.status_code, stale.status_code) == (401, 401)
    assert Event.objects.filter(environment=environment, kind="webhook_refused").count() == 2
    assert not WebhookEvent.objects.filter(document_id__in=["forged-1", "replayed-1"]).exists()
