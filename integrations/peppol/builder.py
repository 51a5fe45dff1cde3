"""Write an ``InvoiceDocument`` as Peppol BIS Billing 3.0 UBL (Invoice 380 or CreditNote 381).

The model has already refused whatever the official rules would refuse and computed every total, so this module
only writes elements, in exactly the order of the UBL 2.1 XSD sequences (Invoice and CreditNote differ in a
few places, marked below). Optional elements are left out when empty: Peppol forbids empty elements
(PEPPOL-EN16931-R008). The output is deterministic: the same document always gives the same bytes.
"""

from __future__ import annotations

import base64
from decimal import Decimal

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.model import (
    Address,
    AllowanceCharge,
    DocumentType,
    InvoiceDocument,
    InvoiceLine,
    Party,
    PaymentMeans,
    Period,
    Vat,
    VatCategory,
    round_amount,
)

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_CBC = f"{{{ns.CBC}}}"
_CAC = f"{{{ns.CAC}}}"


# The payment means identifiers of a G-account invoice (NL-GA-04); the G-account's is fixed by BR-GA-7.
REGULAR_MEANS_ID = "1"
G_ACCOUNT_MEANS_ID = "GACCOUNT"


def build_ubl(document: InvoiceDocument) -> bytes:
    """The UBL 2.1 XML of the document: UTF-8 with an XML declaration."""
    body = etree.tostring(_Writer(document).root(), encoding="UTF-8", pretty_print=True)
    return XML_DECLARATION + body


def format_amount(value: Decimal) -> str:
    """Money: always exactly 2 decimals (BR-DEC-*)."""
    return f"{round_amount(value):f}"


def format_price(value: Decimal) -> str:
    """Unit prices keep their decimals (3 × 0.333 stays 0.333) but show at least cents."""
    normalized = value.normalize()
    if normalized.as_tuple().exponent >= -2:  # type: ignore[operator]
        return format_amount(value)
    return f"{normalized:f}"


def format_quantity(value: Decimal) -> str:
    """Quantities and percentages without trailing zeros or exponent: 2.5, 250, 0.001."""
    return f"{value.normalize():f}" if value else "0"


class _Writer:
    def __init__(self, document: InvoiceDocument):
        self.document = document
        self.currency = document.currency
        self.is_credit_note = document.document_type is DocumentType.CREDIT_NOTE

    # -- small helpers --

    def text(self, parent: etree._Element, name: str, value: str | None, **attributes: str) -> etree._Element | None:
        if value is None or not value.strip():
            return None
        element = etree.SubElement(parent, _CBC + name, **attributes)
        element.text = value
        return element

    def amount(self, parent: etree._Element, name: str, value: Decimal) -> None:
        self.text(parent, name, format_amount(value), currencyID=self.currency)

    def aggregate(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, _CAC + name)

    # -- the document --

    def root(self) -> etree._Element:
        document = self.document
        if self.is_credit_note:
            root = etree.Element(ns.CREDIT_NOTE_ROOT, nsmap=ns.NSMAP_CREDIT_NOTE)
        else:
            root = etree.Element(ns.INVOICE_ROOT, nsmap=ns.NSMAP_INVOICE)
        customization = ns.G_ACCOUNT_CUSTOMIZATION if document.g_account else ns.PEPPOL_BIS3_CUSTOMIZATION
        self.text(root, "CustomizationID", customization)
        self.text(root, "ProfileID", ns.PEPPOL_BIS3_PROFILE)
        self.text(root, "ID", document.number)
        self.text(root, "IssueDate", document.issue_date.isoformat())
        if self.is_credit_note:
            # CreditNote: TaxPointDate before the type code; there is no DueDate (it goes in PaymentMeans).
            self.date(root, "TaxPointDate", document.tax_point_date)
            self.text(root, "CreditNoteTypeCode", DocumentType.CREDIT_NOTE.type_code)
            self.text(root, "Note", document.note)
        else:
            self.date(root, "DueDate", document.due_date)
            self.text(root, "InvoiceTypeCode", DocumentType.INVOICE.type_code)
            self.text(root, "Note", document.note)
            self.date(root, "TaxPointDate", document.tax_point_date)
        self.text(root, "DocumentCurrencyCode", self.currency)
        self.text(root, "BuyerReference", document.buyer_reference)
        if document.invoice_period:
            self.period(root, "InvoicePeriod", document.invoice_period)
        if document.order_reference:
            self.text(self.aggregate(root, "OrderReference"), "ID", document.order_reference)
        for reference in document.billing_references:
            invoice = self.aggregate(self.aggregate(root, "BillingReference"), "InvoiceDocumentReference")
            self.text(invoice, "ID", reference.invoice_number)
            self.date(invoice, "IssueDate", reference.issue_date)
        for attachment in document.attachments:
            reference = self.aggregate(root, "AdditionalDocumentReference")
            self.text(reference, "ID", attachment.id)
            self.text(reference, "DocumentDescription", attachment.description)
            self.text(
                self.aggregate(reference, "Attachment"),
                "EmbeddedDocumentBinaryObject",
                base64.b64encode(attachment.content).decode("ascii"),
                mimeCode=attachment.mime_code,
                filename=attachment.filename,
            )
        self.party(self.aggregate(root, "AccountingSupplierParty"), document.supplier, document.sepa_creditor_id)
        self.party(self.aggregate(root, "AccountingCustomerParty"), document.customer, "")
        if document.delivery:
            delivery = self.aggregate(root, "Delivery")
            self.date(delivery, "ActualDeliveryDate", document.delivery.date)
            if document.delivery.address:
                self.address(
                    self.aggregate(self.aggregate(delivery, "DeliveryLocation"), "Address"), document.delivery.address
                )
        if document.g_account:
            self.g_account_payment(root)
        else:
            for means in document.payment_means:
                self.payment_means(root, means)
            if document.payment_terms:
                self.text(self.aggregate(root, "PaymentTerms"), "Note", document.payment_terms)
        for adjustment in document.allowances_charges:
            self.allowance_charge(root, adjustment)
        self.tax_total(root)
        self.monetary_total(root)
        for line in document.lines:
            self.line(root, line)
        return root

    def date(self, parent: etree._Element, name: str, value: object) -> None:
        if value is not None:
            self.text(parent, name, value.isoformat())  # type: ignore[attr-defined]

    def period(self, parent: etree._Element, name: str, period: Period) -> None:
        element = self.aggregate(parent, name)
        self.date(element, "StartDate", period.start)
        self.date(element, "EndDate", period.end)

    def address(self, element: etree._Element, address: Address) -> None:
        self.text(element, "StreetName", address.street)
        self.text(element, "AdditionalStreetName", address.additional_street)
        self.text(element, "CityName", address.city)
        self.text(element, "PostalZone", address.postal_zone)
        self.text(element, "CountrySubentity", address.country_subdivision)
        if address.address_line:
            self.text(self.aggregate(element, "AddressLine"), "Line", address.address_line)
        self.text(self.aggregate(element, "Country"), "IdentificationCode", address.country_code)

    def party(self, role: etree._Element, party: Party, sepa_creditor_id: str) -> None:
        element = self.aggregate(role, "Party")
        self.text(element, "EndpointID", party.endpoint.value, schemeID=party.endpoint.scheme)
        if sepa_creditor_id:
            # BT-90, the seller's SEPA creditor id, lives in the seller's party identification.
            self.text(self.aggregate(element, "PartyIdentification"), "ID", sepa_creditor_id, schemeID="SEPA")
        if party.trading_name:
            self.text(self.aggregate(element, "PartyName"), "Name", party.trading_name)
        self.address(self.aggregate(element, "PostalAddress"), party.address)
        if party.vat_id:
            tax_scheme = self.aggregate(element, "PartyTaxScheme")
            self.text(tax_scheme, "CompanyID", party.vat_id)
            self.text(self.aggregate(tax_scheme, "TaxScheme"), "ID", "VAT")
        legal = self.aggregate(element, "PartyLegalEntity")
        self.text(legal, "RegistrationName", party.name)
        if party.legal_id:
            self.text(legal, "CompanyID", party.legal_id.value, schemeID=party.legal_id.scheme)
        if party.contact:
            contact = self.aggregate(element, "Contact")
            self.text(contact, "Name", party.contact.name)
            self.text(contact, "Telephone", party.contact.telephone)
            self.text(contact, "ElectronicMail", party.contact.email)

    def g_account_payment(self, root: etree._Element) -> None:
        """SI-UBL G-account: the regular payment means and the G-account (ID GACCOUNT, same code), each with payment
        terms that say how much of the amount due goes there (BR-GA-1..7)."""
        document = self.document
        regular = document.payment_means[0]
        g_account = PaymentMeans(regular.code, payment_id=regular.payment_id, iban=document.g_account.iban,
                                 account_name=document.g_account.account_name)  # fmt: skip
        self.payment_means(root, regular, means_id=REGULAR_MEANS_ID)
        self.payment_means(root, g_account, means_id=G_ACCOUNT_MEANS_ID)
        regular_amount = document.totals.payable - document.g_account.amount
        for means_id, amount, note in ((REGULAR_MEANS_ID, regular_amount, document.payment_terms),
                                       (G_ACCOUNT_MEANS_ID, document.g_account.amount, "")):  # fmt: skip
            terms = self.aggregate(root, "PaymentTerms")
            self.text(terms, "PaymentMeansID", means_id)
            self.text(terms, "Note", note)
            self.amount(terms, "Amount", amount)

    def payment_means(self, root: etree._Element, means: PaymentMeans, *, means_id: str = "") -> None:
        element = self.aggregate(root, "PaymentMeans")
        self.text(element, "ID", means_id)
        self.text(element, "PaymentMeansCode", means.code)
        if self.is_credit_note:
            self.date(element, "PaymentDueDate", self.document.due_date)
        self.text(element, "PaymentID", means.payment_id)
        if means.iban:
            account = self.aggregate(element, "PayeeFinancialAccount")
            self.text(account, "ID", means.iban)
            self.text(account, "Name", means.account_name)
            if means.bic:
                self.text(self.aggregate(account, "FinancialInstitutionBranch"), "ID", means.bic)
        if means.mandate_id:
            mandate = self.aggregate(element, "PaymentMandate")
            self.text(mandate, "ID", means.mandate_id)
            if means.payer_iban:
                self.text(self.aggregate(mandate, "PayerFinancialAccount"), "ID", means.payer_iban)

    def allowance_charge(self, parent: etree._Element, adjustment: AllowanceCharge) -> None:
        element = self.aggregate(parent, "AllowanceCharge")
        self.text(element, "ChargeIndicator", "true" if adjustment.is_charge else "false")
        self.text(element, "AllowanceChargeReasonCode", adjustment.reason_code)
        self.text(element, "AllowanceChargeReason", adjustment.reason)
        if adjustment.percentage is not None:
            self.text(element, "MultiplierFactorNumeric", format_quantity(adjustment.percentage))
        self.amount(element, "Amount", adjustment.amount)
        if adjustment.base_amount is not None:
            self.amount(element, "BaseAmount", adjustment.base_amount)
        if adjustment.vat is not None:
            self.tax_category(element, "TaxCategory", adjustment.vat, with_exemption=False)

    def tax_category(self, parent: etree._Element, name: str, vat: Vat, *, with_exemption: bool) -> None:
        element = self.aggregate(parent, name)
        self.text(element, "ID", vat.category.value)
        if vat.category is not VatCategory.NOT_SUBJECT:
            self.text(element, "Percent", vat.rate_text)
        if with_exemption:
            self.text(element, "TaxExemptionReasonCode", vat.exemption_reason_code)
            self.text(element, "TaxExemptionReason", vat.exemption_reason)
        self.text(self.aggregate(element, "TaxScheme"), "ID", "VAT")

    def tax_total(self, root: etree._Element) -> None:
        element = self.aggregate(root, "TaxTotal")
        self.amount(element, "TaxAmount", self.document.totals.vat_total)
        for subtotal in self.document.vat_breakdown:
            sub = self.aggregate(element, "TaxSubtotal")
            self.amount(sub, "TaxableAmount", subtotal.taxable_amount)
            self.amount(sub, "TaxAmount", subtotal.tax_amount)
            self.tax_category(sub, "TaxCategory", subtotal.vat, with_exemption=True)

    def monetary_total(self, root: etree._Element) -> None:
        totals = self.document.totals
        has_allowances = any(not a.is_charge for a in self.document.allowances_charges)
        has_charges = any(a.is_charge for a in self.document.allowances_charges)
        element = self.aggregate(root, "LegalMonetaryTotal")
        self.amount(element, "LineExtensionAmount", totals.line_extension)
        self.amount(element, "TaxExclusiveAmount", totals.tax_exclusive)
        self.amount(element, "TaxInclusiveAmount", totals.tax_inclusive)
        if has_allowances:
            self.amount(element, "AllowanceTotalAmount", totals.allowance_total)
        if has_charges:
            self.amount(element, "ChargeTotalAmount", totals.charge_total)
        if totals.prepaid:
            self.amount(element, "PrepaidAmount", totals.prepaid)
        if totals.rounding:
            self.amount(element, "PayableRoundingAmount", totals.rounding)
        self.amount(element, "PayableAmount", totals.payable)

    def line(self, root: etree._Element, line: InvoiceLine) -> None:
        element = self.aggregate(root, "CreditNoteLine" if self.is_credit_note else "InvoiceLine")
        self.text(element, "ID", line.id)
        self.text(element, "Note", line.note)
        self.text(
            element,
            "CreditedQuantity" if self.is_credit_note else "InvoicedQuantity",
            format_quantity(line.quantity),
            unitCode=line.unit_code,
        )
        self.amount(element, "LineExtensionAmount", line.net_amount)
        if line.period:
            self.period(element, "InvoicePeriod", line.period)
        for adjustment in line.allowances_charges:
            self.allowance_charge(element, adjustment)
        item = self.aggregate(element, "Item")
        self.text(item, "Description", line.description)
        self.text(item, "Name", line.name)
        if line.buyers_item_id:
            self.text(self.aggregate(item, "BuyersItemIdentification"), "ID", line.buyers_item_id)
        if line.sellers_item_id:
            self.text(self.aggregate(item, "SellersItemIdentification"), "ID", line.sellers_item_id)
        self.tax_category(item, "ClassifiedTaxCategory", line.vat, with_exemption=False)
        price = self.aggregate(element, "Price")
        self.text(price, "PriceAmount", format_price(line.net_price), currencyID=self.currency)
        if line.base_quantity is not None:
            self.text(price, "BaseQuantity", format_quantity(line.base_quantity), unitCode=line.unit_code)
        if line.price_discount:
            discount = self.aggregate(price, "AllowanceCharge")
            self.text(discount, "ChargeIndicator", "false")
            self.text(discount, "Amount", format_price(line.price_discount), currencyID=self.currency)
            self.text(discount, "BaseAmount", format_price(line.price), currencyID=self.currency)
