"""The readable rendering of a UBL document: what people see of an invoice, read as written, hostile input refused."""

from decimal import Decimal

import pytest

from integrations.peppol.builder import build_ubl
from integrations.peppol.model import Vat
from integrations.peppol.parser import parse_document
from integrations.peppol.readable import MAX_LINES, XmlRejected, read_document
from tests.integrations.peppol import builders as b

D = Decimal


def built(**overrides) -> bytes:
    return build_ubl(b.invoice(**overrides))


# --- documents made by the project's own builder (no shared folder needed) ------------------------------------------


def test_an_invoice_reads_with_number_dates_currency_and_references():
    document = read_document(built(number="F2025-0042"))

    assert not document.is_credit_note
    assert document.number == "F2025-0042"
    assert str(document.issue_date) == "2025-03-14"
    assert str(document.due_date) == "2025-04-13"
    assert document.currency == "EUR"
    assert document.buyer_reference == "PO-4711"
    assert document.type_label.en == "Invoice"
    assert document.payment_terms == "Betaling binnen 30 dagen"


def test_parties_carry_names_peppol_ids_legal_ids_vat_numbers_and_addresses():
    document = read_document(built())

    assert document.supplier.display_name == "Accountantskantoor De Boer B.V."
    assert str(document.supplier.endpoint_id) == "0106:12345678"
    assert "0106:12345678" in map(str, document.supplier.legal_ids)
    assert document.supplier.vat_ids == ("NL123456789B01",)
    assert document.supplier.contact_email == "facturen@deboer.example"
    assert document.customer.display_name == "Bakkerij Jansen V.O.F."
    assert document.customer.address.lines == ("Dorpsstraat 12", "3511 AB Utrecht", "NL")


def test_lines_carry_quantity_unit_price_vat_and_line_total():
    document = read_document(
        built(lines=(b.line(1, quantity=D("2.5"), price=D("80.00")), b.line(2, vat=b.VAT_9, price=D("10.00"))))
    )

    first, second = document.lines
    assert (first.name, first.quantity, first.unit_code, first.price) == (
        "Advieswerkzaamheden 1",
        D("2.5"),
        "HUR",
        D("80"),
    )
    assert first.unit_label.nl == "uur"
    assert (first.vat_category, first.vat_rate, first.line_total) == ("S", D("21"), D("200.00"))
    assert first.vat_category_label.en == "Standard rate"
    assert (second.vat_rate, second.line_total) == (D("9"), D("10.00"))
    assert document.line_count == 2 and not document.lines_truncated


def test_vat_breakdown_and_totals_are_as_written():
    document = read_document(built(lines=(b.line(1, price=D("100.00")), b.line(2, vat=b.VAT_9, price=D("50.00")))))

    breakdown = {(vat.category, vat.rate): (vat.taxable_amount, vat.tax_amount) for vat in document.vat_breakdown}
    assert breakdown == {("S", D("21")): (D("100.00"), D("21.00")), ("S", D("9")): (D("50.00"), D("4.50"))}
    totals = document.totals
    assert (totals.line_extension, totals.tax_exclusive, totals.vat_total) == (D("150.00"), D("150.00"), D("25.50"))
    assert (totals.tax_inclusive, totals.payable) == (D("175.50"), D("175.50"))


def test_document_allowances_and_charges_are_listed_and_totalled():
    document = read_document(built(allowances_charges=(b.document_allowance("10.00"), b.document_charge("5.00"))))

    kinds = [(item.is_charge, item.amount, item.reason) for item in document.allowance_charges]
    assert kinds == [(False, D("10.00"), "Korting"), (True, D("5.00"), "Verzendkosten")]
    assert (document.totals.allowance_total, document.totals.charge_total) == (D("10.00"), D("5.00"))


def test_payment_means_show_the_iban_and_the_payment_reference():
    (payment,) = read_document(built()).payment_means

    assert payment.code == "58"
    assert payment.label.nl == "SEPA-overboeking"
    assert payment.iban == "NL91ABNA0417164300"
    assert payment.iban_grouped == "NL91 ABNA 0417 1643 00"
    assert payment.payment_id == "F2025-0001"


def test_a_credit_note_reads_its_credited_lines_and_the_invoice_it_credits():
    document = read_document(build_ubl(b.credit_note()))

    assert document.is_credit_note
    assert document.type_label.nl == "Creditnota"
    assert document.billing_references == ("F2025-0001",)
    assert document.lines[0].quantity == D("1")
    assert document.totals.payable == D("121.00")


def test_a_vat_exemption_reason_is_kept_with_its_breakdown():
    (vat,) = read_document(
        built(
            lines=(b.line(vat=Vat.not_subject()),),
            supplier=b.dutch_supplier(vat_id=""),
            customer=b.dutch_customer(vat_id=""),
        )
    ).vat_breakdown

    assert vat.category == "O"
    assert vat.rate is None
    assert vat.exemption_reason == "Not subject to VAT"


def test_notes_are_read():
    assert read_document(built(note="Levering in twee delen")).notes == ("Levering in twee delen",)


# --- odd and hostile input -------------------------------------------------------------------------------------------


def test_a_number_that_is_no_number_is_shown_empty_with_a_warning():
    data = built().replace(b'<cbc:PayableAmount currencyID="EUR">121.00<', b'<cbc:PayableAmount currencyID="EUR">1e5<')

    document = read_document(data)

    assert document.totals.payable is None
    assert any("PayableAmount" in warning.en for warning in document.warnings)


def test_a_document_with_a_dtd_is_refused():
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>'

    with pytest.raises(XmlRejected) as refused:
        read_document(hostile)

    assert refused.value.kind == "dtd_forbidden"


def test_something_that_is_not_ubl_is_refused():
    with pytest.raises(XmlRejected) as refused:
        read_document(b"<html><body>no invoice</body></html>")

    assert refused.value.kind == "not_ubl"


def test_a_huge_number_of_lines_is_cut_for_display():
    data = built(lines=tuple(b.line(n, price=D("1.00")) for n in range(1, MAX_LINES + 3)))

    document = read_document(data)

    assert len(document.lines) == MAX_LINES
    assert document.line_count == MAX_LINES + 2
    assert document.lines_truncated


# --- the official examples (skipped without the shared folder) --------------------------------------------------------


def test_the_official_peppol_example_reads_completely(shared_peppol):
    document = read_document((shared_peppol / "corpus" / "valid" / "01_cen_BIS3_Invoice_positive.xml").read_bytes())

    assert (document.number, document.currency) == ("12345", "DKK")
    assert document.supplier.display_name == "Company A"
    assert str(document.customer.endpoint_id) == "0184:DK87654321"
    assert document.lines[0].unit_code == "KWH"
    assert (document.vat_breakdown[0].rate, document.vat_breakdown[0].tax_amount) == (D("25"), D("156435.89"))
    assert document.totals.payable == D("782179.43")
    assert document.warnings == ()


def test_the_nlcius_example_with_allowances_and_several_rates_reads_completely(shared_peppol):
    document = read_document((shared_peppol / "corpus" / "valid" / "05_si_SI-UBL-2.0_ok_full.xml").read_bytes())

    assert document.number == "TOSL108"
    assert len(document.lines) == 5
    assert {vat.category for vat in document.vat_breakdown} == {"S", "E"}
    assert any(item.is_charge for item in document.allowance_charges)
    assert document.lines[0].allowance_charges
    assert document.totals.payable == D("729")


def test_every_corpus_document_reads_without_warnings(shared_peppol):
    for path in sorted((shared_peppol / "corpus").glob("*/*.xml")):
        document = read_document(path.read_bytes())
        assert document.number, path.name
        assert document.totals.payable is not None, path.name
        assert document.warnings == (), path.name


def test_the_readable_rendering_and_the_summary_are_read_by_the_same_reader():
    data = built(lines=(b.line(1), b.line(2, vat=b.VAT_9)))
    readable, summary = read_document(data), parse_document(data)

    assert readable.supplier == summary.supplier
    assert readable.customer == summary.customer
    assert readable.totals == summary.totals
    assert readable.payment_means == summary.payment_means
    assert readable.attachments == summary.attachments
    assert [(v.category, v.tax_amount) for v in readable.vat_breakdown] == [
        (v.category, v.tax_amount) for v in summary.vat_breakdown
    ]


def test_a_repeated_single_element_is_reported_in_the_rendering_as_in_the_summary():
    data = built(number="F-1").replace(b"<cbc:ID>F-1</cbc:ID>", b"<cbc:ID>F-1</cbc:ID><cbc:ID>F-2</cbc:ID>", 1)

    readable, summary = read_document(data), parse_document(data)

    assert readable.number == summary.number == "F-1"
    assert (
        [w.en for w in readable.warnings]
        == [w.en for w in summary.warnings]
        == ["ID appears 2 times; the first is used."]
    )


def test_a_reference_without_an_attachment_is_shown_as_a_reference_not_counted_as_an_attachment():
    reference = (
        b"<cac:AdditionalDocumentReference><cbc:ID>TS-2025-11</cbc:ID>"
        b"<cbc:DocumentDescription>Urenstaat november</cbc:DocumentDescription></cac:AdditionalDocumentReference>"
    )
    data = built(attachments=(b.pdf_attachment(),)).replace(
        b"<cac:AccountingSupplierParty>", reference + b"<cac:AccountingSupplierParty>", 1
    )

    document = read_document(data)
    summary = parse_document(data)

    assert len(document.attachments) == len(summary.attachments) == 1
    assert [(r.document_id, r.description) for r in document.references] == [("TS-2025-11", "Urenstaat november")]


def test_an_impossible_date_is_reported_and_left_empty():
    data = built().replace(b"<cbc:IssueDate>2025-03-14</cbc:IssueDate>", b"<cbc:IssueDate>20013-05-31</cbc:IssueDate>")

    document = read_document(data)

    assert document.issue_date is None
    assert any("IssueDate" in warning.en and "20013-05-31" in warning.en for warning in document.warnings)
