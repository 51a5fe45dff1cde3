"""One inbox document whose eConnect answer cannot be read must neither block the inbox nor be lost."""

import base64
import hashlib

import pytest

from integrations.econnect.errors import EConnectServerError
from integrations.http import RemoteUnavailable
from portal.incoming_invoices import services
from portal.incoming_invoices.models import IncomingInvoice

Status = IncomingInvoice.Status
Hold = IncomingInvoice.HoldReason

# UBL extensions may hold any content: nested beyond libxml2's 2,048 levels, the whole answer cannot be parsed.
TOO_DEEP = (
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><UBLExtensions>'
    + b"<x>" * 2100
    + b"</x>" * 2100
    + b"</UBLExtensions></Invoice>"
)
XML = {"Content-Type": "text/xml; charset=utf-8"}
HOSTILE_ANSWER = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'


def inject_unchecked(world, payload: bytes) -> str:
    own = world.environment.own_identifiers.first()
    response = world.econnect.request(
        "POST",
        "/_sim/inbox",
        json={
            "receiver": f"{own.scheme}:{own.value}",
            "unchecked": True,
            "payload_base64": base64.b64encode(payload).decode(),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["external_id"]


def fetch(world, capture):
    with capture(execute=True):
        return services.incoming_fetch(environment=world.environment)


def econnect_state(world, external_id: str) -> str:
    documents = world.econnect.request("GET", "/_sim/inbox").json()["documents"]
    return next(document["state"] for document in documents if document["external_id"] == external_id)


def get_inbox_document_calls(world) -> int:
    return world.econnect.request("GET", "/_sim/calls").json()["counts"].get("GetInboxDocument", 0)


def test_an_unreadable_document_is_kept_as_evidence_held_and_the_rest_of_the_inbox_still_arrives(
    world, django_capture_on_commit_callbacks
):
    unreadable_id = inject_unchecked(world, TOO_DEEP)

    result = fetch(world, django_capture_on_commit_callbacks)

    # The five demo documents (three new ones listed before it, two duplicates listed after it) and this one.
    assert result.stored == 6
    held = IncomingInvoice.objects.get(environment=world.environment, econnect_document_id=unreadable_id)
    raw = bytes(held.raw_xml)
    assert b"<Payload>" + TOO_DEEP + b"</Payload>" in raw and b"GetInboxDocumentResponse" in raw
    assert held.sha256 == hashlib.sha256(raw).hexdigest()
    assert (held.status, held.hold_reason) == (Status.HELD, Hold.HOSTILE)
    assert "deep" in held.parse_error.lower()
    received = held.events.get(kind="received")
    assert "could not be read safely" in received.message and "not acknowledged" in received.message
    assert received.data == {"unreadable_answer": True}
    assert held.events.filter(to_status=Status.HELD).exists()
    assert IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED).count() == 3


def test_an_unreadable_document_is_asked_for_twice_and_never_acknowledged_at_econnect(
    world, django_capture_on_commit_callbacks
):
    unreadable_id = inject_unchecked(world, TOO_DEEP)
    before = get_inbox_document_calls(world)

    fetch(world, django_capture_on_commit_callbacks)
    again = fetch(world, django_capture_on_commit_callbacks)

    assert get_inbox_document_calls(world) - before == 5 + 2  # once per readable document, twice for this one
    assert again.stored == 0
    assert IncomingInvoice.objects.filter(econnect_document_id=unreadable_id).count() == 1
    assert econnect_state(world, unreadable_id) == "new"


def test_an_answer_that_is_unreadable_once_is_asked_again_and_stored_as_the_document(
    world, django_capture_on_commit_callbacks
):
    world.econnect_fault(operation="GetInboxDocument", body=HOSTILE_ANSWER, headers=XML, count=1)

    result = fetch(world, django_capture_on_commit_callbacks)

    assert result.stored == 5
    assert not IncomingInvoice.objects.filter(environment=world.environment, hold_reason=Hold.HOSTILE).exists()
    assert IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED).count() == 3
    for invoice in IncomingInvoice.objects.filter(environment=world.environment):
        assert bytes(invoice.raw_xml).startswith(b"<Invoice") or bytes(invoice.raw_xml).startswith(b"<CreditNote")


def test_a_transient_failure_on_the_second_ask_stores_nothing_and_the_fetch_is_retried_later(
    world, django_capture_on_commit_callbacks
):
    world.econnect_fault(operation="GetInboxDocument", body=HOSTILE_ANSWER, headers=XML, count=1)
    world.econnect_fault(operation="GetInboxDocument", status=503, headers={"Retry-After": "30"}, count=None)

    with pytest.raises(RemoteUnavailable):
        fetch(world, django_capture_on_commit_callbacks)

    assert not IncomingInvoice.objects.filter(environment=world.environment).exists()


def test_a_server_error_on_every_download_stores_nothing(world, django_capture_on_commit_callbacks):
    world.econnect_fault(operation="GetInboxDocument", status=500, body="<a>" * 3000, headers=XML, count=None)

    with pytest.raises(EConnectServerError):
        fetch(world, django_capture_on_commit_callbacks)

    assert not IncomingInvoice.objects.filter(environment=world.environment).exists()
