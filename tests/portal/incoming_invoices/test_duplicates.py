import datetime
import hashlib
from decimal import Decimal

import pytest

from portal.incoming_invoices.duplicates import duplicate_verdict, normalise_invoice_number, resolve_supplier_key
from portal.incoming_invoices.models import IncomingInvoice
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db
Verdict = IncomingInvoice.DuplicateVerdict


@pytest.mark.parametrize(
    "number, normalised",
    [("F-0012", "F12"), ("f 12", "F12"), ("2025/000123", "2025123"), ("INV.0", "INV0"), ("", ""), (None, "")],
)
def test_invoice_numbers_are_normalised(number, normalised):
    assert normalise_invoice_number(number) == normalised


def test_any_strong_identifier_links_documents_to_one_supplier():
    environment = EnvironmentFactory()

    first = resolve_supplier_key(environment=environment, identifiers=["0106:50000001", "VAT:NL850000011B01"])
    second = resolve_supplier_key(environment=environment, identifiers=["VAT:NL850000011B01"])

    assert first == second


def test_a_task_resolves_the_same_identifiers_once_with_the_same_answer(django_assert_num_queries):
    environment = EnvironmentFactory()
    known: dict = {}
    identifiers = ["0106:50000001", "VAT:NL850000011B01"]
    first = resolve_supplier_key(environment=environment, identifiers=identifiers, resolved=known)

    with django_assert_num_queries(0):
        again = resolve_supplier_key(environment=environment, identifiers=identifiers, resolved=known)

    assert again == first == resolve_supplier_key(environment=environment, identifiers=identifiers)
    assert resolve_supplier_key(environment=environment, identifiers=["VAT:NL850000011B01"], resolved=known) == first


def test_a_shared_iban_does_not_merge_suppliers_with_different_strong_identifiers():
    environment = EnvironmentFactory()
    shared = "IBAN:NL91ABNA0417164300"

    energy = resolve_supplier_key(environment=environment, identifiers=["0106:50000002", shared])
    packaging = resolve_supplier_key(environment=environment, identifiers=["0106:50000003", shared])

    assert energy != packaging


def test_an_iban_alone_links_to_the_supplier_known_by_it():
    environment = EnvironmentFactory()
    known = resolve_supplier_key(environment=environment, identifiers=["0106:50000001", "IBAN:NL02RABO0123456789"])

    assert resolve_supplier_key(environment=environment, identifiers=["IBAN:NL02RABO0123456789"]) == known


def test_a_document_without_identifiers_has_no_supplier():
    assert resolve_supplier_key(environment=EnvironmentFactory(), identifiers=[]) == ""


def document(environment, *, supplier_key="s1", number="F-1", amount="100.00", raw=None, **fields):
    """A document as the duplicate check sees it once processed (judged: no longer RECEIVED)."""
    raw = raw or f"<Invoice>{number}{amount}{supplier_key}{fields}</Invoice>".encode()
    fields.setdefault("status", IncomingInvoice.Status.ACKNOWLEDGED)
    return IncomingInvoiceFactory(
        environment=environment,
        raw_xml=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        supplier_key=supplier_key,
        invoice_number=number,
        normalised_invoice_number=normalise_invoice_number(number),
        document_type=fields.pop("document_type", "invoice"),
        issue_date=fields.pop("issue_date", datetime.date(2026, 11, 2)),
        payable_amount=Decimal(amount),
        currency="EUR",
        **fields,
    )


def test_identical_bytes_are_a_certain_duplicate():
    environment = EnvironmentFactory()
    original = document(environment, raw=b"<Invoice>same</Invoice>")
    resend = document(environment, raw=b"<Invoice>same</Invoice>", supplier_key="")

    result = duplicate_verdict(resend)

    assert (result.verdict, result.duplicate_of) == (Verdict.CERTAIN_DUPLICATE, original)


def test_same_supplier_number_type_and_date_is_a_duplicate_and_suspected_when_amounts_differ():
    environment = EnvironmentFactory()
    original = document(environment, number="F-0001")

    same = duplicate_verdict(document(environment, number="F1"))
    different_amount = duplicate_verdict(document(environment, number="F-1", amount="99.00"))

    assert (same.verdict, same.duplicate_of) == (Verdict.DUPLICATE, original)
    assert different_amount.verdict == Verdict.SUSPECTED_DUPLICATE
    assert "amounts differ" in different_amount.evidence["rule"]


@pytest.mark.parametrize(
    "change",
    [
        {"supplier_key": "s2"},
        {"document_type": "credit_note"},
        {"issue_date": datetime.date(2026, 11, 3)},
        {"number": "F-2"},
    ],
)
def test_anything_else_differing_makes_it_an_original(change):
    environment = EnvironmentFactory()
    document(environment)

    assert duplicate_verdict(document(environment, **change)).verdict == Verdict.ORIGINAL


def test_a_document_of_an_unresolved_supplier_is_never_compared_with_other_suppliers():
    environment = EnvironmentFactory()
    document(environment, supplier_key="s1")

    result = duplicate_verdict(document(environment, supplier_key=""))

    assert result.verdict == Verdict.SUPPLIER_UNKNOWN
    assert result.duplicate_of is None


def test_other_environments_documents_are_never_compared():
    document(EnvironmentFactory())

    assert duplicate_verdict(document(EnvironmentFactory())).verdict == Verdict.ORIGINAL


def test_an_econnect_flag_on_an_original_is_disputed_with_the_other_supplier_as_evidence():
    environment = EnvironmentFactory()
    other = document(environment, supplier_key="energy")

    result = duplicate_verdict(document(environment, supplier_key="packaging", econnect_duplicate_flag=True))

    assert result.verdict == Verdict.ORIGINAL
    assert result.econnect_flag_disputed
    assert result.evidence["other_suppliers_same_number_and_date"][0]["id"] == other.pk


def test_an_econnect_flag_on_a_credit_note_with_an_invoices_number_says_so():
    environment = EnvironmentFactory()
    document(environment, number="F-7")

    result = duplicate_verdict(
        document(environment, number="F-7", document_type="credit_note", econnect_duplicate_flag=True)
    )

    assert result.verdict == Verdict.ORIGINAL
    assert "another document type" in result.evidence["econnect"]


def test_a_document_still_waiting_to_be_processed_is_not_compared():
    environment = EnvironmentFactory()
    document(environment, number="F-7", status=IncomingInvoice.Status.RECEIVED)

    assert duplicate_verdict(document(environment, number="F-7")).verdict == Verdict.ORIGINAL


def test_a_copy_judged_before_the_document_it_copies_is_the_one_compared_with():
    environment = EnvironmentFactory()
    first_received = document(environment, number="F-8", status=IncomingInvoice.Status.RECEIVED)
    judged_first = document(environment, number="F-8")

    result = duplicate_verdict(first_received)

    assert (result.verdict, result.duplicate_of) == (Verdict.DUPLICATE, judged_first)


def test_of_two_identical_copies_the_one_stored_first_is_the_original_whichever_is_judged_first():
    environment = EnvironmentFactory()
    stored_first = document(environment, raw=b"<Invoice>copy</Invoice>", status=IncomingInvoice.Status.RECEIVED)
    resend = document(environment, raw=b"<Invoice>copy</Invoice>", status=IncomingInvoice.Status.RECEIVED)

    judged_first = duplicate_verdict(resend)  # e.g. its worker reached the judging lock first
    IncomingInvoice.objects.filter(pk=resend.pk).update(
        status=IncomingInvoice.Status.HELD, hold_reason=IncomingInvoice.HoldReason.DUPLICATE
    )
    judged_second = duplicate_verdict(stored_first)

    assert (judged_first.verdict, judged_first.duplicate_of) == (Verdict.CERTAIN_DUPLICATE, stored_first)
    assert judged_second.verdict == Verdict.ORIGINAL  # not a duplicate of its own later copy
