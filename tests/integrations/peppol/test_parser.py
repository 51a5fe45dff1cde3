"""Received UBL documents become a typed summary; odd content becomes warnings, unsafe input an XmlRejected."""

from __future__ import annotations

import base64
import datetime
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.peppol import namespaces as ns
from integrations.peppol.parser import (
    AttachmentUnavailable,
    DocumentSummary,
    DocumentType,
    Identifier,
    attachment_content,
    parse_document,
)
from integrations.peppol.xml import XmlRejected

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "peppol"
HOSTILE = FIXTURES / "hostile"
AUTHORED_INVOICE = FIXTURES / "edge" / "nlcius_invoice.xml"


@pytest.fixture(scope="session")
def corpus(shared_peppol) -> Path:
    return shared_peppol / "corpus" / "valid"


def authored(*replacements: tuple[str, str]) -> bytes:
    """The authored invoice with some text replaced (each replacement must match exactly once)."""
    text = AUTHORED_INVOICE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def payable(value: str) -> bytes:
    return authored(
        (
            '<cbc:PayableAmount currencyID="EUR">227.00</cbc:PayableAmount>',
            f'<cbc:PayableAmount currencyID="EUR">{value}</cbc:PayableAmount>',
        )
    )


def without_declaration(data: bytes) -> str:
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", data.decode("utf-8"))


def sbdh_wrapped(data: bytes) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<StandardBusinessDocument xmlns="{ns.SBDH}">'
        "<StandardBusinessDocumentHeader><HeaderVersion>1.0</HeaderVersion>"
        '<Sender><Identifier Authority="iso6523-actorid-upis">0106:12345678</Identifier></Sender>'
        '<Receiver><Identifier Authority="iso6523-actorid-upis">0106:88884444</Identifier></Receiver>'
        "<DocumentIdentification><Standard>urn:oasis:names:specification:ubl:schema:xsd:Invoice-2</Standard>"
        "<TypeVersion>2.1</TypeVersion><InstanceIdentifier>b6f1</InstanceIdentifier><Type>Invoice</Type>"
        "<CreationDateAndTime>2024-03-01T10:00:00Z</CreationDateAndTime></DocumentIdentification>"
        "</StandardBusinessDocumentHeader>"
        f"{without_declaration(data)}</StandardBusinessDocument>"
    ).encode()


def reencoded(data: bytes, encoding: str) -> bytes:
    text = without_declaration(data)
    return f'<?xml version="1.0" encoding="{encoding}"?>{text}'.encode(encoding.replace("windows-", "cp"))


def without_sbdh_flag(summary: DocumentSummary) -> dict:
    result = summary.as_json()
    result.pop("sbdh_wrapped")
    return result


# --- the real corpus ------------------------------------------------------------------------------------------------


def test_every_valid_corpus_document_parses_without_warnings(corpus):
    paths = sorted(corpus.glob("*.xml"))
    assert len(paths) >= 14
    for path in paths:
        summary = parse_document(path.read_bytes())
        assert summary.number and summary.issue_date and summary.currency, path.name
        assert summary.supplier is not None and summary.customer is not None, path.name
        assert summary.totals.payable is not None and summary.vat_breakdown, path.name
        assert summary.warnings == (), (path.name, summary.warnings)
        json.dumps(summary.as_json())


def test_a_peppol_bis_invoice_is_read_field_by_field(corpus):
    summary = parse_document((corpus / "01_cen_BIS3_Invoice_positive.xml").read_bytes())
    assert summary.document_type is DocumentType.INVOICE and summary.type_code == "380"
    assert summary.syntax == "peppol-bis3"
    assert summary.customization_id == ns.PEPPOL_BIS3_CUSTOMIZATION
    assert summary.profile_id == ns.PEPPOL_BIS3_PROFILE
    assert summary.number == "12345"
    assert summary.issue_date == datetime.date(2019, 1, 25)
    assert summary.due_date == datetime.date(2019, 2, 24)
    assert summary.currency == "DKK"
    assert summary.buyer_reference == "n/a" and summary.order_reference == "n/a"
    supplier = summary.supplier
    assert supplier.endpoint_id == Identifier("DK12345678", "0184")
    assert supplier.legal_ids == (Identifier("DK12345678", "0184"),)
    assert supplier.vat_ids == ("DK12345678",)
    assert supplier.name == "Company A" and supplier.country == "DK"
    assert summary.customer.endpoint_id == Identifier("DK87654321", "0184")
    assert summary.totals.line_extension == Decimal("625743.54")
    assert summary.totals.vat_total == Decimal("156435.89")
    assert summary.totals.payable == Decimal("782179.43")
    (vat,) = summary.vat_breakdown
    assert (vat.category, vat.rate, vat.taxable_amount, vat.tax_amount) == (
        "S",
        Decimal("25"),
        Decimal("625743.54"),
        Decimal("156435.89"),
    )
    (means,) = summary.payment_means
    assert (means.code, means.payment_id, means.account_id) == ("58", "12345667890", "1234567891234")
    assert summary.attachments == () and summary.sbdh_wrapped is False


def test_an_nlcius_invoice_is_read_field_by_field(corpus):
    data = (corpus / "05_si_SI-UBL-2.0_ok_full.xml").read_bytes()
    summary = parse_document(data)
    assert summary.syntax == "nlcius" and summary.number == "TOSL108"
    assert summary.issue_date == datetime.date(2009, 12, 15) and summary.due_date is None
    assert summary.currency == "EUR" and summary.order_reference == "123"
    supplier = summary.supplier
    assert supplier.endpoint_id == Identifier("12345678", "0106")
    assert supplier.kvk_numbers == ("12345678",)
    assert supplier.vat_ids == ("NL12345678",)
    assert supplier.registration_name == "The Sellercompany Incorporated"
    assert summary.customer.kvk_numbers == ("88884444", "87654321")
    totals = summary.totals
    assert (totals.allowance_total, totals.charge_total, totals.prepaid, totals.payable_rounding) == (
        Decimal("100"),
        Decimal("100"),
        Decimal("1000"),
        Decimal("0.30"),
    )
    assert totals.payable == Decimal("729") and totals.tax_inclusive == Decimal("1728.7")
    assert [(v.category, v.rate, v.tax_amount) for v in summary.vat_breakdown] == [
        ("S", Decimal("20"), Decimal("292.1")),
        ("S", Decimal("10"), Decimal("0.1")),
        ("E", Decimal("0"), Decimal("0")),
    ]
    exempt = summary.vat_breakdown[2]
    assert exempt.exemption_reason_code == "vatex-eu-151-1b"
    assert exempt.exemption_reason == "Exempt New Means of Transport"
    external, embedded = summary.attachments
    assert external.external_uri == "http://www.suppliersite.eu/sheet001.html" and not external.embedded
    assert (embedded.document_id, embedded.filename, embedded.mime_code) == ("Doc2", "drawing.pdf", "application/pdf")
    expected = base64.b64decode("UjBsR09EbGhjZ0dTQUxNQUFBUUNBRU1tQ1p0dU1GUXhEUzhi")
    assert embedded.size == len(expected) == 36
    assert embedded.content(data) == expected


def test_a_credit_note_is_read_with_its_billing_reference(corpus):
    summary = parse_document((corpus / "13_si_SI-UBL-2.0_BR-NL-8_ok_381.xml").read_bytes())
    assert summary.document_type is DocumentType.CREDIT_NOTE and summary.is_credit_note
    assert summary.type_code == "381" and summary.number == "12115118"
    assert summary.issue_date == datetime.date(2015, 1, 9) and summary.due_date is None
    assert summary.billing_references == ("46568",)
    assert summary.supplier.endpoint_id is None
    assert summary.supplier.legal_ids == (Identifier("SITEST00000", "0106"),)
    assert summary.supplier.vat_ids == ("NL1111.11.111.B.01",)
    assert summary.totals.payable == Decimal("227.00")
    assert [v.rate for v in summary.vat_breakdown] == [Decimal("21"), Decimal("6")]
    assert summary.ibans == ("NL11BANK1111111111", "NL11BANK1111111112")


def test_a_large_embedded_pdf_is_described_without_being_kept(corpus):
    data = (corpus / "03_cen_FT_G2G_TD01_con_Allegato_Bonifico_e_Split_Payment.xml").read_bytes()
    summary = parse_document(data)
    (attachment,) = summary.attachments
    encoded = re.search(rb'filename="mappatura_ubl_sdi.pdf">([^<]+)<', data).group(1)
    content = base64.b64decode(b"".join(encoded.split()))
    assert attachment.size == len(content) > 2_000_000
    assert attachment_content(data, 0) == content and content.startswith(b"%PDF")
    assert len(repr(summary)) < 10_000


def test_conformance_fragments_give_a_summary_or_a_refusal_never_a_crash(shared_peppol):
    count = 0
    for path in sorted((shared_peppol / "conformance").rglob("*.xml")):
        try:
            parse_document(path.read_bytes()).as_json()
        except XmlRejected:
            pass
        count += 1
    assert count > 1000


# --- envelopes and encodings ----------------------------------------------------------------------------------------


def test_an_sbdh_wrapped_document_gives_the_same_summary(corpus):
    data = (corpus / "05_si_SI-UBL-2.0_ok_full.xml").read_bytes()
    bare, wrapped = parse_document(data), parse_document(sbdh_wrapped(data))
    assert bare.sbdh_wrapped is False and wrapped.sbdh_wrapped is True
    assert without_sbdh_flag(wrapped) == without_sbdh_flag(bare)


@pytest.mark.parametrize("encoding", ["UTF-16", "ISO-8859-1", "windows-1252"])
def test_a_reencoded_corpus_document_gives_the_same_summary(corpus, encoding):
    data = (corpus / "04_cen_BIS_Billing_30-InomstatligFakturering.xml").read_bytes()
    original = parse_document(data)
    assert "ä" in original.vat_breakdown[0].exemption_reason  # a non-ASCII value that must survive
    assert parse_document(reencoded(data, encoding)) == original


def test_utf16_starts_with_a_byte_order_mark(corpus):
    data = reencoded((corpus / "01_cen_BIS3_Invoice_positive.xml").read_bytes(), "UTF-16")
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert parse_document(data).number == "12345"


# --- the authored invoice --------------------------------------------------------------------------------------------


def test_the_authored_invoice_yields_all_supplier_identifiers():
    summary = parse_document(AUTHORED_INVOICE.read_bytes())
    supplier = summary.supplier
    assert supplier.name == "Bakkerij Één" and supplier.display_name == "Bakkerij Één"
    assert supplier.kvk_numbers == ("12345678",)
    assert supplier.oins == ("00000001234567890000",)
    assert supplier.all_identifiers == (
        Identifier("12345678", "0106"),
        Identifier("00000001234567890000", "0190"),
        Identifier("NL001234567B01", "VAT"),
    )
    assert summary.customer.endpoint_id == Identifier("NL009876543B01", "9944")
    assert summary.ibans == ("NL91ABNA0417164300",)
    assert summary.payment_means[0].account_name == "Bakkerij Een"
    assert summary.buyer_reference == "PO-7781" and summary.order_reference == "ORD-7781"


def test_the_authored_attachment_is_described_and_decoded_on_demand():
    data = AUTHORED_INVOICE.read_bytes()
    (attachment,) = parse_document(data).attachments
    content = b"%PDF-1.4\n% authored test attachment, not a real PDF\n"
    assert (attachment.filename, attachment.mime_code, attachment.description) == (
        "specificatie.pdf",
        "application/pdf",
        "Specificatie",
    )
    assert attachment.size == len(content)
    assert attachment_content(data, 0) == content


def test_asking_for_a_missing_attachment_is_a_lookup_error():
    with pytest.raises(AttachmentUnavailable) as caught:
        attachment_content(AUTHORED_INVOICE.read_bytes(), 1)
    assert "1" in caught.value.message.en and caught.value.message.nl


def test_asking_for_the_content_of_an_external_attachment_is_a_lookup_error(corpus):
    with pytest.raises(AttachmentUnavailable):
        attachment_content((corpus / "05_si_SI-UBL-2.0_ok_full.xml").read_bytes(), 0)


def test_an_attachment_that_is_not_base64_has_no_size_and_a_warning():
    data = authored(('filename="specificatie.pdf">', 'filename="specificatie.pdf">not*base64!'))
    summary = parse_document(data)
    assert summary.attachments[0].size is None and summary.attachments[0].filename == "specificatie.pdf"
    assert any("base64" in w.en for w in summary.warnings)
    with pytest.raises(AttachmentUnavailable):
        attachment_content(data, 0)


def test_the_json_form_has_amounts_as_strings_and_dates_in_iso():
    result = parse_document(AUTHORED_INVOICE.read_bytes()).as_json()
    assert result["totals"]["payable"] == "227.00"
    assert result["vat_breakdown"][1]["rate"] == "6"
    assert result["issue_date"] == "2024-03-01" and result["due_date"] == "2024-03-31"
    assert result["document_type"] == "invoice" and result["syntax"] == "nlcius"
    assert result["supplier"]["kvk_numbers"] == ["12345678"]
    assert "float" not in json.dumps(result, default=lambda o: type(o).__name__)


# --- amounts, dates and shapes that are not what UBL promises ----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "12,50",
        "1e999999",
        "1E5",
        "abc",
        "9" * 10_000,
        "NaN",
        "Infinity",
        "-inf",
        "١٢",
        "1_000",
        "12.50 EUR",
        "--1",
        ".",
    ],
)
def test_an_amount_that_is_no_decimal_is_left_empty_with_a_warning(value):
    summary = parse_document(payable(value))
    assert summary.totals.payable is None
    (warning,) = summary.warnings
    assert "PayableAmount" in warning.en and "PayableAmount" in warning.nl
    assert len(warning.en) < 300  # a 10,000-digit value is quoted only in part


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" 12.50 ", "12.50"), ("-0.01", "-0.01"), ("+5", "5"), (".5", "0.5"), ("7.", "7"), ("0" * 30 + "1", "1")],
)
def test_an_amount_in_any_xsd_decimal_form_is_read_exactly(value, expected):
    summary = parse_document(payable(value))
    assert summary.totals.payable == Decimal(expected) and summary.warnings == ()


def test_a_missing_amount_is_none_without_a_warning():
    summary = parse_document(payable(""))
    assert summary.totals.payable is None and summary.warnings == ()


def test_text_where_a_vat_rate_belongs_is_left_empty_with_a_warning():
    summary = parse_document(
        authored(
            (
                "<cbc:Percent>6</cbc:Percent>\n        <cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>\n        </cac:TaxScheme>\n      </cac:TaxCategory>\n    </cac:TaxSubtotal>",
                "<cbc:Percent>zes</cbc:Percent>\n        <cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>\n        </cac:TaxScheme>\n      </cac:TaxCategory>\n    </cac:TaxSubtotal>",
            )
        )
    )
    assert summary.vat_breakdown[1].rate is None and summary.vat_breakdown[1].tax_amount == Decimal("6.00")
    assert "TaxCategory/Percent" in summary.warnings[0].en


@pytest.mark.parametrize("value", ["2024-02-30", "01-03-2024", "2024-3-1", "yesterday", "0000-01-01", "20013-05-31"])
def test_a_date_that_is_no_date_is_left_empty_with_a_warning(value):
    summary = parse_document(
        authored(("<cbc:IssueDate>2024-03-01</cbc:IssueDate>", f"<cbc:IssueDate>{value}</cbc:IssueDate>"))
    )
    assert summary.issue_date is None
    assert "IssueDate" in summary.warnings[0].en


def test_a_date_with_a_time_zone_is_read_as_its_date():
    summary = parse_document(
        authored(("<cbc:IssueDate>2024-03-01</cbc:IssueDate>", "<cbc:IssueDate>2024-03-01+01:00</cbc:IssueDate>"))
    )
    assert summary.issue_date == datetime.date(2024, 3, 1) and summary.warnings == ()


def test_a_repeated_single_element_uses_the_first_and_warns():
    summary = parse_document(
        authored(("<cbc:ID>F-2024-0042</cbc:ID>", "<cbc:ID>F-2024-0042</cbc:ID><cbc:ID>OTHER</cbc:ID>"))
    )
    assert summary.number == "F-2024-0042"
    assert summary.warnings[0].en == "ID appears 2 times; the first is used."


def test_a_repeated_monetary_total_uses_the_first_and_warns():
    total = (
        '<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">1.00</cbc:PayableAmount></cac:LegalMonetaryTotal>'
    )
    summary = parse_document(
        authored(("  <cac:InvoiceLine>\n    <cbc:ID>1</cbc:ID>", total + "  <cac:InvoiceLine>\n    <cbc:ID>1</cbc:ID>"))
    )
    assert summary.totals.payable == Decimal("227.00")
    assert any("LegalMonetaryTotal appears 2 times" in w.en for w in summary.warnings)


def test_a_credit_note_takes_its_due_date_from_the_payment_means(corpus):
    text = (corpus / "13_si_SI-UBL-2.0_BR-NL-8_ok_381.xml").read_text(encoding="utf-8")
    text = text.replace(
        "<cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>",
        "<cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cbc:PaymentDueDate>2015-02-01</cbc:PaymentDueDate>",
        1,
    )
    assert parse_document(text.encode("utf-8")).due_date == datetime.date(2015, 2, 1)


def test_an_empty_invoice_element_gives_an_empty_summary():
    summary = parse_document(f'<Invoice xmlns="{ns.INVOICE}"/>'.encode())
    assert summary.document_type is DocumentType.INVOICE
    assert summary.number is None and summary.supplier is None and summary.customer is None
    assert summary.totals.payable is None and summary.vat_breakdown == () and summary.attachments == ()
    assert summary.syntax == "unknown" and summary.warnings == ()


def test_odd_shapes_inside_values_do_not_break_the_reader():
    data = authored(
        ("<cbc:ID>F-2024-0042</cbc:ID>", "<cbc:ID>F-2024<!-- split -->-0042<?pi x?></cbc:ID>"),
        (
            "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
            "<cbc:DocumentCurrencyCode><cbc:Nested>EUR</cbc:Nested></cbc:DocumentCurrencyCode>",
        ),
        ('<cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID>', "<cbc:EndpointID>  </cbc:EndpointID>"),
        ("<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>", "<cbc:PaymentMeansCode/>"),
    )
    summary = parse_document(data)
    assert summary.number == "F-2024-0042"
    assert summary.currency is None
    assert summary.supplier.endpoint_id is None
    assert summary.payment_means[0].code is None


def test_a_scheme_written_as_its_letter_code_is_read_as_the_scheme_it_names():
    summary = parse_document(
        authored(
            (
                '<cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID>',
                '<cbc:EndpointID schemeID="NL:KVK">12345678</cbc:EndpointID>',
            )
        )  # fmt: skip
    )

    assert summary.supplier.endpoint_id == Identifier("12345678", "0106")
    assert summary.supplier.kvk_numbers == ("12345678",)


def test_an_unknown_letter_scheme_is_kept_as_written():
    summary = parse_document(
        authored(
            (
                '<cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID>',
                '<cbc:EndpointID schemeID="XX:NOPE">12345678</cbc:EndpointID>',
            )
        )  # fmt: skip
    )

    assert summary.supplier.endpoint_id == Identifier("12345678", "XX:NOPE")


def test_an_empty_endpoint_keeps_its_scheme():
    summary = parse_document(
        authored(
            (
                '<cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID>',
                '<cbc:EndpointID schemeID="0106"></cbc:EndpointID>',
            )
        )  # fmt: skip
    )

    assert summary.supplier.endpoint_id is None
    assert summary.supplier.empty_endpoint_scheme == "0106"


# --- hostile input through parse_document ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("billion_laughs.xml", "dtd_forbidden"),
        ("xxe_http_entity.xml", "dtd_forbidden"),
        ("external_dtd_http.xml", "dtd_forbidden"),
        ("parameter_entity_http.xml", "dtd_forbidden"),
        ("page_with_doctype.html", "dtd_forbidden"),
        ("page.html", "not_ubl"),
        ("order.xml", "not_ubl"),
        ("invoice_without_namespace.xml", "not_ubl"),
        ("sbdh_without_document.xml", "not_ubl"),
        ("invoice.json", "not_xml"),
        ("not_a_pdf_invoice.pdf", "not_xml"),
        ("random_binary.bin", "not_xml"),
        ("undefined_entity.xml", "not_xml"),
        ("trailing_garbage.xml", "not_xml"),
        ("unsupported_encoding.xml", "not_xml"),
        ("truncated_invoice.xml", "truncated"),
        ("empty.xml", "empty"),
        ("whitespace_only.xml", "empty"),
    ],
)
def test_hostile_files_are_refused_with_their_kind(name, kind):
    with pytest.raises(XmlRejected) as caught:
        parse_document((HOSTILE / name).read_bytes())
    assert caught.value.kind == kind


def test_every_hostile_fixture_is_covered_by_a_test():
    covered = {p.name for p in HOSTILE.iterdir()}
    assert covered == {
        "billion_laughs.xml", "xxe_http_entity.xml", "external_dtd_http.xml", "parameter_entity_http.xml",
        "page_with_doctype.html", "page.html", "order.xml", "invoice_without_namespace.xml",
        "sbdh_without_document.xml", "invoice.json", "not_a_pdf_invoice.pdf", "random_binary.bin",
        "undefined_entity.xml", "trailing_garbage.xml", "unsupported_encoding.xml", "truncated_invoice.xml",
        "empty.xml", "whitespace_only.xml",
    }  # fmt: skip


def test_the_size_limit_applies_to_parse_document():
    with pytest.raises(XmlRejected) as caught:
        parse_document(AUTHORED_INVOICE.read_bytes(), max_bytes=1_024)
    assert caught.value.kind == "too_large"


def test_a_deeply_nested_document_is_refused():
    data = authored(
        ("<cbc:BuyerReference>PO-7781</cbc:BuyerReference>", "<cbc:Note>" * 10_001 + "</cbc:Note>" * 10_001)
    )
    with pytest.raises(XmlRejected) as caught:
        parse_document(data)
    assert caught.value.kind == "too_deep"


# --- fuzzing ------------------------------------------------------------------------------------------------------


def summary_or_refusal(data: bytes) -> None:
    """The contract for workers: a summary (that serialises) or XmlRejected, never any other exception."""
    try:
        summary = parse_document(data)
    except XmlRejected as rejected:
        assert rejected.kind in XmlRejected.KINDS and rejected.message.en and rejected.message.nl
        return
    assert isinstance(summary, DocumentSummary)
    json.dumps(summary.as_json())


SEED = AUTHORED_INVOICE.read_bytes()


@st.composite
def mutated_documents(draw) -> bytes:
    data = bytearray(SEED)
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        if action == "flip" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b">",
                        b"&",
                        b"<!DOCTYPE x>",
                        b"</cbc:ID>",
                        b"<cbc:ID>",
                        b"\x00",
                        b"\xff\xfe",
                        b"]]>",
                        b"1e9999",
                    ]
                )
            )
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=200))]
        elif action == "truncate":
            del data[position:]
        elif action == "duplicate":
            end = min(len(data), position + draw(st.integers(min_value=1, max_value=400)))
            data[end:end] = data[position:end]
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_mutated_documents_give_a_summary_or_a_refusal(data):
    summary_or_refusal(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2_000))
def test_random_bytes_give_a_summary_or_a_refusal(data):
    summary_or_refusal(data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "cbc:ID",
                "cbc:PayableAmount",
                "cac:LegalMonetaryTotal",
                "cac:AccountingSupplierParty",
                "cac:Party",
                "cbc:EndpointID",
                "cac:TaxTotal",
                "cac:TaxSubtotal",
                "cbc:Percent",
                "cac:PaymentMeans",
                "cbc:IssueDate",
                "cac:AdditionalDocumentReference",
                "cac:Attachment",
                "cbc:EmbeddedDocumentBinaryObject",
            ]
        ),
        max_size=12,
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_ubl_elements_in_any_nesting_give_a_summary_or_a_refusal(path, text):
    from xml.sax.saxutils import escape

    inner = escape(text)
    for name in reversed(path):
        inner = f"<{name}>{inner}</{name}>"
    summary_or_refusal(
        f'<Invoice xmlns="{ns.INVOICE}" xmlns:cac="{ns.CAC}" xmlns:cbc="{ns.CBC}">{inner}</Invoice>'.encode()
    )


# --- the VAT in the accounting currency (BT-111) ----------------------------------------------------------------------

DKK_INVOICE = FIXTURES / "edge" / "dkk_invoice_vat_in_eur.xml"


def test_a_foreign_currency_invoice_gives_its_vat_in_the_accounting_currency():
    summary = parse_document(DKK_INVOICE.read_bytes())

    assert (summary.currency, summary.tax_currency) == ("DKK", "EUR")
    assert summary.totals.vat_total == Decimal("27.00")  # the document currency's, with its breakdown
    assert summary.totals.vat_total_in_tax_currency == Decimal("3.62")
    assert summary.as_json()["totals"]["vat_total_in_tax_currency"] == "3.62"


def test_an_invoice_in_its_accounting_currency_has_no_second_vat_total():
    assert parse_document(AUTHORED_INVOICE.read_bytes()).totals.vat_total_in_tax_currency is None
