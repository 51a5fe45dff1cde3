"""The eConnect simulator's control API and SOAP endpoint answer hostile input with a 400 (or a SOAP fault), never an
exception."""

import base64

import pytest
from lxml import etree

from integrations.econnect.simulator.common import MAX_CLOCK_OFFSET, NS, SOAP_ENV
from tests.integrations.econnect.conftest import KEY, OWN, SECRET, SUBSCRIPTION_KEY
from tests.integrations.econnect.test_inbox import incoming

CONTROL = [
    ("POST", "/_sim/faults"),
    ("POST", "/_sim/clock"),
    ("POST", "/_sim/config"),
    ("POST", "/_sim/accounts"),
    ("PUT", "/_sim/directory/production/0106:12345678"),
    ("POST", "/_sim/inbox"),
    ("POST", "/_sim/soap-faults"),
    ("POST", "/_sim/outbox/XCNUT1/state"),
    ("POST", "/_sim/inbox/XCNIN1/status"),
]
HOSTILE = {
    "null": b"null",
    "list": b"[]",
    "scalar": b'"advance"',
    "truncated": b'{"advance": 1',
    "invalid UTF-8": b'{"receiver": "\xff\xfe"}',
    "deep": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "5,000 digits": b"1" * 5_000,
    "NaN": b'{"advance": NaN, "token_ttl_seconds": NaN}',
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(("method", "path"), CONTROL)
def test_every_control_endpoint_refuses_a_hostile_body_with_400(control, method, path, body):
    response = control.request(method, path, content=body)

    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("path", "spec", "field"),
    [
        ("/_sim/clock", {"advance": "60"}, "advance"),
        ("/_sim/clock", {"advance": -1}, "advance"),
        ("/_sim/config", {"token_ttl_seconds": True}, "token_ttl_seconds"),
        ("/_sim/accounts", {"app_key": "k", "app_secret": "s", "parties": [{"id": 106}]}, "parties[0].id"),
        ("/_sim/accounts", {"app_key": "k", "app_secret": "s", "network": "moon"}, "network"),
        ("/_sim/accounts", {"app_key": "k", "app_secret": "s", "duplicates_visible": "no"}, "duplicates_visible"),
        ("/_sim/inbox", {"receiver": OWN, "payload_base64": "not base64!"}, "payload_base64"),
        ("/_sim/inbox", {"receiver": 106}, "receiver"),
        ("/_sim/inbox", {"receiver": OWN, "unchecked": 1}, "unchecked"),
        ("/_sim/soap-faults", {"operation": "SendDocument", "status": "500"}, "status"),
        ("/_sim/soap-faults", {"operation": "SendDocument", "message": {"a": 1}}, "message"),
        ("/_sim/soap-faults", {"operation": "SendDocument", "message": "a\x00b"}, "message"),
        ("/_sim/outbox/XCNUT1/state", {"state": ["failed"]}, "state"),
    ],
)
def test_control_fields_are_checked_by_name(control, path, spec, field):
    response = control.post(path, json=spec)

    assert response.status_code == 400 and field in response.json()["error"]


def test_a_directory_entry_with_document_types_as_text_is_refused_by_name(control):
    response = control.put("/_sim/directory/production/0106:11112222", json={"document_types": "invoice"})

    assert response.status_code == 400 and "document_types" in response.json()["error"]


def test_the_clock_cannot_be_moved_beyond_what_a_date_can_hold(control):
    response = control.post("/_sim/clock", json={"advance": MAX_CLOCK_OFFSET + 1})

    assert response.status_code == 400 and "advance" in response.json()["error"]
    assert control.get("/_sim/clock").json()["offset"] == 0
    assert control.post("/_sim/clock", json={"advance": 60}).json()["offset"] == 60


def test_an_inbox_payload_with_a_lone_surrogate_is_refused(control):
    response = control.post(
        "/_sim/inbox", content=b'{"receiver": "' + OWN.encode() + b'", "payload": "<a>\\ud800</a>"}'
    )

    assert response.status_code == 400 and "payload" in response.json()["error"]


def _soap(operation: str, children: dict[str, str], token: str | None = None) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    if token:
        header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
        authentication = etree.SubElement(header, f"{{{NS}}}Authentication", nsmap={None: NS})
        etree.SubElement(authentication, f"{{{NS}}}SecurityToken").text = token
    body = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{NS}}}{operation}", nsmap={None: NS})
    for path, text in children.items():
        parent = body
        for name in path.split("/"):
            parent = etree.SubElement(parent, f"{{{NS}}}{name}")
        parent.text = text
    return etree.tostring(envelope)


def _call(control, operation: str, children: dict[str, str], token: str | None = None):
    return control.post(
        f"/soap/v3.1?subscriptionKey={SUBSCRIPTION_KEY}",
        content=_soap(operation, children, token),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}{operation}"'},
    )


def test_a_listing_with_a_five_thousand_digit_page_token_is_answered_not_crashed(control):
    login = _call(control, "Login", {"ConsumerKey": KEY, "ConsumerSecret": SECRET})
    token = etree.fromstring(login.content).findtext(f".//{{{NS}}}SecurityToken")

    response = _call(control, "GetInboxDocuments", {"Paging/StartPage": "p" + "9" * 5_000}, token)

    assert response.status_code == 200


@pytest.mark.parametrize("payload", [b"", b"\xff\xfe\x00", b"[" * 10_000, b"<a>" * 10_000])
def test_a_hostile_soap_body_gets_a_soap_fault(control, payload):
    response = control.post(
        f"/soap/v3.1?subscriptionKey={SUBSCRIPTION_KEY}",
        content=payload,
        headers={"Content-Type": "text/xml", "SOAPAction": f'"{NS}Login"'},
    )

    assert response.status_code == 500
    assert b"faultstring" in response.content


def test_a_document_injected_as_base64_or_as_text_still_arrives(control):
    as_base64 = control.post(
        "/_sim/inbox", json={"receiver": OWN, "payload_base64": base64.b64encode(incoming("INK-1")).decode()}
    )
    as_text = control.post("/_sim/inbox", json={"receiver": OWN, "payload": incoming("INK-2").decode()})

    assert (as_base64.status_code, as_text.status_code) == (201, 201)
    assert [d["number"] for d in control.get("/_sim/inbox").json()["documents"]] == ["INK-1", "INK-2"]
