"""AFAS Profit webhook deliveries: signature and reading (integrations/afas/webhooks.py)."""

from __future__ import annotations

import json

import pytest

from integrations.afas.webhooks import Refusal, WebhookRefused, parse, signature, verified

# The derived test vector of ../shared/specs/afas/howto/vectors/profit-webhook.signature-cases.derived.json (the
# "Send test message" notification of AFAS's webhook page, signed as G-AFAS-WH-1 assumes).
PASSWORD = "Webhook-Wachtwoord-1"
TEST_MESSAGE = (
    b'{"EventId":"79d9b863-627b-497f-861e-147503472e8d","EnvironmentId":"12345AA","EventType":"test.executed",'
    b'"Data":{"SubscriptionId":1,"SubscriptionName":"Webshop"},"Timestamp":"2026-06-08T09:20:56.1351565Z"}'
)
TEST_MESSAGE_SIGNATURE = "sha256=296786f1679ac5c971a79affbdce34cd72640f938e38d75d54fc9cc8561ed488"
SUBJECT_CREATED = {
    "EventId": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
    "EnvironmentId": "12345AA",
    "EventType": "subject.created",
    "Data": {"SubjectTypeId": -5, "SubjectId": 49946},
    "Timestamp": "2026-06-08T10:00:00.0000000Z",
}


def test_the_test_vector_signature_is_reproduced_and_accepted():
    assert signature(TEST_MESSAGE, PASSWORD) == TEST_MESSAGE_SIGNATURE

    event = verified(TEST_MESSAGE, presented_signature=TEST_MESSAGE_SIGNATURE, password=PASSWORD)

    assert (event.event_type, event.environment_id, event.subscription_name) == ("test.executed", "12345AA", "Webshop")


@pytest.mark.parametrize(
    ("presented", "refusal"),
    [
        (None, Refusal.SIGNATURE_MISSING),
        ("sha256=3d103531eefbfe0346e885fb5306702cb47345459f3a54af70c8da768ceae4f5", Refusal.SIGNATURE_WRONG),
        (TEST_MESSAGE_SIGNATURE.upper(), Refusal.SIGNATURE_WRONG),
    ],
)
def test_a_missing_or_wrong_signature_is_refused_before_the_body_is_read(presented, refusal):
    with pytest.raises(WebhookRefused) as refused:
        verified(TEST_MESSAGE, presented_signature=presented, password=PASSWORD)

    assert refused.value.refusal is refusal and refused.value.refusal.status == 401


def test_one_changed_byte_breaks_the_signature():
    changed = TEST_MESSAGE.replace(b"Webshop", b"Webshoq")

    with pytest.raises(WebhookRefused):
        verified(changed, presented_signature=TEST_MESSAGE_SIGNATURE, password=PASSWORD)


def test_a_dossier_item_event_names_the_item():
    event = parse(json.dumps(SUBJECT_CREATED).encode())

    assert (event.event_type, event.subject_type_id, event.subject_id) == ("subject.created", -5, 49946)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b"{}",
        json.dumps({**SUBJECT_CREATED, "EventId": "x" * 101}).encode(),
        json.dumps({**SUBJECT_CREATED, "EventType": "subject\x00created"}).encode(),
        json.dumps({**SUBJECT_CREATED, "Data": {"SubjectId": "49946"}}).encode(),
        json.dumps({**SUBJECT_CREATED, "Data": {"SubjectId": 2**60}}).encode(),
        b"[" * 100_000,
    ],
)
def test_hostile_or_malformed_bodies_are_unreadable_not_errors(body):
    with pytest.raises(WebhookRefused) as refused:
        parse(body)

    assert refused.value.refusal is Refusal.UNREADABLE


def test_an_oversized_body_is_refused_unread():
    body = b" " * (64 * 1024 + 1)

    with pytest.raises(WebhookRefused) as refused:
        verified(body, presented_signature=signature(body, PASSWORD), password=PASSWORD)

    assert refused.value.refusal is Refusal.TOO_LARGE
