import pytest
from django.urls import reverse

from portal.incoming_invoices.models import IncomingInvoice
from tests.portal.accounts.factories import UserFactory
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory

Status = IncomingInvoice.Status
Hold = IncomingInvoice.HoldReason


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, username="sam"))
    return client


@pytest.fixture
def queued(monkeypatch):
    delivered = []
    monkeypatch.setattr("portal.incoming_invoices.tasks.deliver.delay", delivered.append)
    return delivered


def admin_action(client, action, documents, reason=""):
    return client.post(
        reverse("admin:incoming_invoices_incominginvoice_changelist"),
        {"action": action, "_selected_action": [document.pk for document in documents], "reason": reason},
        follow=True,
    )


def test_support_marks_a_disputed_document_as_original_and_it_is_delivered(
    staff_client, queued, django_capture_on_commit_callbacks
):
    document = IncomingInvoiceFactory(status=Status.HELD, hold_reason=Hold.ECONNECT_FLAG_DISPUTED)

    with django_capture_on_commit_callbacks(execute=True):
        admin_action(staff_client, "mark_as_original", [document], reason="Different supplier, checked the KvK")

    document.refresh_from_db()
    event = document.events.get(kind="marked_original")
    assert (document.status, document.hold_reason) == (Status.READY, "")
    assert document.released_at is not None
    assert (event.actor.username, event.reason) == ("sam", "Different supplier, checked the KvK")
    assert queued == [document.pk]


def test_marking_as_original_needs_a_reason(staff_client, queued):
    document = IncomingInvoiceFactory(status=Status.HELD, hold_reason=Hold.DUPLICATE)

    response = admin_action(staff_client, "mark_as_original", [document])

    document.refresh_from_db()
    assert document.status == Status.HELD
    assert "Give the reason" in response.content.decode()


def test_an_unreadable_document_cannot_be_marked_as_original(staff_client, queued):
    document = IncomingInvoiceFactory(status=Status.HELD, hold_reason=Hold.UNPARSEABLE)

    response = admin_action(staff_client, "mark_as_original", [document], reason="try")

    document.refresh_from_db()
    assert document.status == Status.HELD
    assert "1 document(s) skipped" in response.content.decode()


def test_an_interrupted_delivery_is_delivered_again_after_a_person_checked_afas(
    staff_client, queued, django_capture_on_commit_callbacks
):
    document = IncomingInvoiceFactory(status=Status.HELD, hold_reason=Hold.DELIVERY_UNCERTAIN, attempts=3)

    with django_capture_on_commit_callbacks(execute=True):
        admin_action(staff_client, "deliver_again", [document], reason="Not in AFAS: checked Scan & Herken")

    document.refresh_from_db()
    assert (document.status, document.attempts) == (Status.READY, 0)
    assert queued == [document.pk]


def test_a_held_duplicate_is_not_delivered_again_by_the_deliver_again_action(staff_client, queued):
    document = IncomingInvoiceFactory(status=Status.HELD, hold_reason=Hold.DUPLICATE)

    admin_action(staff_client, "deliver_again", [document], reason="oops")

    document.refresh_from_db()
    assert document.status == Status.HELD


def test_support_resolves_a_document_manually(staff_client):
    document = IncomingInvoiceFactory(status=Status.HELD, hold_reason=Hold.HOSTILE)

    admin_action(staff_client, "resolve_manually", [document], reason="Asked the supplier for a clean file")

    document.refresh_from_db()
    assert document.status == Status.RESOLVED_MANUALLY
    assert document.events.get(to_status=Status.RESOLVED_MANUALLY).reason == "Asked the supplier for a clean file"


def test_a_duplicate_is_shown_beside_the_earlier_document_it_matches(staff_client):
    original = IncomingInvoiceFactory(
        invoice_number="F-1001", supplier_name="Energie Noord B.V.", raw_xml=b"<Invoice>original</Invoice>"
    )
    duplicate = IncomingInvoiceFactory(
        environment=original.environment,
        invoice_number="F 1001",
        supplier_name="Energie Noord B.V.",
        status=Status.HELD,
        hold_reason=Hold.DUPLICATE,
        duplicate_of=original,
        raw_xml=b"<Invoice>resend</Invoice>",
    )

    page = staff_client.get(
        reverse("admin:incoming_invoices_incominginvoice_change", args=[duplicate.pk])
    ).content.decode()

    assert "Matched earlier" in page
    assert "F 1001" in page and "F-1001" in page
    assert "&lt;Invoice&gt;original&lt;/Invoice&gt;" in page
    assert "&lt;Invoice&gt;resend&lt;/Invoice&gt;" in page


def test_an_identical_file_is_only_released_by_the_action_that_says_so(staff_client, queued):
    earlier = IncomingInvoiceFactory(invoice_number="SAME-1")
    identical = IncomingInvoiceFactory(
        environment=earlier.environment,
        status=Status.HELD,
        hold_reason=Hold.DUPLICATE,
        duplicate_verdict="certain_duplicate",
        duplicate_of=earlier,
    )

    plain = admin_action(staff_client, "mark_as_original", [identical], reason="Sent twice on purpose")
    identical.refresh_from_db()
    assert identical.status == Status.HELD
    assert "the very same file as an earlier document" in plain.content.decode()

    admin_action(staff_client, "mark_identical_as_original", [identical], reason="Sent twice on purpose")
    identical.refresh_from_db()
    assert identical.status == Status.READY


def test_an_admin_reason_is_bounded_on_the_server(staff_client, queued):
    document = IncomingInvoiceFactory(status=Status.HELD, hold_reason=Hold.DUPLICATE)

    response = admin_action(staff_client, "mark_as_original", [document], reason="x" * 5000)

    document.refresh_from_db()
    assert document.status == Status.HELD
    assert "A reason is at most 1000 characters" in response.content.decode()
