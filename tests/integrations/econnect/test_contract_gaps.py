"""What the platform documents and the first versions missed: the subscription key, the inbox's scope and cursor,
statuses the portal does not know, and the receiver element's two spellings."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from integrations.econnect.errors import SenderNotAllowed
from integrations.econnect.models import OutboxState
from integrations.econnect.simulator.common import INVOICE_TEMPLATE_ID
from integrations.http import AuthenticationError
from integrations.peppol.document_types import DocumentType
from integrations.peppol.model import BillingReference
from tests.integrations.econnect.conftest import KEY, OWN, SECRET, SUBSCRIPTION_KEY, make_gateway, outgoing
from tests.integrations.econnect.test_inbox import incoming

OTHER_COMPANY = "0106:55556666"


def inject(control, receiver: str, number: str) -> dict:
    payload = base64.b64encode(incoming(number=number)).decode()
    response = control.post("/_sim/inbox", json={"receiver": receiver, "payload_base64": payload})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_subscription_key_goes_on_every_call_and_never_into_the_log(gateway, transport, caplog):
    caplog.set_level(logging.DEBUG)

    gateway.login()
    gateway.list_inbox_documents()

    assert [r.url.params.get("subscriptionKey") for r in transport.requests] == [SUBSCRIPTION_KEY] * 2
    assert SUBSCRIPTION_KEY not in caplog.text
    assert SUBSCRIPTION_KEY not in repr(gateway)


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_without_the_right_subscription_key_nothing_reaches_the_soap_service(transport, key):
    with make_gateway(transport, subscription_key=key) as gateway, pytest.raises(AuthenticationError) as caught:
        gateway.login()

    assert caught.value.status == 401 and caught.value.code == "SUBSCRIPTION_KEY"
    assert "ECONNECT_SUBSCRIPTION_KEY" in caught.value.message
    assert not caught.value.transient


def test_group_id_scopes_the_inbox_to_one_company_of_the_keys(app, transport, control):
    app.add_account(
        app_key=KEY,
        app_secret=SECRET,
        network="production",
        name="De Boer",
        parties=[{"id": OWN, "econnect_party_id": "XCNL10019"}, {"id": OTHER_COMPANY, "econnect_party_id": "XCNL2"}],
    )
    ours, theirs = inject(control, OWN, "INK-OURS"), inject(control, OTHER_COMPANY, "INK-THEIRS")

    with make_gateway(transport) as unscoped, make_gateway(transport, group_id="XCNL10019") as scoped:
        everything = {d.external_id for d in unscoped.list_inbox_documents().documents}
        [only] = scoped.list_inbox_documents().documents

    assert everything == {ours["external_id"], theirs["external_id"]}  # the keys' user sees both companies
    assert only.external_id == ours["external_id"]
    assert b"<GroupId>XCNL10019</GroupId>" in transport.requests[-1].content


def test_a_group_the_keys_cannot_see_is_refused(transport):
    with make_gateway(transport, group_id="XCNL99999") as gateway, pytest.raises(SenderNotAllowed):
        gateway.list_inbox_documents()


def test_the_inbox_is_read_from_a_created_on_cursor_and_per_template(gateway, control, transport):
    inject(control, OWN, "INK-OLD")
    control.post("/_sim/clock", json={"advance": 3600})
    cursor = datetime.now(UTC) + timedelta(minutes=30)
    new = inject(control, OWN, "INK-NEW")

    listed = gateway.list_inbox_documents(since=cursor, template_id=INVOICE_TEMPLATE_ID).documents
    other_template = gateway.list_inbox_documents(since=cursor, template_id="GLDT-CONVERSION-TASK").documents

    assert [d.external_id for d in listed] == [new["external_id"]]
    assert other_template == ()
    sent = transport.requests[-2].content
    assert b"<MasterId>" + INVOICE_TEMPLATE_ID.encode() + b"</MasterId>" in sent and b"<From>" in sent


def test_an_unknown_outbox_status_is_kept_as_written_not_guessed(gateway, control):
    external_id = gateway.send_document(outgoing()).external_id
    control.post(f"/_sim/outbox/{external_id}/state", json={"state": "in_progress", "code": "91", "name": "Nieuw"})

    status = gateway.outbox_status(external_id)

    assert (status.state, status.code, status.name) == (OutboxState.UNKNOWN, "91", "Nieuw")


def test_credit_notes_use_the_credit_note_template_when_one_is_configured(app, transport, control):
    control.post("/_sim/config", json={"credit_note_template_id": "GLDT-CREDITNOTE"})
    app.register("production", "0106:87654321", access_point="econnect")
    credit = outgoing(
        number="CN-1",
        document_type=DocumentType.CREDIT_NOTE,
        billing_references=(BillingReference("F2025-0001", date(2025, 3, 14)),),
        due_date=None,
        payment_terms="",
    )

    with (
        make_gateway(transport) as without,
        make_gateway(transport, credit_note_template_id="GLDT-CREDITNOTE") as with_,
    ):
        with_.send_document(credit)
        sent_with = transport.requests[-1].content
        without.send_document(outgoing(number="F-2"))
        sent_without = transport.requests[-1].content

    assert b"<TemplateId>GLDT-CREDITNOTE</TemplateId>" in sent_with
    assert b"<TemplateId>" + INVOICE_TEMPLATE_ID.encode() + b"</TemplateId>" in sent_without


def test_the_documented_inbox_list_item_reads_through_the_client():
    """The knowledge base's v3.1 "Example1" (soap-notes.md section 3a): the receiver written "Receiver" as on
    eConnect's pages (the WSDL says "Reciever"), UTC times with milliseconds, status Goedgekeurd/40."""
    from lxml import etree

    from integrations.econnect.models import InboxState
    from integrations.econnect.soap_messages import NS, read_inbox_summary

    item = etree.fromstring(
        f"""<Document xmlns="{NS}"><ExternalId>XCNIN97968</ExternalId><DocumentId/><Subject>test</Subject>
        <CreatedOn>2017-01-02T08:39:35.415Z</CreatedOn><ModifiedOn>2017-04-18T19:19:52.134Z</ModifiedOn>
        <Sender><EConnectPartyId>XCNL10018</EConnectPartyId><Name>eVerbindung Test Company B.V.</Name></Sender>
        <Receiver><EConnectPartyId>XCNL10019</EConnectPartyId><Name>eLien Test Company B.V.</Name></Receiver>
        <Status><Name>Goedgekeurd</Name><Code>40</Code></Status>
        <Template><Id>GLDT9223370666504283001RA000000006DTP2000001</Id><Name>Factuur</Name>
        <MasterId>GLDT9223370666504283001RA000000006DTP2000001</MasterId><MasterName>Factuur</MasterName></Template>
        </Document>"""
    )

    summary = read_inbox_summary(item)

    assert (summary.external_id, summary.receiver.econnect_party_id) == ("XCNIN97968", "XCNL10019")
    assert summary.created_on == datetime(2017, 1, 2, 8, 39, 35, 415000, tzinfo=UTC)
    assert (summary.state, summary.status_code) == (InboxState.APPROVED, "40")


def test_the_recorded_2014_status_list_acknowledges_with_verwerkt():
    """eConnect-API's recorded allowed statuses (GetInboxDocumentTests): 10 Afgeleverd ... 50 Afgewezen."""
    from integrations.econnect.models import StatusOption
    from integrations.econnect.statuses import acknowledgement_status

    recorded = "consignmentstatus1:Afgeleverd:10,consignmentstatus2:Gelezen:20,consignmentstatus3:Verwerkt:30,"
    recorded += "consignmentstatus4:Goedgekeurd:40,consignmentstatus5:Afgewezen:50"
    allowed = [StatusOption(code=part.split(":")[2], name=part.split(":")[1]) for part in recorded.split(",")]

    assert acknowledgement_status("XCNIN1", allowed) == StatusOption("30", "Verwerkt")


def test_the_gateway_does_not_read_our_own_document_again_when_the_portal_gives_what_it_stored(
    gateway, transport, monkeypatch
):
    from dataclasses import replace

    from integrations.econnect import soap_messages

    def refuse(*args, **kwargs):
        raise AssertionError("our own UBL was parsed again")

    document = outgoing(number="F-77")
    stored = replace(document, invoice_number="F-77", issue_date=date(2025, 3, 14), credit_note=False)
    monkeypatch.setattr(soap_messages, "parse_document", refuse)

    sent = gateway.send_document(stored)
    found = gateway.find_sent_document(stored)

    [send] = [r for r in transport.requests if b"<SendDocument" in r.content]
    assert sent.subject == "Factuur F-77" and b"<Subject>Factuur F-77</Subject>" in send.content
    assert found is not None and found.external_id == sent.external_id  # recognised by number, date and sender
