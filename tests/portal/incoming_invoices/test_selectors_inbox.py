import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from portal.incoming_invoices import selectors
from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.selectors import InboxFilters
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory, processed_document
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db
Status = IncomingInvoice.Status
Verdict = IncomingInvoice.DuplicateVerdict
INVOICE = (Path(__file__).parents[2] / "fixtures" / "peppol" / "edge" / "nlcius_invoice.xml").read_bytes()
START = timezone.make_aware(datetime.datetime(2026, 3, 1, 9, 0))


def received_at(invoice, when):
    IncomingInvoice.objects.filter(pk=invoice.pk).update(created_at=when)
    invoice.refresh_from_db()
    return invoice


def listed(environment, **filters):
    documents = selectors.inbox_for_environments(environment_ids=[environment.pk], filters=InboxFilters(**filters))
    return list(documents.order_by("pk"))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("F-0012", ("F12", "F13")),
        ("f-00", ("F", "G")),  # the start of a longer digit run, e.g. F-0012
        ("2024-", ("2024", "2025")),
        ("f-2024-00", ("F2024", "F2025")),
        ("F-12-0", ("F12", "F13")),
        ("F1Z", ("F1Z", "F2")),
        ("A9", ("A9", "AA")),
        ("ZZ", ("ZZ", None)),
        ("  ", None),
        ("--", None),
    ],
)
def test_a_number_search_becomes_a_range_of_normalised_numbers(typed, expected):
    assert selectors.number_search_range(typed) == expected


def test_the_search_finds_numbers_by_their_start_whatever_case_and_separators():
    environment = EnvironmentFactory()
    wanted = IncomingInvoiceFactory(
        environment=environment, invoice_number="F-2024-0012", normalised_invoice_number="F202412"
    )
    IncomingInvoiceFactory(environment=environment, invoice_number="XF-2024-0012", normalised_invoice_number="XF202412")
    IncomingInvoiceFactory(environment=environment, invoice_number="F-2025-0012", normalised_invoice_number="F202512")

    assert listed(environment, search="f-2024-00") == [wanted]
    assert listed(environment, search="F-2024") == [wanted]


def test_the_search_finds_suppliers_by_part_of_their_name():
    environment = EnvironmentFactory()
    wanted = IncomingInvoiceFactory(environment=environment, supplier_name="Verpakkingen Zuid B.V.")
    IncomingInvoiceFactory(environment=environment, supplier_name="Bakkerij Noord")

    assert listed(environment, search="zuid") == [wanted]


def test_the_filters_pick_status_hold_reason_and_held_duplicates():
    environment = EnvironmentFactory()
    duplicate = IncomingInvoiceFactory(environment=environment, status=Status.HELD, hold_reason="duplicate")
    unreadable = IncomingInvoiceFactory(environment=environment, status=Status.HELD, hold_reason="unparseable")
    done = IncomingInvoiceFactory(environment=environment, status=Status.ACKNOWLEDGED)

    assert listed(environment, status=Status.ACKNOWLEDGED) == [done]
    assert listed(environment, hold_reason="unparseable") == [unreadable]
    assert listed(environment, held_duplicates=True) == [duplicate]


def test_disagreements_are_flags_the_portal_does_not_confirm_and_duplicates_econnect_did_not_flag():
    environment = EnvironmentFactory()

    def document(flag, verdict):
        return IncomingInvoiceFactory(environment=environment, econnect_duplicate_flag=flag, duplicate_verdict=verdict)

    flag_but_original = document(True, Verdict.ORIGINAL)
    flag_but_unknown_supplier = document(True, Verdict.SUPPLIER_UNKNOWN)
    duplicate_not_flagged = document(False, Verdict.SUSPECTED_DUPLICATE)
    document(True, Verdict.DUPLICATE)  # they agree
    document(False, Verdict.ORIGINAL)  # they agree
    document(True, Verdict.NOT_CHECKED)  # not judged yet

    assert listed(environment, disagreements=True) == [
        flag_but_original,
        flag_but_unknown_supplier,
        duplicate_not_flagged,
    ]
    assert selectors.econnect_disagreement(flag_but_original) == "flag_not_confirmed"
    assert selectors.econnect_disagreement(duplicate_not_flagged) == "not_flagged"


def test_the_date_range_is_of_the_day_received_in_local_time():
    environment = EnvironmentFactory()
    late_evening = received_at(IncomingInvoiceFactory(environment=environment), START.replace(hour=23, minute=30))
    received_at(IncomingInvoiceFactory(environment=environment), START + datetime.timedelta(days=1))

    day = datetime.date(2026, 3, 1)
    assert listed(environment, received_from=day, received_until=day) == [late_evening]


def test_lists_never_load_the_stored_bytes():
    environment = EnvironmentFactory()
    IncomingInvoiceFactory(environment=environment)

    (row,) = listed(environment)

    assert {"raw_xml", "duplicate_evidence"} <= row.get_deferred_fields()


def test_pages_go_older_and_newer_by_received_time_then_id():
    environment = EnvironmentFactory()
    documents = [received_at(IncomingInvoiceFactory(environment=environment), START) for _ in range(2)]
    documents += [
        received_at(IncomingInvoiceFactory(environment=environment), START + datetime.timedelta(minutes=n))
        for n in range(1, 4)
    ]
    newest_first = sorted(documents, key=lambda d: (d.created_at, d.pk), reverse=True)
    everything = selectors.inbox_for_environments(environment_ids=[environment.pk], filters=InboxFilters())

    first = selectors.inbox_page(everything, size=2)
    second = selectors.inbox_page(everything, older_than=selectors.cursor_parse(first.older), size=2)
    third = selectors.inbox_page(everything, older_than=selectors.cursor_parse(second.older), size=2)
    back = selectors.inbox_page(everything, newer_than=selectors.cursor_parse(third.newer), size=2)
    top = selectors.inbox_page(everything, newer_than=selectors.cursor_parse(second.newer), size=2)

    assert (first.rows, first.newer) == (newest_first[:2], None)
    assert second.rows == newest_first[2:4]
    assert (third.rows, third.older) == (newest_first[4:], None)
    assert back.rows == newest_first[2:4]
    assert (top.rows, top.newer) == (newest_first[:2], None)


def test_a_malformed_cursor_is_ignored():
    assert selectors.cursor_parse("abc") is None
    assert selectors.cursor_parse("9" * 18 + "-1") is None
    assert selectors.cursor_parse(None) is None


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


def test_the_evidence_sets_a_suspected_duplicate_beside_the_document_it_matches():
    environment = EnvironmentFactory()
    original = received(environment, INVOICE)
    suspect = received(environment, INVOICE.replace(b">227.00</cbc:PayableAmount>", b">230.00</cbc:PayableAmount>"))

    evidence = selectors.duplicate_evidence_for(invoice=suspect)

    assert suspect.duplicate_verdict == Verdict.SUSPECTED_DUPLICATE
    (comparison,) = evidence.comparisons
    assert (comparison.role, comparison.other.pk) == ("matched", original.pk)
    assert comparison.other.payable_amount == Decimal("227.00")
    assert comparison.fields["amount"] == "different"
    assert comparison.fields["supplier"] == comparison.fields["invoice_number"] == "same"
    assert comparison.fields["sha256"] == "different"
    assert "amount" in comparison.differing


def test_the_evidence_shows_what_econnect_probably_matched_when_its_flag_is_disputed():
    environment = EnvironmentFactory()
    first = received(environment, INVOICE)
    flagged = received(environment, another_supplier(INVOICE), flagged=True)

    evidence = selectors.duplicate_evidence_for(invoice=flagged)

    assert (flagged.status, flagged.hold_reason) == (Status.HELD, "econnect_flag_disputed")
    assert (evidence.econnect_flag, evidence.verdict, evidence.disagreement) == (
        True,
        Verdict.ORIGINAL,
        "flag_not_confirmed",
    )
    (comparison,) = evidence.comparisons
    assert (comparison.role, comparison.other.pk) == ("other_supplier", first.pk)
    assert comparison.fields["supplier"] == "different"
    assert comparison.fields["supplier_identifiers"] == "different"
    assert comparison.fields["invoice_number"] == comparison.fields["issue_date"] == "same"


def test_the_evidence_stands_in_for_a_matched_document_it_cannot_read_again():
    environment = EnvironmentFactory()
    invoice = IncomingInvoiceFactory(
        environment=environment,
        duplicate_verdict=Verdict.DUPLICATE,
        duplicate_evidence={
            "rule": "same supplier, invoice number, document type and issue date",
            "matched": {"id": 987654, "invoice_number": "INV-1", "issue_date": "2026-11-02", "payable_amount": "60.50"},
        },
    )

    (comparison,) = selectors.duplicate_evidence_for(invoice=invoice).comparisons

    assert comparison.other.issue_date == datetime.date(2026, 11, 2)
    assert comparison.other.payable_amount == Decimal("60.50")
    assert comparison.fields["supplier"] == "unknown"
