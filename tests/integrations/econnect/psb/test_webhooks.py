"""Webhook signatures and events against eConnect's own test vector and the derived cases (``vectors/webhook``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrations.econnect.psb.models import Topic
from integrations.econnect.psb.webhooks import (
    Refusal,
    WebhookRefused,
    parse_event,
    parse_timestamp,
    signature,
    signature_matches,
    verified_event,
)

VECTORS = Path(__file__).parent / "vectors" / "webhook"
CASES = json.loads((VECTORS / "signature-cases.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_signature_matches_econnects_vectors(case):
    body = case["body"].encode("utf-8")
    presented = (
        case.get("presentedSignature", case["expectedSignature"])
        if "presentedSignature" in case
        else case["expectedSignature"]
    )

    assert signature(body, case["secret"]) == case["expectedSignature"]
    assert signature_matches(body, presented, case["secret"]) is case["mustValidate"]


def test_the_sdk_vector_only_matches_the_crlf_body_as_received():
    crlf = next(case for case in CASES if case["name"] == "sdk-invoice-sent-crlf")
    as_received = crlf["body"].encode()
    re_serialised = json.dumps(json.loads(as_received)).encode()

    assert signature_matches(as_received, crlf["expectedSignature"], "secret")
    assert not signature_matches(re_serialised, crlf["expectedSignature"], "secret")


def test_a_refused_signature_answers_401_as_the_dotnet_receiver():
    case = next(case for case in CASES if case["name"] == "wrong-secret")

    with pytest.raises(WebhookRefused) as refused:
        verified_event(case["body"].encode(), presented_signature=case["presentedSignature"], secret=case["secret"])

    assert refused.value.refusal is Refusal.SIGNATURE_WRONG
    assert refused.value.refusal.status == case["expectedReceiverStatus"]


def test_a_missing_signature_is_refused_before_the_body_is_read():
    with pytest.raises(WebhookRefused) as refused:
        verified_event(b"not even json", presented_signature=None, secret="secret")

    assert refused.value.refusal is Refusal.SIGNATURE_MISSING


def test_the_recorded_event_is_read_and_is_stale_now():
    crlf = next(case for case in CASES if case["name"] == "sdk-invoice-sent-crlf")
    body = crlf["body"].encode()

    with pytest.raises(WebhookRefused) as refused:
        verified_event(body, presented_signature=crlf["expectedSignature"], secret="secret")

    assert refused.value.refusal is Refusal.STALE and refused.value.refusal.status == 401
    sent_on = parse_timestamp("2022-01-21T10:03:18.5951881+00:00")
    event = verified_event(body, presented_signature=crlf["expectedSignature"], secret="secret", now=sent_on)
    assert event.known_topic is Topic.INVOICE_SENT
    assert event.document_id == "f96bad15-0500-4d80-b883-1a82c01b8f93"
    assert event.details["returnedMessageId"] == "ffb4b016-5c24-4bbb-b56c-3571ec4bb6a2@econnect.eu"


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_sent_on_more_than_five_minutes_off_is_stale(skew):
    sent_on = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    body = json.dumps({"topic": "InvoiceReceived", "documentId": "abc123", "sentOn": sent_on.isoformat()}).encode()

    with pytest.raises(WebhookRefused):
        verified_event(body, presented_signature=signature(body, "s"), secret="s", now=sent_on + skew)
    assert verified_event(body, presented_signature=signature(body, "s"), secret="s", now=sent_on + skew / 2)


@pytest.mark.parametrize("name", sorted(path.name for path in (VECTORS / "events").glob("invoice-*.json")))
def test_every_topic_vector_parses(name):
    event = parse_event((VECTORS / "events" / name).read_bytes())

    assert event.known_topic is not None and event.document_id


def test_an_unknown_topic_is_kept_as_written():
    event = parse_event(b'{"topic": "OrderReceived", "documentId": "x"}')

    assert (event.topic, event.known_topic) == ("OrderReceived", None)


@pytest.mark.parametrize(
    "body", [b"", b"[]", b'{"topic": ""}', b"\xff\xfe", b'{"topic": 3}', b"[" * 100_000 + b"]" * 100_000]
)
def test_a_body_without_a_topic_is_unreadable(body):
    with pytest.raises(WebhookRefused) as refused:
        parse_event(body)

    assert refused.value.refusal is Refusal.UNREADABLE


def test_the_same_event_delivered_twice_has_the_same_key():
    first = parse_event(
        b'{"topic":"InvoiceReceived","documentId":"d1","createdOn":"2026-01-01T10:00:00Z","sentOn":"2026-01-01T10:00:01Z"}'
    )
    retry = parse_event(
        b'{"topic":"InvoiceReceived","documentId":"d1","createdOn":"2026-01-01T10:00:00Z","sentOn":"2026-01-01T10:05:00Z"}'
    )

    assert first.key == retry.key


@pytest.mark.parametrize("field", ["topic", "documentId"])
def test_control_characters_in_the_topic_or_id_make_a_delivery_unreadable(field):
    body = json.dumps({"topic": "InvoiceReceived", "documentId": "d-1", field: "a\u0000b"}).encode()

    with pytest.raises(WebhookRefused) as refused:
        parse_event(body)

    assert refused.value.refusal is Refusal.UNREADABLE


def test_control_characters_elsewhere_become_spaces_so_any_database_stores_them():
    body = json.dumps({"topic": "InvoiceSent", "documentId": "d-1", "message": "a\u0000b", "details": {"k": "c\nd"}})

    event = parse_event(body.encode())

    assert (event.message, event.details) == ("a b", {"k": "c d"})
