import logging
import threading

import httpx
import pytest

from integrations.econnect.errors import DocumentRejected, SenderNotAllowed, UnknownRecipient
from integrations.econnect.models import DeliveryMethod, InboxState, OutboxState
from integrations.http import RemoteTimeout
from integrations.simulators.server import make_server
from tests.integrations.econnect.conftest import (
    CUSTOMER,
    KEY,
    OWN,
    SECRET,
    add_fault,
    advance,
    make_gateway,
    outgoing,
    soap_fault,
)


def sent(control):
    return control.get("/_sim/sent", params={"account": KEY}).json()


def test_a_sent_document_is_accepted_with_an_external_id(gateway, control):
    result = gateway.send_document(outgoing())

    assert result.external_id.startswith("XCNUT")
    assert result.reference == "3f1c9a52-ref"
    [document] = sent(control)["documents"]
    assert (document["sender"], document["recipient"], document["number"]) == (OWN, CUSTOMER, "F2025-0001")
    assert document["delivery_method"] == "ToPeppol"


def test_the_outbox_status_moves_from_accepted_through_in_progress_to_delivered(gateway, control):
    external_id = gateway.send_document(outgoing()).external_id

    first = gateway.outbox_status(external_id)
    assert (first.state, first.code, first.name) == (OutboxState.ACCEPTED, "05", "Opgeslagen")
    advance(control, 15)
    # The v3.1 example's "Klaar voor verwerking" has no published code: read by its name, still not final.
    routing = gateway.outbox_status(external_id)
    assert (routing.state, routing.code, routing.name) == (OutboxState.ACCEPTED, "", "Klaar voor verwerking")
    advance(control, 60)
    status = gateway.outbox_status(external_id)
    assert (status.state, status.name) == (OutboxState.DELIVERED, "Ontvangen")
    assert status.state.is_final and status.changed_on is not None


@pytest.mark.parametrize(("behaviour", "state"), [("fail", OutboxState.FAILED), ("reject", OutboxState.REJECTED)])
def test_a_recipient_configured_to_fail_ends_failed_or_rejected(app, gateway, control, behaviour, state):
    app.register("production", "0106:11112222", behaviour=behaviour)
    external_id = gateway.send_document(outgoing(recipient="0106:11112222")).external_id

    advance(control, 120)

    assert gateway.outbox_status(external_id).state is state


def test_an_invoice_sent_to_a_party_of_the_same_account_arrives_in_its_inbox(gateway, control):
    external_id = gateway.send_document(outgoing(recipient=OWN)).external_id
    assert gateway.list_inbox_documents().documents == ()

    advance(control, 120)

    assert gateway.outbox_status(external_id).state is OutboxState.DELIVERED
    [arrived] = gateway.list_inbox_documents().documents
    assert arrived.subject == "Factuur F2025-0001" and arrived.state is InboxState.NEW
    assert sent(control)["documents"][0]["delivery_method"] == DeliveryMethod.TO_INBOX


def test_an_unknown_recipient_without_fallback_email_is_refused_with_the_econnect_code(gateway, control):
    with pytest.raises(UnknownRecipient) as refused:
        gateway.send_document(outgoing(recipient="0106:99990000"))

    assert refused.value.code == "ERRSND4000001" and not refused.value.transient
    assert sent(control)["documents"] == []


def test_an_unknown_recipient_with_a_fallback_email_is_sent_by_email(gateway, control):
    document = outgoing(recipient="0106:99990000")
    document = type(document)(**{**document.__dict__, "fallback_email": "facturen@klant.example"})

    gateway.send_document(document)

    assert sent(control)["documents"][0]["delivery_method"] == "ToEmail"


def test_sending_for_a_party_the_account_does_not_own_is_refused(app, transport):
    app.add_account(app_key="other", app_secret="s", network="production", parties=[{"id": "0106:55556666"}])
    with make_gateway(transport, key="other", secret="s") as gateway, pytest.raises(SenderNotAllowed) as refused:
        gateway.send_document(outgoing())

    assert refused.value.code == "ERRGRP3000006"


def test_a_document_that_is_not_ubl_is_refused_before_sending(gateway, transport):
    document = outgoing()
    document = type(document)(**{**document.__dict__, "payload": b"<note>not an invoice</note>"})

    with pytest.raises(DocumentRejected):
        gateway.send_document(document)

    assert not [r for r in transport.requests if b"SendDocument" in r.content]


def test_a_document_refused_by_econnect_keeps_its_error_code_and_is_permanent(gateway, control):
    soap_fault(
        control, operation="SendDocument", code="ERRXSL4000001", message="Fout in factuur", faultcode="soap:Client"
    )

    with pytest.raises(DocumentRejected) as refused:
        gateway.send_document(outgoing())

    assert refused.value.code == "ERRXSL4000001"
    assert "Fout in factuur" in refused.value.message
    assert not refused.value.transient


def test_a_timeout_after_econnect_accepted_is_recovered_without_sending_twice(gateway, control):
    add_fault(control, operation="SendDocument", delay=5, phase="after")
    document = outgoing(reference="crash-test-0001")

    with pytest.raises(RemoteTimeout):
        gateway.send_document(document)
    recovered = gateway.send_once(document, check_first=True)

    outbox = sent(control)
    assert outbox["counts"] == {f"{OWN}|F2025-0001|2025-03-14": 1}
    assert recovered.external_id == outbox["documents"][0]["external_id"]
    assert recovered.reference == "crash-test-0001"
    assert recovered.status is not None and recovered.status.state is OutboxState.ACCEPTED


def test_send_once_sends_when_econnect_does_not_have_the_document(gateway, control):
    gateway.send_document(outgoing(number="OTHER-1"))

    result = gateway.send_once(outgoing(), check_first=True)

    assert sent(control)["counts"] == {f"{OWN}|OTHER-1|2025-03-14": 1, f"{OWN}|F2025-0001|2025-03-14": 1}
    assert result.external_id != sent(control)["documents"][0]["external_id"]


def test_find_sent_document_pages_through_the_outbox(gateway, control):
    for number in range(60):
        gateway.send_document(outgoing(number=f"N-{number}"))

    found = gateway.find_sent_document(outgoing(number="N-57"))

    assert found is not None
    assert found.external_id == sent(control)["documents"][57]["external_id"]


def test_the_soap_request_has_a_content_length_the_soap_action_and_no_secret_in_the_logs(gateway, transport, caplog):
    caplog.set_level(logging.DEBUG)

    gateway.send_document(outgoing())

    send = next(r for r in transport.requests if b"SendDocument" in r.content)
    assert send.headers["Content-Length"] == str(len(send.content))
    assert "Transfer-Encoding" not in send.headers
    assert send.headers["SOAPAction"] == '"http://api.everbinding.nl/v3_1/SendDocument"'
    assert send.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert SECRET not in caplog.text and SECRET not in repr(gateway)


def test_the_client_works_against_the_simulator_over_a_real_socket(app):
    server = make_server(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with make_gateway(None, timeout=0.5, base=base) as gateway:
            external_id = gateway.send_document(outgoing()).external_id
            assert gateway.outbox_status(external_id).state is OutboxState.ACCEPTED
            with httpx.Client(base_url=base) as control:
                add_fault(control, operation="GetOutboxDocumentStatus", delay=2)
                with pytest.raises(RemoteTimeout):
                    gateway.outbox_status(external_id)
    finally:
        server.shutdown()
        server.server_close()
