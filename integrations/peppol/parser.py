"""A received UBL Invoice or CreditNote as a typed summary.

Handles Peppol BIS Billing 3.0, NLCIUS / SI-UBL 2.0 and plain EN 16931 UBL, bare or in an SBDH envelope. The summary
never rejects a document because of its content: what is missing is ``None`` (or an empty tuple), and what is present
but unusable (an amount that is no decimal, a date that is no date, an element that must appear once but appears
twice) is ``None`` or the first occurrence plus a bilingual entry in ``summary.warnings``. Only input that cannot be
read safely as UBL is refused, with ``XmlRejected`` from ``integrations.peppol.xml``; nothing else escapes
``parse_document``.

The document is read by ``integrations.peppol.reading.UblReader``, the same reader as the readable rendering
(``readable.read_document``); ``Party``, ``Identifier``, ``Attachment``, ``PaymentMeans`` and the other parts are its
types. Embedded attachments are described (file name, MIME code, decoded size, SHA-256) but their content is not kept:
``attachment_content(data, index)`` decodes one from the original bytes when it is needed.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from typing import Any

from integrations.peppol import namespaces as ns
from integrations.peppol.document_types import DocumentType
from integrations.peppol.i18n import Text
from integrations.peppol.reading import (
    Attachment,
    AttachmentUnavailable,
    Identifier,
    Party,
    PaymentMeans,
    Totals,
    UblReader,
    VatBreakdown,
    attachment_content,
    unique,
)
from integrations.peppol.xml import DEFAULT_MAX_BYTES, XmlRejected, find_ubl_document, parse_untrusted_xml

__all__ = [
    "Attachment",
    "AttachmentUnavailable",
    "DocumentSummary",
    "DocumentType",
    "Identifier",
    "Party",
    "PaymentMeans",
    "Totals",
    "VatBreakdown",
    "XmlRejected",
    "attachment_content",
    "parse_document",
]


@dataclass(frozen=True)
class DocumentSummary:
    document_type: DocumentType
    type_code: str | None  # cbc:InvoiceTypeCode / cbc:CreditNoteTypeCode: 380, 381, 384, 389, 326, ...
    customization_id: str | None
    profile_id: str | None
    number: str | None
    issue_date: datetime.date | None
    due_date: datetime.date | None  # invoice: cbc:DueDate; credit note: the first cac:PaymentMeans/cbc:PaymentDueDate
    currency: str | None
    tax_currency: str | None
    buyer_reference: str | None
    order_reference: str | None
    billing_references: tuple[str, ...]  # numbers of the invoices this document refers to (credit notes, corrections)
    supplier: Party | None
    customer: Party | None
    totals: Totals
    vat_breakdown: tuple[VatBreakdown, ...]
    payment_means: tuple[PaymentMeans, ...]
    attachments: tuple[Attachment, ...]
    sbdh_wrapped: bool
    warnings: tuple[Text, ...]
    notes: tuple[str, ...] = ()  # cbc:Note (BT-22), as written

    @property
    def is_credit_note(self) -> bool:
        return self.document_type is DocumentType.CREDIT_NOTE

    @property
    def syntax(self) -> str:
        """Which specification the CustomizationID claims: "peppol-bis3", "nlcius", "en16931" or "unknown"."""
        customization = " ".join((self.customization_id or "").split())
        if customization.startswith(ns.PEPPOL_BIS3_CUSTOMIZATION):
            return "peppol-bis3"
        if ns.NLCIUS_MARKER in customization:
            return "nlcius"
        if customization.startswith(ns.EN16931_PREFIX):
            return "en16931"
        return "unknown"

    @property
    def ibans(self) -> tuple[str, ...]:
        return unique(m.iban for m in self.payment_means if m.iban)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types: Decimals as strings (never float), dates ISO, texts as {"en", "nl"}; derived facts too."""
        result = _jsonable(self)
        result["syntax"] = self.syntax
        result["ibans"] = list(self.ibans)
        for key, party in (("supplier", self.supplier), ("customer", self.customer)):
            if party is not None:
                result[key]["kvk_numbers"] = list(party.kvk_numbers)
                result[key]["oins"] = list(party.oins)
        return result


def parse_document(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> DocumentSummary:
    """Summarise a received Invoice or CreditNote. Raises ``XmlRejected`` (only) for input that cannot be read as UBL."""
    tree = parse_untrusted_xml(data, max_bytes=max_bytes)
    document, wrapped = find_ubl_document(tree)
    return _summary(UblReader(document), sbdh_wrapped=wrapped)


def _summary(reader: UblReader, *, sbdh_wrapped: bool) -> DocumentSummary:
    doc = reader.document
    payment_means = reader.payment_means()
    return DocumentSummary(
        **reader.header(payment_means),
        profile_id=reader.text(doc, "cbc:ProfileID"),
        totals=reader.totals(),
        vat_breakdown=reader.vat_breakdown(),
        payment_means=payment_means,
        attachments=reader.attachments(),
        sbdh_wrapped=sbdh_wrapped,
        warnings=tuple(reader.warnings),
        notes=reader.texts(doc, "cbc:Note"),
    )


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    return value
