"""Documents beside plain billing: the SI-UBL G-account extension and Peppol self-billing get the official
stylesheets made for them, and their verdicts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.builder import build_ubl
from integrations.peppol.model import GAccount
from integrations.peppol.model.checks import DocumentModelError as ModelError
from integrations.peppol.rules import CEN, G_ACCOUNT, PEPPOL, SELF_BILLING, SI_UBL
from integrations.peppol.stylesheet_choice import choose_stylesheets
from integrations.peppol.validation import Severity
from tests.integrations.peppol.builders import credit_note, invoice

G_IBAN = "NL02ABNA0123456789"


def g_account_invoice(**overrides):
    return invoice(g_account=GAccount(G_IBAN, Decimal("5.00"), account_name="G-rekening"), **overrides)


def rewritten(data: bytes, change) -> bytes:
    root = etree.fromstring(data)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fatal_rules(result) -> set[str]:
    return {rule for f in result.findings if f.severity is Severity.FATAL for rule in f.rule_ids}


# --- choice ----------------------------------------------------------------------------------------------------------


def test_each_customization_gets_its_stylesheets_and_a_pack_without_the_extension_falls_back():
    assert choose_stylesheets(ns.G_ACCOUNT_CUSTOMIZATION) == (G_ACCOUNT,)
    assert choose_stylesheets(ns.G_ACCOUNT_CUSTOMIZATION, available=()) == (SI_UBL,)
    assert choose_stylesheets(ns.PEPPOL_SELF_BILLING_CUSTOMIZATION) == (CEN, SELF_BILLING)
    assert choose_stylesheets(ns.PEPPOL_SELF_BILLING_CUSTOMIZATION, available=()) == (CEN, PEPPOL)


# --- G-account -------------------------------------------------------------------------------------------------------


def test_the_builder_makes_a_g_account_invoice_the_official_rules_accept(official_validator):
    data = build_ubl(g_account_invoice())

    result = official_validator.validate(data)

    assert result.valid, [(f.rule_id, f.message) for f in result.findings if f.severity is Severity.FATAL]
    assert "SI-UBL G 1.0.13" in result.rules_version
    root = etree.fromstring(data)
    assert root.findtext("cbc:CustomizationID", namespaces=ns.XPATH_NS) == ns.G_ACCOUNT_CUSTOMIZATION
    amounts = [Decimal(a) for a in root.xpath("cac:PaymentTerms/cbc:Amount/text()", namespaces=ns.XPATH_NS)]
    assert sum(amounts) == Decimal(root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ns.XPATH_NS))
    assert root.xpath("cac:PaymentMeans/cbc:ID/text()", namespaces=ns.XPATH_NS) == ["1", "GACCOUNT"]


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda root: root.remove(root.findall("cac:PaymentTerms", ns.XPATH_NS)[1]), "BR-GA-1"),
        (lambda root: setattr(root.findall("cac:PaymentTerms/cbc:Amount", ns.XPATH_NS)[1], "text", "4.00"), "BR-GA-3"),
        (lambda root: setattr(root.findall("cac:PaymentMeans/cbc:ID", ns.XPATH_NS)[1], "text", "OTHER"), "BR-GA-7"),
    ],
)
def test_breaking_a_g_account_rule_is_fatal(official_validator, change, rule):
    result = official_validator.validate(rewritten(build_ubl(g_account_invoice()), change))

    assert not result.valid
    assert rule in fatal_rules(result)


def test_a_g_account_invoice_needs_one_regular_payment_means_and_a_part_of_the_amount():
    with pytest.raises(ModelError, match="BR-GA-3"):
        invoice(g_account=GAccount(G_IBAN, Decimal("10000.00")))
    with pytest.raises(ModelError, match="not a credit note"):
        credit_note(g_account=GAccount(G_IBAN, Decimal("1.00")))
    with pytest.raises(ModelError, match="valid IBAN"):
        GAccount("NL00NOPE", Decimal("1.00"))


# --- self-billing ----------------------------------------------------------------------------------------------------


def self_billing(data: bytes) -> bytes:
    def change(root):
        root.find("cbc:CustomizationID", ns.XPATH_NS).text = ns.PEPPOL_SELF_BILLING_CUSTOMIZATION
        root.find("cbc:ProfileID", ns.XPATH_NS).text = ns.PEPPOL_SELF_BILLING_PROFILE
        root.find("cbc:InvoiceTypeCode", ns.XPATH_NS).text = "389"

    return rewritten(data, change)


def test_a_self_billing_invoice_is_checked_by_the_self_billing_rules_after_the_cen_rules(official_validator):
    result = official_validator.validate(self_billing(build_ubl(invoice())))

    assert result.valid
    assert result.rules_version == "CEN 1.3.16 + Peppol SB 2026.5"
    assert {f.source for f in result.findings} <= {CEN, SELF_BILLING}


def test_a_billing_document_is_not_checked_by_the_self_billing_rules(official_validator):
    result = official_validator.validate(build_ubl(invoice()))

    assert result.valid and result.rules_version == "CEN 1.3.16 + Peppol 3.0.21"


def test_breaking_a_self_billing_rule_is_fatal(official_validator):
    def wrong_type(root):
        root.find("cbc:InvoiceTypeCode", ns.XPATH_NS).text = "380"  # a self-billing invoice is 389

    result = official_validator.validate(rewritten(self_billing(build_ubl(invoice())), wrong_type))

    assert not result.valid
    assert any(f.source == SELF_BILLING and f.severity is Severity.FATAL for f in result.findings)
