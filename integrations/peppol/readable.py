"""A UBL Invoice or CreditNote as people read it: parties, lines, VAT breakdown, totals, payment, notes.

For display only. Read by ``integrations.peppol.reading.UblReader``, the same reader as the summary
(``parser.parse_document``), so the parties, VAT breakdown, totals, payment means and attachments are the same types;
this module adds what only people read (lines, allowances and charges, references, periods). Everything is read as
written in the document (nothing is recomputed: a document whose totals do not add up must be shown as it is, so the
validation findings beside it make sense). A document is never rejected for its content; only input that cannot be
read safely as UBL is refused, with ``XmlRejected`` from the hardened reader in ``integrations.peppol.xml``.

A hostile document cannot blow up the page: texts are cut to ``MAX_TEXT`` characters and at most ``MAX_LINES``
lines are kept (``line_count`` says how many there are). Embedded attachments are named, their content is not kept.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from integrations.peppol.code_labels import TYPE_CODE_LABELS, UNIT_LABELS, VAT_CATEGORY_LABELS
from integrations.peppol.document_types import DocumentType
from integrations.peppol.i18n import Text
from integrations.peppol.reading import (
    Attachment,
    Party,
    PaymentMeans,
    Totals,
    UblReader,
    VatBreakdown,
    findall,
    first,
    unique,
)
from integrations.peppol.xml import DEFAULT_MAX_BYTES, XmlRejected, find_ubl_document, parse_untrusted_xml

__all__ = [
    "MAX_LINES",
    "ReadableAllowanceCharge",
    "ReadableDocument",
    "ReadableLine",
    "XmlRejected",
    "read_document",
]

MAX_LINES = 500
MAX_TEXT = 2000

# --- the readable document ------------------------------------------------------------------------------------


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
class DocumentReference:
    """A cac:AdditionalDocumentReference without an attachment: a reference only (e.g. a timesheet's number, or
    with type code 130 an invoiced object), shown as such and never counted as an attachment."""

    document_id: str | None
    type_code: str | None
    description: str | None


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
    supplier: Party | None
    customer: Party | None
    lines: tuple[ReadableLine, ...]
    line_count: int  # all lines in the document; ``lines`` holds at most MAX_LINES of them
    allowance_charges: tuple[ReadableAllowanceCharge, ...]  # on the document
    vat_breakdown: tuple[VatBreakdown, ...]  # rates without trailing zeros (21, not 21.00)
    totals: Totals
    payment_means: tuple[PaymentMeans, ...]
    payment_terms: str | None
    notes: tuple[str, ...]
    attachments: tuple[Attachment, ...]  # only the references that carry an attachment, as the summary counts them
    warnings: tuple[Text, ...]
    references: tuple[DocumentReference, ...] = ()

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
    return _readable(UblReader(document, max_text=MAX_TEXT))


def _readable(reader: UblReader) -> ReadableDocument:
    doc = reader.document
    is_credit_note = reader.is_credit_note
    line_elements = findall(doc, "cac:CreditNoteLine" if is_credit_note else "cac:InvoiceLine")
    quantity_path = "cbc:CreditedQuantity" if is_credit_note else "cbc:InvoicedQuantity"
    payments = reader.payment_means()
    return ReadableDocument(
        **reader.header(payments),
        contract_reference=reader.first_text(doc, "cac:ContractDocumentReference/cbc:ID"),
        accounting_cost=reader.text(doc, "cbc:AccountingCost"),
        period_start=reader.date(doc, "cac:InvoicePeriod/cbc:StartDate"),
        period_end=reader.date(doc, "cac:InvoicePeriod/cbc:EndDate"),
        delivery_date=reader.date(first(doc, "cac:Delivery"), "cbc:ActualDeliveryDate"),
        lines=tuple(_line(reader, el, quantity_path) for el in line_elements[:MAX_LINES]),
        line_count=len(line_elements),
        allowance_charges=tuple(_allowance_charge(reader, el) for el in findall(doc, "cac:AllowanceCharge")),
        vat_breakdown=tuple(dataclasses.replace(vat, rate=_plain(vat.rate)) for vat in reader.vat_breakdown()),
        totals=reader.totals(),
        payment_means=payments,
        payment_terms=reader.first_text(doc, "cac:PaymentTerms/cbc:Note"),
        notes=unique(reader.texts(doc, "cbc:Note")),
        attachments=reader.attachments(),
        references=tuple(
            DocumentReference(
                document_id=reader.text(reference, "cbc:ID"),
                type_code=reader.text(reference, "cbc:DocumentTypeCode"),
                description=reader.text(reference, "cbc:DocumentDescription"),
            )
            for reference in findall(doc, "cac:AdditionalDocumentReference")
            if first(reference, "cac:Attachment") is None
        ),
        warnings=tuple(reader.warnings),
    )


def _line(reader: UblReader, line: etree._Element, quantity_path: str) -> ReadableLine:
    item = first(line, "cac:Item")
    category = first(item, "cac:ClassifiedTaxCategory")
    price = first(line, "cac:Price")
    return ReadableLine(
        id=reader.first_text(line, "cbc:ID"),
        name=reader.first_text(item, "cbc:Name"),
        description=reader.first_text(item, "cbc:Description"),
        seller_item_id=reader.first_text(item, "cac:SellersItemIdentification/cbc:ID"),
        quantity=_plain(reader.decimal(line, quantity_path)),
        unit_code=reader.attribute(first(line, quantity_path), "unitCode"),
        price=reader.decimal(price, "cbc:PriceAmount"),
        base_quantity=_plain(reader.decimal(price, "cbc:BaseQuantity")),
        vat_category=reader.first_text(category, "cbc:ID"),
        vat_rate=_plain(reader.decimal(category, "cbc:Percent")),
        line_total=reader.decimal(line, "cbc:LineExtensionAmount"),
        allowance_charges=tuple(_allowance_charge(reader, el) for el in findall(line, "cac:AllowanceCharge")),
        period_start=reader.date(line, "cac:InvoicePeriod/cbc:StartDate"),
        period_end=reader.date(line, "cac:InvoicePeriod/cbc:EndDate"),
        order_line_reference=reader.first_text(line, "cac:OrderLineReference/cbc:LineID"),
        note=reader.first_text(line, "cbc:Note"),
    )


def _allowance_charge(reader: UblReader, element: etree._Element) -> ReadableAllowanceCharge:
    category = first(element, "cac:TaxCategory")
    return ReadableAllowanceCharge(
        is_charge=(reader.first_text(element, "cbc:ChargeIndicator") or "").lower() == "true",
        amount=reader.decimal(element, "cbc:Amount"),
        reason=reader.first_text(element, "cbc:AllowanceChargeReason"),
        reason_code=reader.first_text(element, "cbc:AllowanceChargeReasonCode"),
        percentage=_plain(reader.decimal(element, "cbc:MultiplierFactorNumeric")),
        base_amount=reader.decimal(element, "cbc:BaseAmount"),
        vat_category=reader.first_text(category, "cbc:ID"),
        vat_rate=_plain(reader.decimal(category, "cbc:Percent")),
    )


def _plain(number: Decimal | None) -> Decimal | None:
    """A quantity or percentage without trailing zeros: 2.5 rather than 2.500, 100 rather than 1E+2."""
    return None if number is None else Decimal(f"{number.normalize():f}")
