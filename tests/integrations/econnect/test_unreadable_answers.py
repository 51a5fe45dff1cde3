"""A success answer that cannot be read safely comes back as ``UnreadableDocument`` with its bytes, as evidence."""

import base64

import pytest

from integrations.econnect.errors import EConnectServerError, UnreadableDocument
from integrations.http import MalformedResponse
from tests.integrations.econnect.conftest import OWN, add_fault
from tests.integrations.econnect.test_inbox import incoming, inject

# UBL extensions may hold any content: a payload nested beyond libxml2's 2,048 levels that eConnect passes on.
TOO_DEEP = (
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><UBLExtensions>'
    + b"<x>" * 2100
    + b"</x>" * 2100
    + b"</UBLExtensions></Invoice>"
)
XML = {"Content-Type": "text/xml; charset=utf-8"}


def inject_unchecked(control, payload: bytes) -> str:
    response = control.post(
        "/_sim/inbox",
        json={"receiver": OWN, "unchecked": True, "payload_base64": base64.b64encode(payload).decode()},
    )
    assert response.status_code == 201, response.text
    return response.json()["external_id"]


def test_a_payload_nested_too_deep_comes_back_with_the_whole_answer_and_the_document_id(gateway, control):
    external_id = inject_unchecked(control, TOO_DEEP)

    with pytest.raises(UnreadableDocument) as failed:
        gateway.get_inbox_document(external_id)

    error = failed.value
    assert error.external_id == external_id
    assert error.raw.startswith(b"<?xml") and b"<GetInboxDocumentResponse" in error.raw
    assert b"<Payload>" + TOO_DEEP + b"</Payload>" in error.raw  # the answer byte for byte, payload included
    assert "deep" in error.reason.lower() and error.reason in error.message
    assert external_id in error.message and b"<x>" not in error.message.encode()
    assert isinstance(error, MalformedResponse) and error.transient and error.status == 200


def test_an_answer_refused_by_the_parser_is_kept_exactly_as_received(gateway, control):
    gateway.login()
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    add_fault(control, operation="GetInboxDocument", body=hostile, headers=XML)

    with pytest.raises(UnreadableDocument) as failed:
        gateway.get_inbox_document("XCNIN1")

    assert failed.value.raw == hostile.encode()
    assert failed.value.external_id == "XCNIN1"


def test_a_well_formed_answer_without_one_document_in_the_payload_is_unreadable_too(gateway, control):
    external_id = inject(control, incoming())["external_id"]
    real = gateway.get_inbox_document(external_id)
    gateway.login()
    answer = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<GetInboxDocumentResponse xmlns="http://api.everbinding.nl/v3_1/"><Details>'
        f"<ExternalId>{external_id}</ExternalId><Payload><a/><b/></Payload></Details>"
        "</GetInboxDocumentResponse></soap:Body></soap:Envelope>"
    )
    add_fault(control, operation="GetInboxDocument", body=answer, headers=XML)

    with pytest.raises(UnreadableDocument) as failed:
        gateway.get_inbox_document(external_id)

    assert failed.value.raw == answer.encode()
    assert "exactly one document" in failed.value.reason
    assert real.payload  # the same document reads fine once the answer is sound again
    assert gateway.get_inbox_document(external_id).payload == real.payload


def test_an_unreadable_server_error_stays_a_server_error(gateway, control):
    gateway.login()
    add_fault(control, operation="GetInboxDocument", status=500, body="<a>" * 3000, headers=XML)

    with pytest.raises(EConnectServerError) as failed:
        gateway.get_inbox_document("XCNIN1")

    assert not isinstance(failed.value, UnreadableDocument)


def test_a_proxy_page_instead_of_xml_stays_a_plain_malformed_response(gateway, control):
    gateway.login()
    add_fault(
        control,
        operation="GetInboxDocument",
        body="<html><body>Proxy error<br></body></html>",
        headers={"Content-Type": "text/html"},
    )

    with pytest.raises(MalformedResponse) as failed:
        gateway.get_inbox_document("XCNIN1")

    assert not isinstance(failed.value, UnreadableDocument)
