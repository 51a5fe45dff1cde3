"""The operations of the fault matrix over eConnect PSB (REST), on the demo environment that uses it: the submit
(its document id makes a repeat a 409, never a second send), the status poll, the download a webhook asks for, and
the acknowledgement (an Invoice Response AB). Each fault of ``fault_world.fault_spec`` lands on the PSB call; refused
credentials at the identity host, an expired token on the call itself."""

from __future__ import annotations

from campaigns.fault_operations import (
    ack_decide,
    deliver_complete,
    deliver_run,
    incoming,
    outgoing,
    ready_outgoing,
    status_check,
    status_complete,
    status_decide,
    status_run,
    submit_check,
    submit_complete,
    submit_decide,
    submit_run,
)
from campaigns.fault_world import RETRY, STOP, Operation, World, completed, seconds_until, with_credentials

SEND, STATUS, DOWNLOAD, RESPONSE = "psb.send", "psb.status", "psb.download", "psb.response"


def _send_setup(world: World) -> dict:
    return {"remote": SEND, "invoice": ready_outgoing(world)}


def _status_setup(world: World) -> dict:
    from portal.outgoing_invoices.services import outgoing_submit

    subject = {"remote": STATUS, "invoice": ready_outgoing(world)}
    outgoing_submit(invoice=outgoing(subject))
    world.advance_econnect_clock(120)  # delivered by now at eConnect
    return subject


# Receiving over PSB: the webhook announced a document; processing it downloads the document by its id.
def _announced(world: World) -> str:
    """A purchase invoice eConnect holds for the environment's party (the demo seed announced three)."""
    party = world.environment.econnect_psb_party_id
    held = [doc for doc in world.econnect_app.psb["received"].values() if doc["party"] == party and not doc["deleted"]]
    return held[0]["document_id"]


def _download_setup(world: World) -> dict:
    from portal.webhooks.models import WebhookEvent

    document_id = _announced(world)
    event = WebhookEvent.objects.create(
        environment=world.environment,
        topic="InvoiceReceived",
        document_id=document_id,
        event_key=f"InvoiceReceived|{document_id}|fault-campaign",
        body=b"{}",
    )
    return {"remote": DOWNLOAD, "event": event.pk, "document_id": document_id}


def _event(subject: dict):
    from portal.webhooks.models import WebhookEvent

    return WebhookEvent.objects.get(pk=subject["event"])


def _download_run(world: World, subject: dict) -> Exception | None:
    from portal.webhooks.services import webhook_process

    webhook_process(event=_event(subject))
    return None


def _download_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.webhooks.models import WebhookEvent

    event = _event(subject)
    if event.outcome == WebhookEvent.Outcome.PROCESSED:
        return completed(world, subject["remote"], baseline), "", None
    if event.outcome == WebhookEvent.Outcome.PENDING:
        return with_credentials(world, "econnect", RETRY), event.outcome_message, seconds_until(event.next_attempt_at)
    return with_credentials(world, "econnect", STOP), event.outcome_message, None


def _download_complete(world: World, subject: dict) -> None:
    """The scheduled retry (``webhooks.work_due``)."""
    from django.utils import timezone

    from portal.webhooks.models import WebhookEvent
    from portal.webhooks.services import webhook_process

    WebhookEvent.objects.filter(pk=subject["event"]).update(next_attempt_at=timezone.now())
    webhook_process(event=_event(subject))


def _download_check(world: World, subject: dict) -> tuple[bool, str]:
    import hashlib
    from base64 import b64decode

    from portal.incoming_invoices.models import IncomingInvoice

    stored = IncomingInvoice.objects.filter(
        environment_id=world.environment_id, econnect_document_id=subject["document_id"]
    )
    held = world.econnect_app.psb["received"][subject["document_id"]]
    same = [invoice.sha256 == hashlib.sha256(b64decode(held["payload"])).hexdigest() for invoice in stored]
    return same == [True], f"stored {len(same)}x, byte for byte: {all(same)}"


# The acknowledgement: once AFAS booked the invoice, the supplier gets an Invoice Response AB.
def _ack_setup(world: World) -> dict:
    from portal.incoming_invoices.fetching import incoming_receive_pushed_many
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.incoming_invoices.services import incoming_process
    from portal.organisations.models import Environment

    Environment.objects.filter(pk=world.environment_id).update(econnect_psb_send_acknowledgement=True)
    announced = _announced(world)
    invoice = incoming_receive_pushed_many(environment=world.environment, external_ids=[announced])[announced].invoice
    incoming_process(invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == IncomingInvoice.Status.READY, invoice.status
    return {"remote": RESPONSE, "invoice": invoice.pk}


def _ack_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.incoming_invoices.models import IncomingInvoice

    invoice = incoming(subject)
    booked = world.afas_deliveries(invoice.sha256)
    answers = [
        r["body"]["status"]
        for r in world.econnect_app.psb["responses"].values()
        if r["document_id"] == invoice.econnect_document_id
    ]
    ok = booked == 1 and answers == ["AB"] and invoice.status == IncomingInvoice.Status.ACKNOWLEDGED
    return ok, f"booked {booked}x in AFAS, responses {answers}, {invoice.status}"


OPERATIONS = (
    Operation("psb_send", "eConnect PSB send (submit)", "psb", SEND,
              _send_setup, submit_run, submit_decide, submit_complete, submit_check),
    Operation("psb_status", "eConnect PSB status (follow-up)", "psb", STATUS,
              _status_setup, status_run, status_decide, status_complete, status_check),
    Operation("psb_download", "eConnect PSB download (webhook)", "psb", DOWNLOAD,
              _download_setup, _download_run, _download_decide, _download_complete, _download_check),
    Operation("psb_acknowledge", "eConnect PSB acknowledge (AB)", "psb", RESPONSE,
              _ack_setup, deliver_run, ack_decide, deliver_complete, _ack_check),
)  # fmt: skip
