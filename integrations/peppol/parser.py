"""A received UBL Invoice or CreditNote as a typed summary.

Handles Peppol BIS Billing 3.0, NLCIUS / SI-UBL 2.0 and plain EN 16931 UBL, bare or in an SBDH envelope. The summary
never rejects a document because of its content: what is missing is ``None`` (or an empty tuple), and what is present
but unusable (an amount that is no decimal, a date that is no date, an element that must appear once but appears
twice) is ``None`` or the first occurrence plus a bilingual entry in ``summary.warnings``. Only input that cannot be
read safely as UBL is refused, with ``XmlRejected`` from ``integrations.peppol.xml``; nothing else escapes
``parse_document``.

Embedded attachments are described (file name, MIME code, decoded size, SHA-256) but their content is not kept:
``attachment_content(data, index)`` decodes one from the original bytes when it is needed.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.document_types import DocumentType
from integrations.peppol.i18n import Text
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

# An xsd:decimal, ASCII digits only (Decimal() would also take "1e5", "NaN", "Infinity", "1_000" and Arabic digits).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# No invoice amount or percentage needs more; longer strings are refused before Decimal sees them.
MAX_DECIMAL_CHARS = 40
# An xsd:date; Peppol forbids the time zone, but it is harmless and ignored here.
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
# Values from the document quoted in warnings are cut to this length.
_QUOTE_LIMIT = 60


@dataclass(frozen=True)
class Identifier:
    """An identifier with its scheme, e.g. ``0106`` + ``12345678`` for a KvK number. ``scheme`` is None when absent."""

    value: str
    scheme: str | None = None

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}" if self.scheme else self.value


@dataclass(frozen=True)
class Party:
    """The supplier (seller) or customer (buyer)."""

    endpoint_id: Identifier | None
    identifications: tuple[Identifier, ...]  # cac:PartyIdentification/cbc:ID
    legal_ids: tuple[Identifier, ...]  # cac:PartyLegalEntity/cbc:CompanyID
    vat_ids: tuple[str, ...]  # cac:PartyTaxScheme/cbc:CompanyID with tax scheme VAT
    tax_registration_ids: tuple[Identifier, ...]  # other cac:PartyTaxScheme entries; scheme = the tax scheme id
    name: str | None  # cac:PartyName/cbc:Name (trading name)
    registration_name: str | None  # cac:PartyLegalEntity/cbc:RegistrationName
    country: str | None  # cac:PostalAddress/cac:Country/cbc:IdentificationCode

    @property
    def display_name(self) -> str | None:
        return self.name or self.registration_name

    def ids_with_scheme(self, scheme: str) -> tuple[str, ...]:
        """Values of the endpoint id, party identifications and legal ids in ``scheme`` (e.g. "0106" KvK, "0190" OIN)."""
        candidates = [self.endpoint_id, *self.identifications, *self.legal_ids]
        return _unique(i.value for i in candidates if i is not None and i.scheme == scheme)

    @property
    def kvk_numbers(self) -> tuple[str, ...]:
        return self.ids_with_scheme("0106")

    @property
    def oins(self) -> tuple[str, ...]:
        return self.ids_with_scheme("0190")

    @property
    def all_identifiers(self) -> tuple[Identifier, ...]:
        """Every identifier of the party, VAT numbers with scheme "VAT"; for recognising the same supplier again."""
        found = [
            self.endpoint_id,
            *self.identifications,
            *self.legal_ids,
            *(Identifier(v, "VAT") for v in self.vat_ids),
        ]
        return _unique(i for i in found if i is not None)


@dataclass(frozen=True)
class Totals:
    """cac:LegalMonetaryTotal, plus the VAT total of cac:TaxTotal in the document currency."""

    line_extension: Decimal | None
    tax_exclusive: Decimal | None
    tax_inclusive: Decimal | None
    allowance_total: Decimal | None
    charge_total: Decimal | None
    prepaid: Decimal | None
    payable_rounding: Decimal | None
    payable: Decimal | None
    vat_total: Decimal | None


@dataclass(frozen=True)
class VatBreakdown:
    """One cac:TaxTotal/cac:TaxSubtotal."""

    category: str | None
    rate: Decimal | None
    taxable_amount: Decimal | None
    tax_amount: Decimal | None
    exemption_reason_code: str | None
    exemption_reason: str | None


@dataclass(frozen=True)
class PaymentMeans:
    code: str | None  # UNCL4461: 30 credit transfer, 58 SEPA credit transfer, 49 direct debit, ...
    payment_id: str | None
    account_id: str | None  # cac:PayeeFinancialAccount/cbc:ID as written: an IBAN, or another account number
    account_name: str | None
    due_date: datetime.date | None  # cbc:PaymentDueDate (credit notes carry their due date here)

    @property
    def iban(self) -> str | None:
        """The account id, upper-case without spaces, when it has the shape of an IBAN (the checksum is not checked)."""
        if self.account_id is None:
            return None
        compact = re.sub(r"\s+", "", self.account_id).upper()
        return compact if _IBAN.fullmatch(compact) else None


@dataclass(frozen=True)
class Attachment:
    """A cac:AdditionalDocumentReference with an attachment; the content stays in the document (``content(data)``)."""

    index: int  # position in ``DocumentSummary.attachments``; the key for ``attachment_content``
    document_id: str | None
    description: str | None
    filename: str | None
    mime_code: str | None
    size: int | None  # bytes of the decoded content; None when not embedded or not valid base64
    sha256: str | None  # hex digest of the decoded content
    external_uri: str | None

    @property
    def embedded(self) -> bool:
        return self.size is not None

    def content(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        """The decoded content, read again from ``data``, the document this summary was made from."""
        return attachment_content(data, self.index, max_bytes=max_bytes)


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
        return _unique(m.iban for m in self.payment_means if m.iban)

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


class AttachmentUnavailable(LookupError):
    """The requested attachment does not exist, is not embedded, or its content is not valid base64."""

    def __init__(self, message: Text):
        super().__init__(message.en)
        self.message = message


def parse_document(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> DocumentSummary:
    """Summarise a received Invoice or CreditNote. Raises ``XmlRejected`` (only) for input that cannot be read as UBL."""
    tree = parse_untrusted_xml(data, max_bytes=max_bytes)
    document, wrapped = find_ubl_document(tree)
    return _Reader(document).summary(sbdh_wrapped=wrapped)


def attachment_content(data: bytes, index: int, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The decoded content of attachment ``index`` (as numbered in ``DocumentSummary.attachments``) of ``data``."""
    tree = parse_untrusted_xml(data, max_bytes=max_bytes)
    document, _ = find_ubl_document(tree)
    references = list(_attachment_references(document))
    if not 0 <= index < len(references):
        raise AttachmentUnavailable(
            Text(
                f"The document has no attachment {index}; it has {len(references)}.",
                f"Het document heeft geen bijlage {index}; het heeft er {len(references)}.",
            )
        )
    binary = _first(references[index], "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
    if binary is None:
        raise AttachmentUnavailable(
            Text(
                f"Attachment {index} is not embedded in the document (it may be an external link).",
                f"Bijlage {index} zit niet in het document (misschien is het een externe link).",
            )
        )
    content = _decode_base64(_element_text(binary) or "")
    if content is None:
        raise AttachmentUnavailable(
            Text(
                f"The content of attachment {index} is not valid base64.",
                f"De inhoud van bijlage {index} is geen geldige base64.",
            )
        )
    return content


# Reading ------------------------------------------------------------------------------------------------------------


class _Reader:
    """Reads one UBL document element; collects warnings while it goes."""

    def __init__(self, document: etree._Element):
        self.document = document
        self.warnings: list[Text] = []

    def summary(self, *, sbdh_wrapped: bool) -> DocumentSummary:
        doc = self.document
        is_credit_note = doc.tag == ns.CREDIT_NOTE_ROOT
        payment_means = tuple(self._payment_means(el) for el in _findall(doc, "cac:PaymentMeans"))
        currency = self._text(doc, "cbc:DocumentCurrencyCode")
        if is_credit_note:
            due_date = next((m.due_date for m in payment_means if m.due_date is not None), None)
        else:
            due_date = self._date(doc, "cbc:DueDate")
        return DocumentSummary(
            document_type=DocumentType.CREDIT_NOTE if is_credit_note else DocumentType.INVOICE,
            type_code=self._text(doc, "cbc:CreditNoteTypeCode" if is_credit_note else "cbc:InvoiceTypeCode"),
            customization_id=self._text(doc, "cbc:CustomizationID"),
            profile_id=self._text(doc, "cbc:ProfileID"),
            number=self._text(doc, "cbc:ID"),
            issue_date=self._date(doc, "cbc:IssueDate"),
            due_date=due_date,
            currency=currency,
            tax_currency=self._text(doc, "cbc:TaxCurrencyCode"),
            buyer_reference=self._text(doc, "cbc:BuyerReference"),
            order_reference=self._text(doc, "cac:OrderReference/cbc:ID"),
            billing_references=_unique(
                _element_text(el) for el in _findall(doc, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
            ),
            supplier=self._party(doc, "cac:AccountingSupplierParty/cac:Party"),
            customer=self._party(doc, "cac:AccountingCustomerParty/cac:Party"),
            totals=self._totals(doc, currency),
            vat_breakdown=tuple(self._vat(el) for el in _findall(doc, "cac:TaxTotal/cac:TaxSubtotal")),
            payment_means=payment_means,
            attachments=tuple(self._attachment(i, el) for i, el in enumerate(_attachment_references(doc))),
            sbdh_wrapped=sbdh_wrapped,
            warnings=tuple(self.warnings),
            notes=tuple(text for text in (_element_text(el) for el in _findall(doc, "cbc:Note")) if text),
        )

    # -- single values

    def _single(self, parent: etree._Element, path: str) -> etree._Element | None:
        """The element at ``path`` that UBL allows once; a repeated one is noted and the first is used."""
        found = _findall(parent, path)
        if len(found) > 1:
            where = describe_location(parent, path)
            self.warnings.append(
                Text(
                    f"{where} appears {len(found)} times; the first is used.",
                    f"{where} komt {len(found)} keer voor; de eerste wordt gebruikt.",
                )
            )
        return found[0] if found else None

    def _text(self, parent: etree._Element | None, path: str) -> str | None:
        if parent is None:
            return None
        return _element_text(self._single(parent, path))

    def _decimal(self, parent: etree._Element | None, path: str) -> Decimal | None:
        if parent is None:
            return None
        element = self._single(parent, path)
        raw = _element_text(element)
        if raw is None:
            return None
        number = decimal_or_none(raw)
        if number is not None:
            return number
        where = describe_location(parent, path)
        self.warnings.append(
            Text(
                f"{where} is not a decimal number ({_quote(raw)}); it is left empty.",
                f"{where} is geen decimaal getal ({_quote(raw)}); het blijft leeg.",
            )
        )
        return None

    def _date(self, parent: etree._Element | None, path: str) -> datetime.date | None:
        if parent is None:
            return None
        raw = self._text(parent, path)
        if raw is None:
            return None
        day = date_or_none(raw)
        if day is not None:
            return day
        where = describe_location(parent, path)
        self.warnings.append(
            Text(
                f"{where} is not a date (YYYY-MM-DD) ({_quote(raw)}); it is left empty.",
                f"{where} is geen datum (JJJJ-MM-DD) ({_quote(raw)}); het blijft leeg.",
            )
        )
        return None

    # -- groups

    def _party(self, doc: etree._Element, path: str) -> Party | None:
        party = self._single(doc, path)
        if party is None:
            return None
        vat_ids: list[str] = []
        tax_registrations: list[Identifier] = []
        for tax_scheme in _findall(party, "cac:PartyTaxScheme"):
            company_id = _element_text(_first(tax_scheme, "cbc:CompanyID"))
            if company_id is None:
                continue
            scheme = _element_text(_first(tax_scheme, "cac:TaxScheme/cbc:ID"))
            if scheme is not None and scheme.upper() == "VAT":
                vat_ids.append(company_id)
            else:
                tax_registrations.append(Identifier(company_id, scheme))
        return Party(
            endpoint_id=_identifier(self._single(party, "cbc:EndpointID")),
            identifications=_identifiers(_findall(party, "cac:PartyIdentification/cbc:ID")),
            legal_ids=_identifiers(_findall(party, "cac:PartyLegalEntity/cbc:CompanyID")),
            vat_ids=_unique(vat_ids),
            tax_registration_ids=_unique(tax_registrations),
            name=_element_text(_first(party, "cac:PartyName/cbc:Name")),
            registration_name=_element_text(_first(party, "cac:PartyLegalEntity/cbc:RegistrationName")),
            country=self._text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
        )

    def _totals(self, doc: etree._Element, currency: str | None) -> Totals:
        monetary = self._single(doc, "cac:LegalMonetaryTotal")
        return Totals(
            line_extension=self._decimal(monetary, "cbc:LineExtensionAmount"),
            tax_exclusive=self._decimal(monetary, "cbc:TaxExclusiveAmount"),
            tax_inclusive=self._decimal(monetary, "cbc:TaxInclusiveAmount"),
            allowance_total=self._decimal(monetary, "cbc:AllowanceTotalAmount"),
            charge_total=self._decimal(monetary, "cbc:ChargeTotalAmount"),
            prepaid=self._decimal(monetary, "cbc:PrepaidAmount"),
            payable_rounding=self._decimal(monetary, "cbc:PayableRoundingAmount"),
            payable=self._decimal(monetary, "cbc:PayableAmount"),
            vat_total=self._vat_total(doc, currency),
        )

    def _vat_total(self, doc: etree._Element, currency: str | None) -> Decimal | None:
        # A document in a foreign currency has a second cac:TaxTotal in the VAT currency (without subtotals).
        tax_totals = _findall(doc, "cac:TaxTotal")
        if not tax_totals:
            return None
        in_currency = [
            t for t in tax_totals if (_first(t, "cbc:TaxAmount") is not None) and _currency_of(t) == currency
        ]
        chosen = in_currency[0] if in_currency else tax_totals[0]
        return self._decimal(chosen, "cbc:TaxAmount")

    def _vat(self, subtotal: etree._Element) -> VatBreakdown:
        category = self._single(subtotal, "cac:TaxCategory")
        return VatBreakdown(
            category=self._text(category, "cbc:ID"),
            rate=self._decimal(category, "cbc:Percent"),
            taxable_amount=self._decimal(subtotal, "cbc:TaxableAmount"),
            tax_amount=self._decimal(subtotal, "cbc:TaxAmount"),
            exemption_reason_code=self._text(category, "cbc:TaxExemptionReasonCode"),
            exemption_reason=self._text(category, "cbc:TaxExemptionReason"),
        )

    def _payment_means(self, means: etree._Element) -> PaymentMeans:
        account = self._single(means, "cac:PayeeFinancialAccount")
        return PaymentMeans(
            code=self._text(means, "cbc:PaymentMeansCode"),
            payment_id=_element_text(_first(means, "cbc:PaymentID")),
            account_id=self._text(account, "cbc:ID"),
            account_name=self._text(account, "cbc:Name"),
            due_date=self._date(means, "cbc:PaymentDueDate"),
        )

    def _attachment(self, index: int, reference: etree._Element) -> Attachment:
        binary = _first(reference, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
        size = digest = None
        if binary is not None:
            content = _decode_base64(_element_text(binary) or "")
            if content is None:
                self.warnings.append(
                    Text(
                        f"The content of attachment {index} is not valid base64; its size is unknown.",
                        f"De inhoud van bijlage {index} is geen geldige base64; de grootte is onbekend.",
                    )
                )
            else:
                size, digest = len(content), hashlib.sha256(content).hexdigest()
        return Attachment(
            index=index,
            document_id=_element_text(_first(reference, "cbc:ID")),
            description=_element_text(_first(reference, "cbc:DocumentDescription")),
            filename=_attribute(binary, "filename"),
            mime_code=_attribute(binary, "mimeCode"),
            size=size,
            sha256=digest,
            external_uri=_element_text(_first(reference, "cac:Attachment/cac:ExternalReference/cbc:URI")),
        )


# Helpers: every one of them accepts the odd shapes hostile input can have (missing, repeated, nested, empty). -----


def _findall(parent: etree._Element, path: str) -> list[etree._Element]:
    return parent.findall(path, ns.XPATH_NS)


def _first(parent: etree._Element | None, path: str) -> etree._Element | None:
    if parent is None:
        return None
    return parent.find(path, ns.XPATH_NS)


def _element_text(element: etree._Element | None) -> str | None:
    """The element's own text (comments and processing instructions inside are skipped), stripped; "" is None."""
    if element is None:
        return None
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element if not isinstance(child.tag, str))
    text = "".join(parts).strip()
    return text or None


def _attribute(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = (element.get(name) or "").strip()
    return value or None


def _identifier(element: etree._Element | None) -> Identifier | None:
    value = _element_text(element)
    if value is None:
        return None
    return Identifier(value, _attribute(element, "schemeID"))


def _identifiers(elements: list[etree._Element]) -> tuple[Identifier, ...]:
    return _unique(i for i in (_identifier(el) for el in elements) if i is not None)


def _currency_of(parent: etree._Element) -> str | None:
    return _attribute(_first(parent, "cbc:TaxAmount"), "currencyID")


def _decode_base64(text: str) -> bytes | None:
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def _attachment_references(document: etree._Element) -> Iterator[etree._Element]:
    """The cac:AdditionalDocumentReference elements that carry an attachment, in document order."""
    for reference in _findall(document, "cac:AdditionalDocumentReference"):
        if _first(reference, "cac:Attachment") is not None:
            yield reference


def decimal_or_none(raw: str) -> Decimal | None:
    """A UBL decimal (no exponent, at most MAX_DECIMAL_CHARS characters), or None for anything else."""
    if len(raw) <= MAX_DECIMAL_CHARS and _DECIMAL.fullmatch(raw):
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            pass
    return None


def date_or_none(raw: str) -> datetime.date | None:
    """A UBL date (YYYY-MM-DD, optionally with a zone), or None for anything else."""
    match = _DATE.fullmatch(raw)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    return None


def describe_location(parent: etree._Element | None, path: str) -> str:
    """A readable location such as "LegalMonetaryTotal/PayableAmount" for messages."""
    steps = "/".join(step.split(":", 1)[-1] for step in path.split("/"))
    if parent is None:
        return steps
    parent_name = etree.QName(parent).localname if isinstance(parent.tag, str) else "?"
    if parent_name in ("Invoice", "CreditNote"):
        return steps
    return f"{parent_name}/{steps}"


def _quote(raw: str) -> str:
    shown = raw if len(raw) <= _QUOTE_LIMIT else f"{raw[:_QUOTE_LIMIT]}… ({len(raw):,} characters)"
    return repr(shown)


def _unique(items) -> tuple:
    """Items without repeats, in first-seen order, Nones dropped."""
    return tuple(dict.fromkeys(item for item in items if item is not None))


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
