import base64
from datetime import date

import pytest

from integrations.econnect.errors import DocumentNotFound, InvalidRequest, StatusNotOffered
from integrations.econnect.models import InboxState, StatusOption
from integrations.econnect.statuses import acknowledgement_status
from integrations.peppol.builder import build_ubl
from integrations.peppol.model import Identifier
from tests.integrations.econnect.conftest import KEY, OWN
from tests.integrations.peppol.builders import dutch_customer, dutch_supplier, invoice


def incoming(number="INK-1", supplier_kvk="40000001", issued=date(2025, 3, 1)) -> bytes:
    supplier = dutch_supplier(
        name=f"Leverancier {supplier_kvk}",
        endpoint=Identifier("0106", supplier_kvk),
        legal_id=Identifier("0106", supplier_kvk),
    )
    customer = dutch_customer(endpoint=Identifier("0106", "12345678"), legal_id=Identifier("0106", "12345678"))
    return build_ubl(invoice(number=number, issue_date=issued, supplier=supplier, customer=customer))


def inject(control, payload: bytes) -> dict:
    response = control.post("/_sim/inbox", json={"receiver": OWN, "payload_base64": base64.b64encode(payload).decode()})
    assert response.status_code == 201, response.text
    return response.json()


def test_new_documents_are_listed_and_downloaded_byte_for_byte(gateway, control):
    # Odd but legal formatting must survive: single quotes, CR LF, an empty element written open and closed.
    payload = incoming().replace(b"<cbc:Note>", b"<cbc:Note >").replace(b"\n", b"\r\n")
    injected = inject(control, payload)

    [summary] = gateway.list_inbox_documents().documents
    document = gateway.get_inbox_document(summary.external_id)

    assert summary.external_id == injected["external_id"] and summary.state is InboxState.NEW
    without_prolog = payload[payload.index(b"?>") + 2 :].strip()
    assert document.payload == without_prolog
    assert b"\r\n" in document.payload
    assert document.sha256 == injected["sha256"]
    # The invoice template's statuses, as GetInboxDocument lists them for the document (kb "invoice document").
    assert StatusOption("35", "Ter goedkeuring") in document.allowed_statuses
    assert acknowledgement_status(summary.external_id, document.allowed_statuses).code == "35"


def test_the_inbox_is_paged(gateway, control):
    for number in range(5):
        inject(control, incoming(number=f"INK-{number}"))

    first = gateway.list_inbox_documents(limit=2)
    second = gateway.list_inbox_documents(limit=2, page=first.next_page)
    third = gateway.list_inbox_documents(limit=2, page=second.next_page)

    numbers = [d.subject for page in (first, second, third) for d in page.documents]
    assert numbers == [f"Factuur INK-{n}" for n in range(5)]
    assert third.next_page is None


def test_a_processed_document_is_no_longer_new(gateway, control):
    external_id = inject(control, incoming())["external_id"]

    gateway.set_inbox_document_status(external_id, "35")

    assert gateway.list_inbox_documents().documents == ()
    [processed] = gateway.list_inbox_documents(state=None).documents
    assert (processed.status_name, processed.state) == ("Ter goedkeuring", InboxState.PROCESSED)


def test_the_2014_template_is_acknowledged_with_verwerkt(app, gateway, control):
    app.data["accounts"][KEY]["inbox_template"] = "2014"
    external_id = inject(control, incoming())["external_id"]

    document = gateway.get_inbox_document(external_id)
    option = acknowledgement_status(external_id, document.allowed_statuses)
    gateway.set_inbox_document_status(external_id, option.code)

    assert (option.code, option.name) == ("30", "Verwerkt")
    assert control.get("/_sim/inbox").json()["documents"][0]["state"] == "processed"


def test_a_template_without_a_processed_status_is_a_clear_error(app, gateway, control):
    app.data["accounts"][KEY]["inbox_template"] = "no_processing"
    external_id = inject(control, incoming())["external_id"]

    document = gateway.get_inbox_document(external_id)
    with pytest.raises(StatusNotOffered) as caught:
        acknowledgement_status(external_id, document.allowed_statuses)

    assert not caught.value.transient
    assert "Ontvangen (10), Afgekeurd (50)" in caught.value.message
    assert "ECONNECT_ACKNOWLEDGE_STATUSES" in caught.value.message


def test_a_rejected_document_is_reported_back(gateway, control):
    external_id = inject(control, incoming())["external_id"]

    gateway.set_inbox_document_status(external_id, "50")

    assert control.get("/_sim/inbox").json()["documents"][0]["state"] == "rejected"


def test_a_status_the_document_does_not_allow_is_refused(gateway, control):
    external_id = inject(control, incoming())["external_id"]

    with pytest.raises(InvalidRequest):
        gateway.set_inbox_document_status(external_id, "80")  # the duplicate flag is eConnect's, not ours to set
    with pytest.raises(InvalidRequest):
        gateway.set_inbox_document_status(external_id, "30")  # set by the platform itself on download


def test_an_unknown_document_is_not_found(gateway):
    with pytest.raises(DocumentNotFound):
        gateway.get_inbox_document("XCNIN0")


def test_another_supplier_with_the_same_number_and_date_is_held_back_as_duplicate(gateway, control):
    inject(control, incoming(number="F-1", supplier_kvk="40000001"))
    other = inject(control, incoming(number="F-1", supplier_kvk="40000002"))

    assert other["state"] == "duplicate"
    assert [d.subject for d in gateway.list_inbox_documents().documents] == ["Factuur F-1"]


def test_a_released_duplicate_is_offered_as_new(gateway, control):
    inject(control, incoming(number="F-1", supplier_kvk="40000001"))
    other = inject(control, incoming(number="F-1", supplier_kvk="40000002"))

    assert control.post(f"/_sim/inbox/{other['external_id']}/release").status_code == 200

    assert len(gateway.list_inbox_documents().documents) == 2


def test_where_the_account_lets_duplicates_through_they_are_surfaced_as_duplicate(app, gateway, control):
    app.data["accounts"]["key-1234"]["duplicates_visible"] = True
    inject(control, incoming(number="F-1", supplier_kvk="40000001"))
    inject(control, incoming(number="F-1", supplier_kvk="40000002"))

    [flagged] = gateway.list_inbox_documents(state=InboxState.DUPLICATE).documents

    assert flagged.flagged_duplicate and flagged.status_name == "Duplicaat"
    assert len(gateway.list_inbox_documents().documents) == 1
    assert gateway.get_inbox_document(flagged.external_id).summary.flagged_duplicate
