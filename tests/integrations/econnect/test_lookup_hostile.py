"""Hostile answers from the Peppol lookup: a typed error or an honest "unknown", never a crash."""

import json

import httpx
import pytest

from integrations.econnect.errors import InvalidRequest
from integrations.econnect.lookup import PeppolLookup, access_point_of
from integrations.econnect.models import AccessPoint, Reachability
from integrations.http import MalformedResponse
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import parse_identifier

INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017::2.1"
CANDIDATE = parse_identifier("0106:30123456")
TOO_DEEP = b"[" * 100_000 + b"]" * 100_000


def lookup_answering(status: int, body: bytes) -> PeppolLookup:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(status, content=body, headers={"Content-Type": "application/json"})
    )
    return PeppolLookup(base_url="http://lookup.invalid", transport=transport)


def option(url: str) -> bytes:
    return json.dumps([{"partyId": "0106:30123456", "documentTypeId": INVOICE, "url": url}]).encode()


@pytest.mark.parametrize(
    "url",
    ["http://[::1", "https://[zz]/as4", "https://[::1/as4", ""],
    ids=["unclosed IPv6 host", "not an address in brackets", "unclosed IPv6 with path", "empty"],
)
def test_an_endpoint_url_that_cannot_be_parsed_is_an_unknown_access_point(url):
    assert access_point_of(url) is AccessPoint.UNKNOWN


def test_well_formed_endpoint_urls_still_name_their_access_point():
    assert access_point_of("https://as4.econnect.eu/as4") is AccessPoint.ECONNECT
    assert access_point_of("https://[2001:db8::1]:8443/as4") is AccessPoint.OTHER


def test_a_participant_whose_url_cannot_be_parsed_is_registered_at_an_unknown_access_point():
    with lookup_answering(200, option("http://[::1")) as lookup:
        [participant] = lookup.look_up([CANDIDATE], DocumentType.INVOICE).participants

    assert participant.reachability is Reachability.REGISTERED
    assert participant.access_point is AccessPoint.UNKNOWN


def test_an_answer_nested_beyond_the_recursion_limit_is_malformed():
    with lookup_answering(200, TOO_DEEP) as lookup, pytest.raises(MalformedResponse) as caught:
        lookup.look_up([CANDIDATE], DocumentType.INVOICE)

    assert "did not answer JSON" in caught.value.message and caught.value.transient


def test_a_refusal_with_a_body_nested_beyond_the_recursion_limit_is_still_a_refusal():
    with lookup_answering(400, TOO_DEEP) as lookup, pytest.raises(InvalidRequest) as caught:
        lookup.look_up([CANDIDATE], DocumentType.INVOICE)

    assert caught.value.status == 400 and caught.value.code == ""
