"""A UBL Invoice or CreditNote as people read it: parties, lines, VAT breakdown, totals, payment, notes.

For display only. Everything is read as written in the document (nothing is recomputed: a document whose totals do
not add up must be shown as it is, so the validation findings beside it make sense). Like ``parser.parse_document``
this never rejects a document for its content: a missing value is ``None`` (or empty), a value that is no number or
no date is ``None`` plus a bilingual entry in ``warnings``. Only input that cannot be read safely as UBL is refused,
with ``XmlRejected`` from the hardened reader in ``integrations.peppol.xml``.

A hostile document cannot blow up the page: texts are cut to ``MAX_TEXT`` characters and at most ``MAX_LINES``
lines are kept (``line_count`` says how many there are). Embedded attachments are named, their content is not kept.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.code_labels import PAYMENT_MEANS_LABELS, TYPE_CODE_LABELS, UNIT_LABELS, VAT_CATEGORY_LABELS
from integrations.peppol.document_types import DocumentType
from integrations.peppol.i18n import Text
from integrations.peppol.parser import date_or_none, decimal_or_none, describe_location
from integrations.peppol.xml import DEFAULT_MAX_BYTES, XmlRejected, find_ubl_document, parse_untrusted_xml

__all__ = [
    "MAX_LINES",
    "ReadableAddress",
    "ReadableAllowanceCharge",
    "ReadableAttachment",
    "ReadableDocument",
    "ReadableLine",
    "ReadableParty",
    "ReadablePayment",
    "ReadableTotals",
    "ReadableVat",
    "XmlRejected",
    "read_document",
]

MAX_LINES = 500
MAX_TEXT = 2000

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")

# --- the readable document ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadableAddress:
    street: str | None
    additional_street: str | None
    address_line: str | None
    postal_zone: str | None
    city: str | None
    subdivision: str | None
    country: str | None

    @property
    def lines(self) -> tuple[str, ...]:
        """The address as it is written on an envelope, empty parts left out."""
        place = " ".join(part for part in (self.postal_zone, self.city) if part)
        parts = (self.street, self.additional_street, self.address_line, place, self.subdivision, self.country)
        return tuple(part for part in parts if part)


@dataclass(frozen=True)
class ReadableParty:
    name: str | None  # cac:PartyName/cbc:Name
    registration_name: str | None  # cac:PartyLegalEntity/cbc:RegistrationName
    endpoint_id: str | None  # "scheme:value", the Peppol address
    identifiers: tuple[str, ...]  # cac:PartyIdentification/cbc:ID, "scheme:value" when a scheme is given
    legal_ids: tuple[str, ...]  # cac:PartyLegalEntity/cbc:CompanyID (KvK: 0106, OIN: 0190)
    vat_ids: tuple[str, ...]
    address: ReadableAddress | None
    contact_name: str | None
    contact_telephone: str | None
    contact_email: str | None

    @property
    def display_name(self) -> str | None:
        return self.name or self.registration_name

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_name or self.contact_telephone or self.contact_email)


@dataclass(frozen=True)
class ReadableAllowanceCharge:
    """A discount (allowance) or charge, on the document or on a line."""

    is_charge: bool
    amount: Decimal | None
    reason: str | None
    reason_code: str | None
    percentage: Decimal | None
    base_amount: Decimal | None
    vat_category: str | None  # document level only
    vat_rate: Decimal | None


@dataclass(frozen=True)
class ReadableLine:
    id: str | None
    name: str | None
    description: str | None
    seller_item_id: str | None
    quantity: Decimal | None
    unit_code: str | None
    price: Decimal | None  # net unit price (cac:Price/cbc:PriceAmount)
    base_quantity: Decimal | None  # the price is per this many units (e.g. per 100)
    vat_category: str | None
    vat_rate: Decimal | None
    line_total: Decimal | None  # cbc:LineExtensionAmount: net, after line allowances and charges
    allowance_charges: tuple[ReadableAllowanceCharge, ...]
    period_start: datetime.date | None
    period_end: datetime.date | None
    order_line_reference: str | None
    note: str | None

    @property
    def unit_label(self) -> Text | None:
        return UNIT_LABELS.get(self.unit_code or "")

    @property
    def vat_category_label(self) -> Text | None:
        return VAT_CATEGORY_LABELS.get(self.vat_category or "")

    @property
    def price_in_cents(self) -> bool:
        """The price has at most 2 decimals, so it can be shown as an amount of money."""
        return self.price is not None and self.price.as_tuple().exponent >= -2  # type: ignore[operator]

    @property
    def price_per_several(self) -> bool:
        """The price is for a base quantity other than 1, so quantity × price is not the line total."""
        return self.base_quantity is not None and self.base_quantity != 1


@dataclass(frozen=True)
class ReadableVat:
    """One line of the VAT breakdown (cac:TaxTotal/cac:TaxSubtotal)."""

    category: str | None
    rate: Decimal | None
    taxable_amount: Decimal | None
    tax_amount: Decimal | None
    exemption_reason_code: str | None
    exemption_reason: str | None

    @property
    def category_label(self) -> Text | None:
        return VAT_CATEGORY_LABELS.get(self.category or "")


@dataclass(frozen=True)
class ReadableTotals:
    line_extension: Decimal | None  # sum of the line totals
    allowance_total: Decimal | None
    charge_total: Decimal | None
    tax_exclusive: Decimal | None
    tax: Decimal | None  # cac:TaxTotal/cbc:TaxAmount in the document currency
    tax_inclusive: Decimal | None
    prepaid: Decimal | None
    rounding: Decimal | None
    payable: Decimal | None


@dataclass(frozen=True)
class ReadablePayment:
    code: str | None  # UNCL 4461
    payment_id: str | None  # the payment reference (betalingskenmerk)
    account_id: str | None
    account_name: str | None
    bic: str | None
    mandate_id: str | None
    due_date: datetime.date | None

    @property
    def label(self) -> Text | None:
        return PAYMENT_MEANS_LABELS.get(self.code or "")

    @property
    def iban(self) -> str | None:
        """The account in IBAN shape (upper case, no spaces); None when it is another kind of account number."""
        if self.account_id is None:
            return None
        compact = re.sub(r"\s+", "", self.account_id).upper()
        return compact if _IBAN.fullmatch(compact) else None

    @property
    def iban_grouped(self) -> str | None:
        """The IBAN in groups of four, as it is printed on paper."""
        iban = self.iban
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if iban else None


@dataclass(frozen=True)
class ReadableAttachment:
    document_id: str | None
    description: str | None
    filename: str | None
    mime_code: str | None
    external_uri: str | None
    embedded: bool


@dataclass(frozen=True)
class ReadableDocument:
    document_type: DocumentType
    type_code: str | None
    customization_id: str | None
    number: str | None
    issue_date: datetime.date | None
    due_date: datetime.date | None
    currency: str | None
    tax_currency: str | None
    buyer_reference: str | None
    order_reference: str | None
    contract_reference: str | None
    billing_references: tuple[str, ...]
    accounting_cost: str | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    delivery_date: datetime.date | None
    supplier: ReadableParty | None
    customer: ReadableParty | None
    lines: tuple[ReadableLine, ...]
    line_count: int  # all lines in the document; ``lines`` holds at most MAX_LINES of them
    allowance_charges: tuple[ReadableAllowanceCharge, ...]  # on the document
    vat_breakdown: tuple[ReadableVat, ...]
    totals: ReadableTotals
    payment_means: tuple[ReadablePayment, ...]
    payment_terms: str | None
    notes: tuple[str, ...]
    attachments: tuple[ReadableAttachment, ...]
    warnings: tuple[Text, ...]

    @property
    def is_credit_note(self) -> bool:
        return self.document_type is DocumentType.CREDIT_NOTE

    @property
    def type_label(self) -> Text:
        if self.type_code in TYPE_CODE_LABELS:
            return TYPE_CODE_LABELS[self.type_code]
        return TYPE_CODE_LABELS["381" if self.is_credit_note else "380"]

    @property
    def lines_truncated(self) -> bool:
        return self.line_count > len(self.lines)

    @property
    def currency_or_default(self) -> str:
        """For formatting amounts: the document's currency, or EUR when it names none."""
        return self.currency or "EUR"


# --- reading --------------------------------------------------------------------------------------------------


def read_document(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadableDocument:
    """The document for display. Raises ``XmlRejected`` (only) for input that cannot be read safely as UBL."""
    tree = parse_untrusted_xml(data, max_bytes=max_bytes)
    document, _wrapped = find_ubl_document(tree)
    return _Reader(document).read()


class _Reader:
    def __init__(self, document: etree._Element):
        self.doc = document
        self.warnings: list[Text] = []

    def read(self) -> ReadableDocument:
        doc = self.doc
        is_credit_note = doc.tag == ns.CREDIT_NOTE_ROOT
        line_path = "cac:CreditNoteLine" if is_credit_note else "cac:InvoiceLine"
        quantity_path = "cbc:CreditedQuantity" if is_credit_note else "cbc:InvoicedQuantity"
        line_elements = _findall(doc, line_path)
        payments = tuple(self._payment(el) for el in _findall(doc, "cac:PaymentMeans"))
        due_date = (
            next((p.due_date for p in payments if p.due_date), None)
            if is_credit_note
            else self._date(doc, "cbc:DueDate")
        )
        currency = _text(doc, "cbc:DocumentCurrencyCode")
        delivery = _first(doc, "cac:Delivery")
        return ReadableDocument(
            document_type=DocumentType.CREDIT_NOTE if is_credit_note else DocumentType.INVOICE,
            type_code=_text(doc, "cbc:CreditNoteTypeCode" if is_credit_note else "cbc:InvoiceTypeCode"),
            customization_id=_text(doc, "cbc:CustomizationID"),
            number=_text(doc, "cbc:ID"),
            issue_date=self._date(doc, "cbc:IssueDate"),
            due_date=due_date,
            currency=currency,
            tax_currency=_text(doc, "cbc:TaxCurrencyCode"),
            buyer_reference=_text(doc, "cbc:BuyerReference"),
            order_reference=_text(doc, "cac:OrderReference/cbc:ID"),
            contract_reference=_text(doc, "cac:ContractDocumentReference/cbc:ID"),
            billing_references=_unique(
                _element_text(el) for el in _findall(doc, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
            ),
            accounting_cost=_text(doc, "cbc:AccountingCost"),
            period_start=self._date(doc, "cac:InvoicePeriod/cbc:StartDate"),
            period_end=self._date(doc, "cac:InvoicePeriod/cbc:EndDate"),
            delivery_date=self._date(delivery, "cbc:ActualDeliveryDate"),
            supplier=self._party(_first(doc, "cac:AccountingSupplierParty/cac:Party")),
            customer=self._party(_first(doc, "cac:AccountingCustomerParty/cac:Party")),
            lines=tuple(self._line(el, quantity_path) for el in line_elements[:MAX_LINES]),
            line_count=len(line_elements),
            allowance_charges=tuple(self._allowance_charge(el) for el in _findall(doc, "cac:AllowanceCharge")),
            vat_breakdown=tuple(self._vat(el) for el in _findall(doc, "cac:TaxTotal/cac:TaxSubtotal")),
            totals=self._totals(currency),
            payment_means=payments,
            payment_terms=_text(doc, "cac:PaymentTerms/cbc:Note"),
            notes=_unique(_element_text(el) for el in _findall(doc, "cbc:Note")),
            attachments=tuple(self._attachment(el) for el in _findall(doc, "cac:AdditionalDocumentReference")),
            warnings=tuple(self.warnings),
        )

    # -- values that can be wrong

    def _plain(self, parent: etree._Element | None, path: str) -> Decimal | None:
        """A quantity or percentage without trailing zeros: 2.5 rather than 2.500, 100 rather than 1E+2."""
        number = self._decimal(parent, path)
        return None if number is None else Decimal(f"{number.normalize():f}")

    def _decimal(self, parent: etree._Element | None, path: str) -> Decimal | None:
        raw = _text(parent, path)
        if raw is None:
            return None
        number = decimal_or_none(raw)
        if number is not None:
            return number
        where = describe_location(parent, path)
        self.warnings.append(
            Text(
                f"{where} is not a number ({_quote(raw)}); it is shown empty.",
                f"{where} is geen getal ({_quote(raw)}); het wordt leeg getoond.",
            )
        )
        return None

    def _date(self, parent: etree._Element | None, path: str) -> datetime.date | None:
        raw = _text(parent, path)
        if raw is None:
            return None
        day = date_or_none(raw)
        if day is not None:
            return day
        where = describe_location(parent, path)
        self.warnings.append(
            Text(
                f"{where} is not a date (YYYY-MM-DD) ({_quote(raw)}); it is shown empty.",
                f"{where} is geen datum (JJJJ-MM-DD) ({_quote(raw)}); het wordt leeg getoond.",
            )
        )
        return None

    # -- groups

    def _party(self, party: etree._Element | None) -> ReadableParty | None:
        if party is None:
            return None
        vat_ids = []
        for tax_scheme in _findall(party, "cac:PartyTaxScheme"):
            company_id = _text(tax_scheme, "cbc:CompanyID")
            scheme = (_text(tax_scheme, "cac:TaxScheme/cbc:ID") or "").upper()
            if company_id and scheme == "VAT":
                vat_ids.append(company_id)
        address = _first(party, "cac:PostalAddress")
        return ReadableParty(
            name=_text(party, "cac:PartyName/cbc:Name"),
            registration_name=_text(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
            endpoint_id=_identifier(_first(party, "cbc:EndpointID")),
            identifiers=_unique(_identifier(el) for el in _findall(party, "cac:PartyIdentification/cbc:ID")),
            legal_ids=_unique(_identifier(el) for el in _findall(party, "cac:PartyLegalEntity/cbc:CompanyID")),
            vat_ids=_unique(vat_ids),
            address=None
            if address is None
            else ReadableAddress(
                street=_text(address, "cbc:StreetName"),
                additional_street=_text(address, "cbc:AdditionalStreetName"),
                address_line=_text(address, "cac:AddressLine/cbc:Line"),
                postal_zone=_text(address, "cbc:PostalZone"),
                city=_text(address, "cbc:CityName"),
                subdivision=_text(address, "cbc:CountrySubentity"),
                country=_text(address, "cac:Country/cbc:IdentificationCode"),
            ),
            contact_name=_text(party, "cac:Contact/cbc:Name"),
            contact_telephone=_text(party, "cac:Contact/cbc:Telephone"),
            contact_email=_text(party, "cac:Contact/cbc:ElectronicMail"),
        )

    def _line(self, line: etree._Element, quantity_path: str) -> ReadableLine:
        item = _first(line, "cac:Item")
        category = _first(item, "cac:ClassifiedTaxCategory")
        price = _first(line, "cac:Price")
        quantity = _first(line, quantity_path)
        return ReadableLine(
            id=_text(line, "cbc:ID"),
            name=_text(item, "cbc:Name"),
            description=_text(item, "cbc:Description"),
            seller_item_id=_text(item, "cac:SellersItemIdentification/cbc:ID"),
            quantity=self._plain(line, quantity_path),
            unit_code=_attribute(quantity, "unitCode"),
            price=self._decimal(price, "cbc:PriceAmount"),
            base_quantity=self._plain(price, "cbc:BaseQuantity"),
            vat_category=_text(category, "cbc:ID"),
            vat_rate=self._plain(category, "cbc:Percent"),
            line_total=self._decimal(line, "cbc:LineExtensionAmount"),
            allowance_charges=tuple(self._allowance_charge(el) for el in _findall(line, "cac:AllowanceCharge")),
            period_start=self._date(line, "cac:InvoicePeriod/cbc:StartDate"),
            period_end=self._date(line, "cac:InvoicePeriod/cbc:EndDate"),
            order_line_reference=_text(line, "cac:OrderLineReference/cbc:LineID"),
            note=_text(line, "cbc:Note"),
        )

    def _allowance_charge(self, element: etree._Element) -> ReadableAllowanceCharge:
        category = _first(element, "cac:TaxCategory")
        return ReadableAllowanceCharge(
            is_charge=(_text(element, "cbc:ChargeIndicator") or "").lower() == "true",
            amount=self._decimal(element, "cbc:Amount"),
            reason=_text(element, "cbc:AllowanceChargeReason"),
            reason_code=_text(element, "cbc:AllowanceChargeReasonCode"),
            percentage=self._plain(element, "cbc:MultiplierFactorNumeric"),
            base_amount=self._decimal(element, "cbc:BaseAmount"),
            vat_category=_text(category, "cbc:ID"),
            vat_rate=self._plain(category, "cbc:Percent"),
        )

    def _vat(self, subtotal: etree._Element) -> ReadableVat:
        category = _first(subtotal, "cac:TaxCategory")
        return ReadableVat(
            category=_text(category, "cbc:ID"),
            rate=self._plain(category, "cbc:Percent"),
            taxable_amount=self._decimal(subtotal, "cbc:TaxableAmount"),
            tax_amount=self._decimal(subtotal, "cbc:TaxAmount"),
            exemption_reason_code=_text(category, "cbc:TaxExemptionReasonCode"),
            exemption_reason=_text(category, "cbc:TaxExemptionReason"),
        )

    def _totals(self, currency: str | None) -> ReadableTotals:
        monetary = _first(self.doc, "cac:LegalMonetaryTotal")
        return ReadableTotals(
            line_extension=self._decimal(monetary, "cbc:LineExtensionAmount"),
            allowance_total=self._decimal(monetary, "cbc:AllowanceTotalAmount"),
            charge_total=self._decimal(monetary, "cbc:ChargeTotalAmount"),
            tax_exclusive=self._decimal(monetary, "cbc:TaxExclusiveAmount"),
            tax=self._tax_total(currency),
            tax_inclusive=self._decimal(monetary, "cbc:TaxInclusiveAmount"),
            prepaid=self._decimal(monetary, "cbc:PrepaidAmount"),
            rounding=self._decimal(monetary, "cbc:PayableRoundingAmount"),
            payable=self._decimal(monetary, "cbc:PayableAmount"),
        )

    def _tax_total(self, currency: str | None) -> Decimal | None:
        # A document in a foreign currency has a second cac:TaxTotal in the VAT currency, without subtotals.
        tax_totals = _findall(self.doc, "cac:TaxTotal")
        if not tax_totals:
            return None
        in_currency = [t for t in tax_totals if _attribute(_first(t, "cbc:TaxAmount"), "currencyID") == currency]
        return self._decimal((in_currency or tax_totals)[0], "cbc:TaxAmount")

    def _payment(self, means: etree._Element) -> ReadablePayment:
        return ReadablePayment(
            code=_text(means, "cbc:PaymentMeansCode"),
            payment_id=_text(means, "cbc:PaymentID"),
            account_id=_text(means, "cac:PayeeFinancialAccount/cbc:ID"),
            account_name=_text(means, "cac:PayeeFinancialAccount/cbc:Name"),
            bic=_text(means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"),
            mandate_id=_text(means, "cac:PaymentMandate/cbc:ID"),
            due_date=self._date(means, "cbc:PaymentDueDate"),
        )

    def _attachment(self, reference: etree._Element) -> ReadableAttachment:
        binary = _first(reference, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
        return ReadableAttachment(
            document_id=_text(reference, "cbc:ID"),
            description=_text(reference, "cbc:DocumentDescription"),
            filename=_attribute(binary, "filename"),
            mime_code=_attribute(binary, "mimeCode"),
            external_uri=_text(reference, "cac:Attachment/cac:ExternalReference/cbc:URI"),
            embedded=binary is not None,
        )


# --- small helpers that accept every odd shape hostile input can have ---------------------------------------------


def _findall(parent: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if parent is None else parent.findall(path, ns.XPATH_NS)


def _first(parent: etree._Element | None, path: str) -> etree._Element | None:
    return None if parent is None else parent.find(path, ns.XPATH_NS)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]}…"


def _element_text(element: etree._Element | None) -> str | None:
    """The element's own text (comments inside skipped), stripped and cut to MAX_TEXT; "" is None."""
    if element is None:
        return None
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element if not isinstance(child.tag, str))
    text = "".join(parts).strip()
    return _cut(text) if text else None


def _text(parent: etree._Element | None, path: str) -> str | None:
    """The text of the first element at ``path``."""
    return _element_text(_first(parent, path))


def _attribute(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = (element.get(name) or "").strip()
    return _cut(value) if value else None


def _identifier(element: etree._Element | None) -> str | None:
    value = _element_text(element)
    if value is None:
        return None
    scheme = _attribute(element, "schemeID")
    return f"{scheme}:{value}" if scheme else value


def _unique(items) -> tuple:
    return tuple(dict.fromkeys(item for item in items if item is not None))


def _quote(raw: str, limit: int = 60) -> str:
    return repr(raw if len(raw) <= limit else f"{raw[:limit]}…")
