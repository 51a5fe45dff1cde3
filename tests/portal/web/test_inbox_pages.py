import datetime
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.events.services import event_record
from portal.incoming_invoices import selectors
from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.services import incoming_process
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory, processed_document
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
Status = IncomingInvoice.Status
FIXTURES = Path(__file__).parents[2] / "fixtures" / "peppol"
INVOICE = (FIXTURES / "edge" / "nlcius_invoice.xml").read_bytes()


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr("portal.incoming_invoices.tasks.deliver.delay", lambda pk: None)


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, name="Own Client B.V."))


@pytest.fixture
def other_firms_document():
    return IncomingInvoiceFactory(invoice_number="THEIRS-1", supplier_name="Other Firm's Supplier")


def page(client, name, *args, **query):
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200
    return response.content.decode()


received = processed_document


def another_supplier(xml: bytes) -> bytes:
    for old, new in (
        (b"12345678", b"55554444"),
        (b"00000001234567890000", b"00000009999999990000"),
        (b"NL001234567B01", b"NL005555444B01"),
        (b"Bakkerij \xc3\x89\xc3\xa9n", b"Slagerij Twee"),
        (b"NL91 ABNA 0417 1643 00", b"NL20 INGB 0001 2345 67"),
    ):
        xml = xml.replace(old, new)
    return xml


# --- the list -------------------------------------------------------------------------------------------------------


def test_the_inbox_lists_the_firms_documents_only(accountant_client, environment, other_firms_document):
    IncomingInvoiceFactory(environment=environment, invoice_number="OURS-1", supplier_name="Verpakkingen Zuid B.V.")

    html = page(accountant_client, "web:inbox")

    assert "OURS-1" in html
    assert "Verpakkingen Zuid B.V." in html
    assert "Own Client B.V." in html
    assert "THEIRS-1" not in html


def test_the_inbox_filters_by_environment_status_and_search(accountant_client, environment, membership):
    elsewhere = EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))
    IncomingInvoiceFactory(environment=environment, invoice_number="ALPHA-1", status=Status.ACKNOWLEDGED)
    IncomingInvoiceFactory(environment=environment, invoice_number="ALPHA-2", status=Status.FAILED)
    IncomingInvoiceFactory(
        environment=elsewhere, invoice_number="BETA-1", normalised_invoice_number="BETA1", status=Status.ACKNOWLEDGED
    )

    by_environment = page(accountant_client, "web:inbox", environment=environment.pk)
    by_status = page(accountant_client, "web:inbox", status=Status.FAILED)
    by_number = page(accountant_client, "web:inbox", q="beta")

    assert "ALPHA-1" in by_environment and "BETA-1" not in by_environment
    assert "ALPHA-2" in by_status and "ALPHA-1" not in by_status
    assert "BETA-1" in by_number and "ALPHA-1" not in by_number


def test_the_disagreement_filter_shows_documents_where_the_portal_and_econnect_disagree(accountant_client, environment):
    IncomingInvoiceFactory(
        environment=environment, invoice_number="DISPUTED-1", econnect_duplicate_flag=True, duplicate_verdict="original"
    )
    IncomingInvoiceFactory(
        environment=environment, invoice_number="AGREED-1", econnect_duplicate_flag=True, duplicate_verdict="duplicate"
    )

    html = page(accountant_client, "web:inbox", disagreements="on")

    assert "DISPUTED-1" in html
    assert "disagrees: portal finds no duplicate" in html
    assert "AGREED-1" not in html


def test_another_firms_environment_in_the_filter_is_not_found(accountant_client, other_firms_document):
    response = accountant_client.get(reverse("web:inbox"), {"environment": other_firms_document.environment_id})

    assert response.status_code == 404


def test_the_inbox_pages_to_older_and_back_to_newer_documents(accountant_client, environment, monkeypatch):
    monkeypatch.setattr(selectors, "INBOX_PAGE_SIZE", 2)
    start = timezone.now() - datetime.timedelta(hours=1)
    for n in range(3):
        document = IncomingInvoiceFactory(environment=environment, invoice_number=f"PAGE-{n}")
        IncomingInvoice.objects.filter(pk=document.pk).update(created_at=start + datetime.timedelta(minutes=n))

    first = accountant_client.get(reverse("web:inbox"), {"status": Status.RECEIVED})
    older = accountant_client.get(
        reverse("web:inbox"), {"status": Status.RECEIVED, "older": first.context["page"].older}
    )
    newer = accountant_client.get(
        reverse("web:inbox"), {"status": Status.RECEIVED, "newer": older.context["page"].newer}
    )

    assert [row.invoice_number for row in first.context["page"].rows] == ["PAGE-2", "PAGE-1"]
    assert "status=received&amp;older=" in first.content.decode()
    assert [row.invoice_number for row in older.context["page"].rows] == ["PAGE-0"]
    assert older.context["page"].older is None
    assert [row.invoice_number for row in newer.context["page"].rows] == ["PAGE-2", "PAGE-1"]


def test_the_inbox_reads_one_page_of_documents_without_counting_them_or_loading_their_bytes(
    accountant_client, environment
):
    IncomingInvoiceFactory.create_batch(3, environment=environment)

    with CaptureQueriesContext(connection) as queries:
        page(accountant_client, "web:inbox")

    invoice_queries = [q["sql"] for q in queries.captured_queries if "incoming_invoices_incominginvoice" in q["sql"]]
    assert len(invoice_queries) == 1
    assert "COUNT(" not in invoice_queries[0].upper()
    assert "raw_xml" not in invoice_queries[0]
    assert "LIMIT" in invoice_queries[0].upper()


# --- one document ---------------------------------------------------------------------------------------------------


def test_the_page_shows_econnects_flag_and_the_verdict_with_the_matched_document_side_by_side(
    accountant_client, environment
):
    original = received(environment, INVOICE)
    suspect = received(
        environment, INVOICE.replace(b">227.00</cbc:PayableAmount>", b">230.00</cbc:PayableAmount>"), flagged=True
    )

    html = page(accountant_client, "web:incoming_detail", suspect.pk)

    assert "eConnect's flag" in html and "Flagged as duplicate" in html
    assert "Suspected duplicate: amounts differ" in html
    assert "This document beside the document the portal matched" in html
    assert reverse("web:incoming_detail", args=[original.pk]) in html
    assert "€\xa0227,00" in html or "€\xa0227.00" in html
    assert "€\xa0230,00" in html or "€\xa0230.00" in html
    assert "Fields that differ:" in html and "amount" in html
    assert "Differs" in html and "Same" in html
    assert "Bakkerij Één" in html  # the readable rendering of this document
    assert "&lt;cbc:ID&gt;F-2024-0042&lt;/cbc:ID&gt;" in html  # the XML as received


def test_the_page_shows_the_other_suppliers_document_when_econnects_flag_is_disputed(accountant_client, environment):
    first = received(environment, INVOICE)
    flagged = received(environment, another_supplier(INVOICE), flagged=True)

    html = page(accountant_client, "web:incoming_detail", flagged.pk)

    assert "They disagree:" in html
    assert "Same number and date from another supplier (probably what eConnect matched)" in html
    assert "Slagerij Twee" in html and "Bakkerij Één" in html
    assert reverse("web:incoming_detail", args=[first.pk]) in html
    assert "The documents come from different suppliers" in html


def test_the_timeline_shows_delivery_to_afas_with_its_reference_and_the_acknowledgement(accountant_client, environment):
    document = IncomingInvoiceFactory(
        environment=environment,
        status=Status.ACKNOWLEDGED,
        afas_reference="AFAS-REF-77",
        delivered_at=timezone.now(),
        acknowledged_at=timezone.now(),
    )
    for to_status, message in (
        (Status.DELIVERED, "Delivered to AFAS unchanged; acknowledging at eConnect."),
        (Status.ACKNOWLEDGED, "Marked as processed at eConnect."),
    ):
        event_record(
            environment=environment,
            incoming_invoice=document,
            kind="status_changed",
            to_status=to_status,
            message=message,
        )

    html = page(accountant_client, "web:incoming_detail", document.pk)

    assert "Delivered to AFAS unchanged" in html
    assert "AFAS reference: AFAS-REF-77" in html
    assert "Acknowledged at eConnect" in html
    assert "hx-trigger" not in html  # final: nothing to poll


@pytest.mark.parametrize(
    ("raw", "hold_reason"),
    [
        (b"this is not XML at all", "unparseable"),
        ((FIXTURES / "hostile" / "billion_laughs.xml").read_bytes(), "hostile"),
        ((FIXTURES / "hostile" / "random_binary.bin").read_bytes(), "unparseable"),
    ],
)
def test_an_unreadable_or_hostile_document_page_shows_why_instead_of_failing(
    accountant_client, environment, raw, hold_reason
):
    document = IncomingInvoiceFactory(environment=environment, raw_xml=raw)
    incoming_process(invoice=document)
    document.refresh_from_db()

    html = page(accountant_client, "web:incoming_detail", document.pk)

    assert document.hold_reason == hold_reason
    assert "This document cannot be shown in readable form:" in html
    assert "The file as received (as text)" in html


def test_another_firms_document_page_and_status_are_not_found(accountant_client, other_firms_document):
    for name in ("web:incoming_detail", "web:incoming_status"):
        assert accountant_client.get(reverse(name, args=[other_firms_document.pk])).status_code == 404


def test_the_status_fragment_polls_until_the_status_is_final(accountant_client, environment):
    document = IncomingInvoiceFactory(environment=environment, status=Status.DELIVERING)
    url = reverse("web:incoming_status", args=[document.pk])

    polling = accountant_client.get(url, headers={"HX-Request": "true"}).content.decode()
    IncomingInvoice.objects.filter(pk=document.pk).update(status=Status.ACKNOWLEDGED)
    final = accountant_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert f'hx-get="{url}"' in polling and 'hx-trigger="every 3s"' in polling
    assert "hx-trigger" not in final and "In AFAS and acknowledged" in final


# --- mark as original and deliver again -----------------------------------------------------------------------------


@pytest.fixture
def held(environment):
    return IncomingInvoiceFactory(
        environment=environment,
        status=Status.HELD,
        hold_reason="duplicate",
        duplicate_verdict="duplicate",
        invoice_number="HELD-1",
    )


def test_a_firm_admin_marks_a_held_duplicate_as_original_and_comes_back_to_its_page(
    firm_admin_client, firm_admin_membership, held
):
    response = firm_admin_client.post(
        reverse("web:incoming_mark_as_original", args=[held.pk]), {"reason": "A new delivery, not a copy"}
    )

    held.refresh_from_db()
    event = held.events.get(kind="marked_original")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:incoming_detail", args=[held.pk])
    assert held.status == Status.READY
    assert (event.reason, event.actor) == ("A new delivery, not a copy", firm_admin_membership.user)
    timeline = page(firm_admin_client, "web:incoming_detail", held.pk)
    assert "Marked as original" in timeline and "A new delivery, not a copy" in timeline


def test_marking_as_original_needs_a_reason(firm_admin_client, held):
    response = firm_admin_client.post(reverse("web:incoming_mark_as_original", args=[held.pk]), {"reason": "  "})

    held.refresh_from_db()
    assert held.status == Status.HELD
    assert "Say why this document is an original" in str(list(get_messages(response.wsgi_request))[0])


def test_the_page_offers_firm_admins_the_form_and_tells_others_why_not(firm_admin_client, viewer_client, held):
    for_admin = page(firm_admin_client, "web:incoming_detail", held.pk)
    for_viewer = page(viewer_client, "web:incoming_detail", held.pk)

    assert 'name="reason"' in for_admin and reverse("web:incoming_mark_as_original", args=[held.pk]) in for_admin
    assert reverse("web:incoming_mark_as_original", args=[held.pk]) not in for_viewer
    assert "Only firm admins can mark a held document as original" in for_viewer


@pytest.mark.parametrize("client_name", ["accountant_client", "viewer_client"])
def test_accountants_and_viewers_cannot_mark_as_original(request, client_name, held):
    client = request.getfixturevalue(client_name)

    response = client.post(reverse("web:incoming_mark_as_original", args=[held.pk]), {"reason": "Looks fine"})

    held.refresh_from_db()
    assert response.status_code == 403
    assert held.status == Status.HELD


def test_another_firms_document_cannot_be_marked_as_original(firm_admin_client):
    theirs = IncomingInvoiceFactory(status=Status.HELD, hold_reason="duplicate")

    response = firm_admin_client.post(reverse("web:incoming_mark_as_original", args=[theirs.pk]), {"reason": "x"})

    assert response.status_code == 404


@pytest.fixture
def failed(environment):
    return IncomingInvoiceFactory(
        environment=environment, status=Status.FAILED, last_error_message="AFAS refused it", attempts=3
    )


def test_an_accountant_delivers_a_failed_document_again_with_a_reason(accountant_client, failed):
    html = page(accountant_client, "web:incoming_detail", failed.pk)

    response = accountant_client.post(
        reverse("web:incoming_deliver_again", args=[failed.pk]), {"reason": "Supplier fixed in AFAS"}
    )

    failed.refresh_from_db()
    assert reverse("web:incoming_deliver_again", args=[failed.pk]) in html
    assert response["Location"] == reverse("web:incoming_detail", args=[failed.pk])
    assert failed.status == Status.READY
    assert failed.events.get(kind="deliver_again").reason == "Supplier fixed in AFAS"


def test_viewers_cannot_deliver_again(viewer_client, failed):
    response = viewer_client.post(reverse("web:incoming_deliver_again", args=[failed.pk]), {"reason": "x"})

    failed.refresh_from_db()
    assert response.status_code == 403
    assert failed.status == Status.FAILED


def test_a_held_duplicate_is_not_delivered_again(accountant_client, held):
    html = page(accountant_client, "web:incoming_detail", held.pk)

    accountant_client.post(reverse("web:incoming_deliver_again", args=[held.pk]), {"reason": "x"})

    held.refresh_from_db()
    assert reverse("web:incoming_deliver_again", args=[held.pk]) not in html
    assert held.status == Status.HELD


@pytest.fixture
def interrupted(environment):
    return IncomingInvoiceFactory(environment=environment, status=Status.HELD, hold_reason="delivery_uncertain")


def test_an_accountant_confirms_an_interrupted_delivery_found_in_afas(accountant_client, interrupted, monkeypatch):
    acknowledged = []
    monkeypatch.setattr(
        "portal.incoming_invoices.services.incoming_acknowledge", lambda invoice: acknowledged.append(invoice.pk)
    )
    html = page(accountant_client, "web:incoming_detail", interrupted.pk)

    response = accountant_client.post(
        reverse("web:incoming_confirm_in_afas", args=[interrupted.pk]), {"reason": "Entry 118 in AFAS"}
    )

    interrupted.refresh_from_db()
    assert reverse("web:incoming_confirm_in_afas", args=[interrupted.pk]) in html
    assert response["Location"] == reverse("web:incoming_detail", args=[interrupted.pk])
    assert interrupted.status == Status.DELIVERED and acknowledged == [interrupted.pk]
    assert interrupted.events.get(kind="confirmed_in_afas").reason == "Entry 118 in AFAS"


def test_viewers_cannot_confirm_a_delivery(viewer_client, interrupted):
    response = viewer_client.post(reverse("web:incoming_confirm_in_afas", args=[interrupted.pk]), {"reason": "x"})

    interrupted.refresh_from_db()
    assert response.status_code == 403
    assert interrupted.status == Status.HELD


# --- an identical file needs a second confirmation ----------------------------------------------------------------------


@pytest.fixture
def identical(environment):
    earlier = IncomingInvoiceFactory(environment=environment, invoice_number="ORIG-1", status=Status.ACKNOWLEDGED)
    return IncomingInvoiceFactory(
        environment=environment,
        status=Status.HELD,
        hold_reason="duplicate",
        duplicate_verdict="certain_duplicate",
        duplicate_of=earlier,
        invoice_number="ORIG-1",
        sha256=earlier.sha256,
    )


def test_releasing_an_identical_file_asks_a_second_time_naming_the_earlier_document(firm_admin_client, identical):
    url = reverse("web:incoming_mark_as_original", args=[identical.pk])

    first = firm_admin_client.post(url, {"reason": "The supplier really sent it twice"})

    identical.refresh_from_db()
    page = first.content.decode()
    assert first.status_code == 200 and identical.status == Status.HELD
    assert "is the very same file as an earlier document" in page
    assert f'href="{reverse("web:incoming_detail", args=[identical.duplicate_of_id])}"' in page
    assert "Yes: deliver it although it is identical to ORIG-1" in page

    second = firm_admin_client.post(
        url, {"reason": "The supplier really sent it twice", "identical_to": str(identical.duplicate_of_id)}
    )

    identical.refresh_from_db()
    assert second.status_code == 302 and identical.status == Status.READY
    assert identical.events.get(kind="marked_original").data == {"identical_to": identical.duplicate_of_id}


def test_a_confirmation_naming_another_document_is_not_enough(firm_admin_client, identical, environment):
    other = IncomingInvoiceFactory(environment=environment)

    firm_admin_client.post(
        reverse("web:incoming_mark_as_original", args=[identical.pk]), {"reason": "x", "identical_to": str(other.pk)}
    )

    identical.refresh_from_db()
    assert identical.status == Status.HELD


def test_other_duplicates_are_released_in_one_step(firm_admin_client, held):
    firm_admin_client.post(reverse("web:incoming_mark_as_original", args=[held.pk]), {"reason": "Another delivery"})

    held.refresh_from_db()
    assert held.status == Status.READY


def test_a_reason_is_bounded_on_the_server(firm_admin_client, held):
    response = firm_admin_client.post(
        reverse("web:incoming_mark_as_original", args=[held.pk]), {"reason": "x" * 100_000}
    )

    held.refresh_from_db()
    assert held.status == Status.HELD
    assert "A reason is at most 1000 characters (this one has 100000)." in str(
        list(get_messages(response.wsgi_request))[0]
    )


def test_a_foreign_currency_document_shows_its_vat_in_the_accounting_currency(accountant_client, environment):
    document = received(environment, (FIXTURES / "edge" / "dkk_invoice_vat_in_eur.xml").read_bytes())

    html = page(accountant_client, "web:incoming_detail", document.pk)

    assert "VAT in the accounting currency €\xa03,62" in html or "VAT in the accounting currency €\xa03.62" in html
    assert "VAT in EUR, for the VAT return" in html  # the readable rendering's totals
