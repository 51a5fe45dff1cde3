"""The organisation's own test invoice comes back through its inbox: acknowledged at eConnect, shown as the round
trip on the test invoice, and never delivered into the client's AFAS."""

from datetime import date

from integrations.peppol.model import Identifier
from portal.incoming_invoices import services
from portal.incoming_invoices.models import IncomingInvoice
from portal.outgoing_invoices import round_trip
from portal.outgoing_invoices import services as sending
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.sample_invoice import build_test_invoice
from tests.portal.accounts.factories import UserFactory

Status = IncomingInvoice.Status
OWN = "0106:34567890"  # the demo environment's own identifier


def fetch_and_process(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.incoming_fetch(environment=world.environment)


def send_test_invoice_and_let_it_arrive(world, django_capture_on_commit_callbacks) -> OutgoingInvoice:
    with django_capture_on_commit_callbacks(execute=True):
        sent = round_trip.outgoing_send_test_invoice(environment=world.environment, actor=None)
    sent.refresh_from_db()
    assert sent.status == OutgoingInvoice.Status.SUBMITTED, sent.last_error_message
    assert world.econnect.request("POST", "/_sim/clock", json={"advance": 120}).status_code == 200
    sending.outgoing_follow_status(invoice=sent)
    sent.refresh_from_db()
    assert sent.status == OutgoingInvoice.Status.DELIVERED
    return sent


def inbox_state(world, number: str) -> str:
    documents = world.econnect.request("GET", "/_sim/inbox").json()["documents"]
    return next(document["state"] for document in documents if document["number"] == number)


def test_the_own_test_invoice_is_acknowledged_recorded_and_never_delivered_to_afas(
    world, django_capture_on_commit_callbacks
):
    sent = send_test_invoice_and_let_it_arrive(world, django_capture_on_commit_callbacks)

    fetch_and_process(world, django_capture_on_commit_callbacks)

    returned = IncomingInvoice.objects.get(environment=world.environment, invoice_number=sent.invoice_number)
    assert returned.status == Status.TEST_DONE
    assert returned.acknowledged_at is not None and returned.delivered_at is None
    delivered = world.delivered_to_afas()
    assert delivered, "the other inbox documents were delivered"
    assert returned.sha256 not in {d["sha256"] for d in delivered}
    assert f"{sent.invoice_number}.xml" not in {d["xml_filename"] for d in delivered}
    assert inbox_state(world, sent.invoice_number) == "processed"
    sent.refresh_from_db()
    assert sent.returned_at is not None and sent.returned_document_id == returned.econnect_document_id
    event = sent.events.get(kind="test_returned")
    assert "the connection works both ways" in event.message


def test_fetching_again_changes_nothing(world, django_capture_on_commit_callbacks):
    sent = send_test_invoice_and_let_it_arrive(world, django_capture_on_commit_callbacks)
    fetch_and_process(world, django_capture_on_commit_callbacks)
    first_return = OutgoingInvoice.objects.get(pk=sent.pk).returned_at

    fetch_and_process(world, django_capture_on_commit_callbacks)

    assert IncomingInvoice.objects.filter(invoice_number=sent.invoice_number).count() == 1
    assert OutgoingInvoice.objects.get(pk=sent.pk).returned_at == first_return
    assert sent.events.filter(kind="test_returned").count() == 1


def marked_document(*, supplier: str, token: str) -> bytes:
    """A document carrying the test-invoice marker, supplier and customer both ``supplier``."""
    scheme, value = supplier.split(":")
    return build_test_invoice(
        organisation_name="Someone",
        identifier=Identifier(scheme, value),
        kvk="30123456",
        number="NOT-A-TEST-1",
        issue_date=date(2026, 12, 1),
        token=token,
    )


def inject(world, payload: bytes) -> None:
    response = world.econnect.request(
        "POST", "/_sim/inbox", json={"receiver": OWN, "payload": payload.decode(), "sender_name": "Someone"}
    )
    assert response.status_code == 201, response.text


def test_a_marked_document_from_another_party_is_held_and_not_acknowledged(world, django_capture_on_commit_callbacks):
    sent = send_test_invoice_and_let_it_arrive(world, django_capture_on_commit_callbacks)
    token = sent.afas_identity.removeprefix("test:")
    inject(world, marked_document(supplier="0106:30123456", token=token))

    fetch_and_process(world, django_capture_on_commit_callbacks)

    held = IncomingInvoice.objects.get(invoice_number="NOT-A-TEST-1")
    # Addressed to 0106:30123456, not to this organisation: held before the marker is even looked at.
    assert (held.status, held.hold_reason) == (Status.HELD, IncomingInvoice.HoldReason.OTHER_PARTY)
    assert inbox_state(world, "NOT-A-TEST-1") == "new"
    assert "NOT-A-TEST-1.xml" not in {d["xml_filename"] for d in world.delivered_to_afas()}


def test_a_marker_with_a_token_that_was_never_sent_is_held(world, django_capture_on_commit_callbacks):
    inject(world, marked_document(supplier=OWN, token="f" * 32))

    fetch_and_process(world, django_capture_on_commit_callbacks)

    held = IncomingInvoice.objects.get(invoice_number="NOT-A-TEST-1")
    assert held.hold_reason == IncomingInvoice.HoldReason.TEST_UNMATCHED


def test_a_held_marked_document_can_be_released_as_an_original(world, django_capture_on_commit_callbacks):
    inject(world, marked_document(supplier=OWN, token="f" * 32))
    fetch_and_process(world, django_capture_on_commit_callbacks)
    held = IncomingInvoice.objects.get(invoice_number="NOT-A-TEST-1")

    with django_capture_on_commit_callbacks(execute=True):
        released = services.incoming_mark_as_original(
            invoice=held, actor=UserFactory(), reason="A real invoice that quotes our marker"
        )

    held.refresh_from_db()
    assert released and held.status == Status.ACKNOWLEDGED
