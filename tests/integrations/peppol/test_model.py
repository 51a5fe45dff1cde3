"""The document model: its arithmetic (EN 16931 rounding) and what it refuses, in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from integrations.peppol.model import (
    AllowanceCharge,
    Attachment,
    DocumentModelError,
    Identifier,
    InvoiceLine,
    PaymentMeans,
    Vat,
    VatCategory,
    round_amount,
    vat_amount,
)
from tests.integrations.peppol.builders import (
    VAT_9,
    VAT_21,
    D,
    american_customer,
    belgian_customer,
    credit_note,
    document_allowance,
    document_charge,
    dutch_customer,
    dutch_supplier,
    intra_community_delivery,
    invoice,
    line,
)

# --- arithmetic -----------------------------------------------------------------------------------------


def test_amounts_round_half_up_not_to_even():
    assert round_amount(D("0.125")) == D("0.13")
    assert round_amount(D("0.135")) == D("0.14")
    assert round_amount(D("-0.125")) == D("-0.13")


def test_rounding_never_gives_negative_zero():
    assert str(round_amount(D("-0.001"))) == "0.00"


def test_three_times_a_third_of_a_euro_is_one_euro():
    document = invoice(lines=(line(quantity=D("3"), price=D("0.333")),))

    assert document.lines[0].net_amount == D("1.00")
    assert document.totals.line_extension == D("1.00")


def test_21_percent_of_five_cents_is_one_cent():
    assert vat_amount(D("0.05"), D("21")) == D("0.01")
    document = invoice(lines=(line(price=D("0.05")),))

    assert document.vat_breakdown[0].tax_amount == D("0.01")
    assert document.totals.tax_inclusive == D("0.06")


def test_vat_is_computed_on_the_taxable_amount_of_the_category_not_per_line():
    # Per line 21% of 0.10 is 0.021 -> 0.02, five times 0.10; on the sum 0.50 it is 0.105 -> 0.11.
    document = invoice(lines=tuple(line(n, price=D("0.10")) for n in range(1, 6)))

    assert document.vat_breakdown[0].taxable_amount == D("0.50")
    assert document.totals.vat_total == D("0.11")


def test_document_allowance_reduces_and_charge_increases_the_taxable_amount_of_its_rate():
    document = invoice(
        lines=(line(1, price=D("100")), line(2, price=D("50"), vat=VAT_9)),
        allowances_charges=(document_allowance("10.00"), document_charge("4.00", VAT_9)),
    )

    by_rate = {subtotal.rate: subtotal for subtotal in document.vat_breakdown}
    assert by_rate[D("21")].taxable_amount == D("90.00")
    assert by_rate[D("21")].tax_amount == D("18.90")
    assert by_rate[D("9")].taxable_amount == D("54.00")
    assert by_rate[D("9")].tax_amount == D("4.86")
    totals = document.totals
    assert (totals.line_extension, totals.allowance_total, totals.charge_total) == (D("150.00"), D("10.00"), D("4.00"))
    assert totals.tax_exclusive == D("144.00")
    assert totals.vat_total == D("23.76")
    assert totals.tax_inclusive == D("167.76")
    assert totals.payable == D("167.76")


def test_one_vat_breakdown_per_category_and_rate_in_order_of_appearance():
    document = invoice(
        lines=(line(1), line(2, vat=VAT_9), line(3), line(4, vat=Vat.zero_rated()), line(5, vat=VAT_9)),
    )

    assert [(s.category, s.rate) for s in document.vat_breakdown] == [
        (VatCategory.STANDARD, D("21")),
        (VatCategory.STANDARD, D("9")),
        (VatCategory.ZERO_RATED, D("0")),
    ]


def test_equal_rates_written_differently_share_one_breakdown():
    document = invoice(lines=(line(1, vat=Vat.standard(D("21"))), line(2, vat=Vat.standard(D("21.00")))))

    assert len(document.vat_breakdown) == 1


def test_line_net_amount_uses_base_quantity_price_discount_and_line_allowances_and_charges():
    item = line(
        quantity=D("2.5"),
        price=D("12.3456"),
        base_quantity=D("10"),
        price_discount=D("0.3456"),
        allowances_charges=(
            AllowanceCharge.allowance(D("0.50"), reason="Korting"),
            AllowanceCharge.charge(D("1.25"), reason_code="FC"),
        ),
    )

    assert item.net_price == D("12.0000")
    assert item.net_amount == D("3.75")  # 2.5 x 12 / 10 = 3.00, - 0.50 + 1.25


def test_fractional_quantities_are_rounded_only_at_the_line_net_amount():
    item = line(quantity=D("0.3333"), price=D("0.015"))

    assert item.net_amount == D("0.00")  # 0.0049995
    assert line(quantity=D("0.3334"), price=D("0.015")).net_amount == D("0.01")  # 0.005001


def test_prepaid_and_rounding_amounts_give_the_amount_due():
    document = invoice(lines=(line(price=D("10.00")),), prepaid_amount=D("5.00"), rounding_amount=D("-0.10"))

    assert document.totals.tax_inclusive == D("12.10")
    assert document.totals.payable == D("7.00")


def test_not_subject_to_vat_has_no_rate_and_no_vat():
    document = invoice(
        supplier=dutch_supplier(vat_id=""),
        customer=dutch_customer(vat_id=""),
        lines=(line(vat=Vat.not_subject()),),
    )

    assert document.vat_breakdown[0].rate is None
    assert document.totals.vat_total == D("0.00")


def test_percentage_allowance_must_match_its_base_amount():
    allowance = document_allowance("2.50", base_amount=D("25.00"), percentage=D("10"))

    assert allowance.amount == D("2.50")


# --- refusals -------------------------------------------------------------------------------------------


def refusal(build) -> DocumentModelError:
    with pytest.raises(DocumentModelError) as caught:
        build()
    error = caught.value
    assert error.message.en and error.message.nl and error.message.en != error.message.nl
    return error


def test_a_float_is_refused_with_a_hint_to_use_decimal():
    error = refusal(lambda: line(price=19.99))

    assert "float" in error.message.en and "Decimal" in error.message.en
    assert "Decimal" in error.message.nl
    assert error.where == "line 1.price"


@pytest.mark.parametrize("field", ["quantity", "price", "base_quantity", "price_discount"])
def test_floats_are_refused_in_every_number_of_a_line(field):
    refusal(lambda: line(**{field: 1.0}))


def test_a_float_vat_rate_is_refused():
    refusal(lambda: Vat.standard(21.0))


def test_a_float_prepaid_amount_is_refused():
    refusal(lambda: invoice(prepaid_amount=1.5))


def test_integers_are_accepted_as_exact_numbers():
    assert line(quantity=3, price=2).net_amount == D("6.00")


def test_a_document_without_lines_is_refused():
    error = refusal(lambda: invoice(lines=()))

    assert "BR-16" in error.message.en


def test_an_unknown_vat_category_is_refused():
    error = refusal(lambda: Vat("X", D("0")))

    assert "'X'" in error.message.en


def test_exempt_vat_without_a_reason_is_refused():
    error = refusal(lambda: Vat.exempt())

    assert "exemption reason" in error.message.en


@pytest.mark.parametrize("category", ["AE", "K", "G", "O"])
def test_every_exempt_category_needs_a_reason(category):
    refusal(lambda: Vat(category, None, exemption_reason_code="", exemption_reason=""))


def test_a_standard_rate_with_an_exemption_reason_is_refused():
    refusal(lambda: Vat(VatCategory.STANDARD, D("21"), exemption_reason="Vrijgesteld"))


def test_an_exemption_code_of_another_category_is_refused():
    refusal(lambda: Vat.exempt(code="VATEX-EU-G"))


def test_an_unknown_exemption_code_is_refused():
    refusal(lambda: Vat.exempt(code="VATEX-NL-NONSENSE"))


def test_standard_rate_zero_is_refused():
    error = refusal(lambda: Vat.standard(D("0")))

    assert "BR-S-05" in error.message.en


def test_zero_rated_with_a_rate_is_refused():
    refusal(lambda: Vat(VatCategory.ZERO_RATED, D("9")))


def test_not_subject_to_vat_with_a_rate_is_refused():
    refusal(lambda: Vat(VatCategory.NOT_SUBJECT, D("0"), exemption_reason="Not subject to VAT"))


@pytest.mark.parametrize("currency", ["EU", "euro", "eur", "XYZ", ""])
def test_a_currency_that_is_not_iso_4217_is_refused(currency):
    error = refusal(lambda: invoice(currency=currency))

    assert error.where == "currency"


def test_a_negative_quantity_on_a_credit_note_is_refused():
    error = refusal(lambda: credit_note(lines=(line(quantity=D("-1")),)))

    assert "credit note" in error.message.en


def test_a_negative_line_on_an_invoice_is_allowed_when_the_total_stays_positive():
    document = invoice(lines=(line(1, quantity=D("2")), line(2, quantity=D("-1"))))

    assert document.totals.line_extension == D("100.00")


def test_an_invoice_with_a_negative_total_is_refused_in_favour_of_a_credit_note():
    error = refusal(lambda: invoice(lines=(line(quantity=D("-1")),)))

    assert "credit note" in error.message.en and "creditnota" in error.message.nl


def test_a_credit_note_without_a_reference_to_the_invoice_is_refused():
    refusal(lambda: credit_note(billing_references=()))


def test_a_document_without_buyer_or_order_reference_is_refused():
    error = refusal(lambda: invoice(buyer_reference="", order_reference=""))

    assert "PEPPOL-EN16931-R003" in error.message.en


def test_an_order_reference_alone_is_enough():
    assert invoice(buyer_reference="", order_reference="ORD-1").order_reference == "ORD-1"


def test_not_subject_to_vat_with_a_vat_number_is_refused():
    error = refusal(lambda: invoice(lines=(line(vat=Vat.not_subject()),)))

    assert "BR-O-02" in error.message.en


def test_not_subject_to_vat_mixed_with_other_categories_is_refused():
    refusal(
        lambda: invoice(
            supplier=dutch_supplier(vat_id=""),
            customer=dutch_customer(vat_id=""),
            lines=(line(1, vat=Vat.not_subject()), line(2, vat=Vat.zero_rated())),
        )
    )


def test_vat_without_the_sellers_vat_number_is_refused():
    refusal(lambda: invoice(supplier=dutch_supplier(vat_id="")))


def test_intra_community_supply_needs_the_buyers_vat_number_and_the_delivery():
    k_line = (line(vat=Vat.intra_community()),)
    refusal(lambda: invoice(customer=belgian_customer(vat_id=""), lines=k_line, delivery=intra_community_delivery()))
    refusal(lambda: invoice(customer=belgian_customer(), lines=k_line))


def test_reverse_charge_needs_a_buyer_identification():
    refusal(
        lambda: invoice(
            customer=american_customer(),
            lines=(line(vat=Vat.reverse_charge()),),
        )
    )


def test_two_exemption_reasons_for_one_category_are_refused():
    refusal(
        lambda: invoice(
            lines=(
                line(1, vat=Vat.exempt(reason="Medische zorg")),
                line(2, vat=Vat.exempt(reason="Onderwijs")),
            )
        )
    )


def test_a_dutch_seller_needs_a_kvk_or_oin_registration():
    refusal(lambda: invoice(supplier=dutch_supplier(legal_id=None)))
    error = refusal(lambda: dutch_supplier(legal_id=Identifier("0208", "0403170701")))

    assert "NL-R-003" in error.message.en


def test_a_dutch_seller_needs_a_complete_address():
    refusal(lambda: invoice(supplier=dutch_supplier(address=replace(dutch_supplier().address, city=""))))


def test_a_vat_number_without_country_prefix_is_refused():
    refusal(lambda: dutch_supplier(vat_id="123456789B01"))


def test_an_unknown_electronic_address_scheme_is_refused():
    refusal(lambda: dutch_supplier(endpoint=Identifier("9999", "12345678")))


def test_a_document_allowance_without_vat_is_refused():
    refusal(lambda: invoice(allowances_charges=(AllowanceCharge.allowance(D("1.00"), reason="Korting"),)))


def test_a_line_allowance_with_its_own_vat_is_refused():
    refusal(lambda: line(allowances_charges=(document_allowance("1.00"),)))


def test_an_allowance_without_reason_is_refused():
    refusal(lambda: AllowanceCharge.allowance(D("1.00"), vat=VAT_21))


def test_an_allowance_reason_code_from_the_charge_list_is_refused():
    refusal(lambda: AllowanceCharge.allowance(D("1.00"), reason_code="FC", vat=VAT_21))


def test_an_allowance_amount_with_three_decimals_is_refused():
    error = refusal(lambda: document_allowance("1.005"))

    assert "2 decimals" in error.message.en


def test_a_percentage_allowance_that_does_not_add_up_is_refused():
    refusal(lambda: document_allowance("3.00", base_amount=D("25.00"), percentage=D("10")))


def test_a_negative_price_is_refused():
    refusal(lambda: line(price=D("-1")))


def test_a_price_discount_above_the_price_is_refused():
    refusal(lambda: line(price=D("10"), price_discount=D("11")))


def test_an_unknown_unit_code_is_refused():
    error = refusal(lambda: line(unit_code="UUR"))

    assert "UN/ECE" in error.message.en


def test_sepa_credit_transfer_needs_a_valid_iban():
    refusal(lambda: PaymentMeans("58"))
    refusal(lambda: PaymentMeans.sepa_credit_transfer("NL00BANK0123456789"))


def test_direct_debit_needs_a_mandate():
    error = refusal(lambda: PaymentMeans("59"))

    assert "PEPPOL-EN16931-R061" in error.message.en


def test_debit_transfer_between_dutch_parties_is_refused():
    error = refusal(lambda: invoice(payment_means=(PaymentMeans("31", iban="NL91ABNA0417164300"),)))

    assert "NL-R-008" in error.message.en


def test_different_payment_means_codes_in_one_document_are_refused():
    error = refusal(
        lambda: invoice(payment_means=(PaymentMeans.sepa_credit_transfer("NL91ABNA0417164300"), PaymentMeans("48")))
    )

    assert "UBL-SR-47" in error.message.en


def test_two_payment_references_in_one_document_are_refused():
    refusal(
        lambda: invoice(
            payment_means=(
                PaymentMeans.sepa_credit_transfer("NL91ABNA0417164300", payment_id="A"),
                PaymentMeans.sepa_credit_transfer("NL44RABO0123456789", payment_id="B"),
            )
        )
    )


def test_two_direct_debit_mandates_in_one_document_are_refused():
    refusal(lambda: invoice(payment_means=(PaymentMeans.sepa_direct_debit("M1"), PaymentMeans.sepa_direct_debit("M2"))))


def test_a_dutch_invoice_with_an_amount_due_needs_payment_means():
    refusal(lambda: invoice(payment_means=()))


def test_a_prepaid_amount_above_the_total_is_refused():
    refusal(lambda: invoice(prepaid_amount=D("1000.00")))


def test_an_attachment_type_peppol_does_not_allow_is_refused():
    refusal(lambda: Attachment(id="1", filename="a.zip", mime_code="application/zip", content=b"PK"))


def test_a_date_with_a_time_is_refused():
    refusal(lambda: invoice(issue_date=datetime(2025, 3, 14, 12, 0)))


def test_a_control_character_in_text_is_refused():
    refusal(lambda: line(name="Uren\x0bmaart"))


def test_blank_text_is_refused_where_required_and_where_optional():
    refusal(lambda: line(name="   "))
    refusal(lambda: invoice(note="  "))


def test_duplicate_line_ids_are_refused():
    refusal(lambda: invoice(lines=(line(1), line(1))))


def test_the_model_is_immutable_and_comparable():
    document = invoice()

    with pytest.raises(AttributeError):
        document.number = "other"  # type: ignore[misc]
    assert document == invoice()
    assert isinstance(document.lines, tuple)


def test_lists_are_accepted_and_stored_as_tuples():
    document = invoice(lines=[line()])

    assert document.lines == (line(),)


def test_errors_name_the_line_they_are_about():
    error = refusal(lambda: InvoiceLine("7", "Uren", D("1"), "HUR", D("-5"), VAT_21))

    assert error.where == "line 7.price"
    assert str(error).startswith("line 7.price: ")


def test_dates_are_real_dates():
    assert invoice(issue_date=date(2025, 1, 1)).issue_date == date(2025, 1, 1)
    refusal(lambda: invoice(issue_date="2025-01-01"))


def test_decimal_amounts_keep_cents_exactly():
    document = invoice(lines=(line(price=Decimal("19.99"), quantity=Decimal("3")),))

    assert document.totals.tax_inclusive == Decimal("72.56")  # 59.97 + 12.5937 -> 12.59
