"""The one lenient reader of received UBL, and the parts of a document it reads.

Both views of a received Invoice or CreditNote are built from this reader: the summary the portal works with
(``parser.parse_document``) and the rendering people read (``readable.read_document``). A document is never rejected
for its content: what is missing is ``None`` (or an empty tuple); what is present but unusable (an amount that is no
decimal, a date that is no date, an element that must appear once but appears twice) is ``None`` or the first
occurrence plus a bilingual entry in ``warnings``. Every helper accepts the odd shapes hostile input can have
(missing, repeated, nested, empty, comments inside); refusing unsafe XML is ``integrations.peppol.xml``'s job.

To read a new element: add a field to the part it belongs to and read it in the matching ``UblReader`` method, with
``text``/``decimal``/``date`` when UBL allows it once (a repeat is then reported), ``first_text`` when it does not
matter.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.code_labels import PAYMENT_MEANS_LABELS, VAT_CATEGORY_LABELS
from integrations.peppol.document_types import DocumentType
from integrations.peppol.i18n import Text
from integrations.peppol.schemes import scheme_by_letters
from integrations.peppol.ubl_values import (
    attachment_references,
    attribute,
    currency_of,
    date_or_none,
    decimal_or_none,
    decode_base64,
    describe_location,
    element_text,
    findall,
    first,
    quote,
    unique,
)
from integrations.peppol.xml import DEFAULT_MAX_BYTES, find_ubl_document, parse_untrusted_xml

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


# --- the parts of a document ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """An identifier with its scheme, e.g. ``0106`` + ``12345678`` for a KvK number. ``scheme`` is None when absent."""

    value: str
    scheme: str | None = None

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}" if self.scheme else self.value


@dataclass(frozen=True)
class Address:
    """cac:PostalAddress as written."""

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
class Party:
    """The supplier (seller) or customer (buyer)."""

    endpoint_id: Identifier | None  # cbc:EndpointID, the Peppol address
    identifications: tuple[Identifier, ...]  # cac:PartyIdentification/cbc:ID
    legal_ids: tuple[Identifier, ...]  # cac:PartyLegalEntity/cbc:CompanyID (KvK: 0106, OIN: 0190)
    vat_ids: tuple[str, ...]  # cac:PartyTaxScheme/cbc:CompanyID with tax scheme VAT
    tax_registration_ids: tuple[Identifier, ...]  # other cac:PartyTaxScheme entries; scheme = the tax scheme id
    name: str | None  # cac:PartyName/cbc:Name (trading name)
    registration_name: str | None  # cac:PartyLegalEntity/cbc:RegistrationName
    country: str | None  # cac:PostalAddress/cac:Country/cbc:IdentificationCode
    address: Address | None = None
    contact_name: str | None = None
    contact_telephone: str | None = None
    contact_email: str | None = None
    empty_endpoint_scheme: str | None = None  # the scheme of an EndpointID written without a value

    @property
    def display_name(self) -> str | None:
        return self.name or self.registration_name

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_name or self.contact_telephone or self.contact_email)

    def ids_with_scheme(self, scheme: str) -> tuple[str, ...]:
        """Values of the endpoint id, party identifications and legal ids in ``scheme`` (e.g. "0106" KvK, "0190" OIN)."""
        candidates = [self.endpoint_id, *self.identifications, *self.legal_ids]
        return unique(i.value for i in candidates if i is not None and i.scheme == scheme)

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
        return unique(i for i in found if i is not None)


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
    # BT-111: the VAT total in the VAT accounting currency (cbc:TaxCurrencyCode, e.g. EUR for a Dutch firm), given
    # in a second cac:TaxTotal when the document is in another currency; None otherwise.
    vat_total_in_tax_currency: Decimal | None = None


@dataclass(frozen=True)
class VatBreakdown:
    """One cac:TaxTotal/cac:TaxSubtotal."""

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
class PaymentMeans:
    code: str | None  # UNCL4461: 30 credit transfer, 58 SEPA credit transfer, 49 direct debit, ...
    payment_id: str | None  # the payment reference (betalingskenmerk)
    account_id: str | None  # cac:PayeeFinancialAccount/cbc:ID as written: an IBAN, or another account number
    account_name: str | None
    due_date: datetime.date | None  # cbc:PaymentDueDate (credit notes carry their due date here)
    bic: str | None = None
    mandate_id: str | None = None

    @property
    def label(self) -> Text | None:
        return PAYMENT_MEANS_LABELS.get(self.code or "")

    @property
    def iban(self) -> str | None:
        """The account id, upper-case without spaces, when it has the shape of an IBAN (the checksum is not checked)."""
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
class Attachment:
    """A cac:AdditionalDocumentReference with an attachment; the content stays in the document."""

    index: int  # position among the document's attachments; the key for ``parser.attachment_content``
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
        """The decoded content, read again from ``data``, the document this attachment was read from."""
        return attachment_content(data, self.index, max_bytes=max_bytes)


class AttachmentUnavailable(LookupError):
    """The requested attachment does not exist, is not embedded, or its content is not valid base64."""

    def __init__(self, message: Text):
        super().__init__(message.en)
        self.message = message


def attachment_content(data: bytes, index: int, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The decoded content of attachment ``index`` (as numbered in ``DocumentSummary.attachments``) of ``data``."""
    tree = parse_untrusted_xml(data, max_bytes=max_bytes)
    document, _ = find_ubl_document(tree)
    references = list(attachment_references(document))
    if not 0 <= index < len(references):
        raise AttachmentUnavailable(
            Text(
                f"The document has no attachment {index}; it has {len(references)}.",
                f"Het document heeft geen bijlage {index}; het heeft er {len(references)}.",
            )
        )
    binary = first(references[index], "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
    if binary is None:
        raise AttachmentUnavailable(
            Text(
                f"Attachment {index} is not embedded in the document (it may be an external link).",
                f"Bijlage {index} zit niet in het document (misschien is het een externe link).",
            )
        )
    content = decode_base64(element_text(binary) or "")
    if content is None:
        raise AttachmentUnavailable(
            Text(
                f"The content of attachment {index} is not valid base64.",
                f"De inhoud van bijlage {index} is geen geldige base64.",
            )
        )
    return content


# --- the reader -----------------------------------------------------------------------------------------------


class UblReader:
    """Reads parts of one UBL document element and collects warnings while it goes.

    ``max_text`` cuts every text and attribute to that many characters (for display); None keeps them whole.
    """

    def __init__(self, document: etree._Element, *, max_text: int | None = None):
        self.document = document
        self.is_credit_note = document.tag == ns.CREDIT_NOTE_ROOT
        self.max_text = max_text
        self.warnings: list[Text] = []

    # -- single values

    def single(self, parent: etree._Element | None, path: str) -> etree._Element | None:
        """The element at ``path`` that UBL allows once; a repeated one is noted and the first is used."""
        found = findall(parent, path)
        if len(found) > 1:
            where = describe_location(parent, path)
            self.warnings.append(
                Text(
                    f"{where} appears {len(found)} times; the first is used.",
                    f"{where} komt {len(found)} keer voor; de eerste wordt gebruikt.",
                )
            )
        return found[0] if found else None

    def text(self, parent: etree._Element | None, path: str) -> str | None:
        return self._cut(element_text(self.single(parent, path)))

    def first_text(self, parent: etree._Element | None, path: str) -> str | None:
        return self._cut(element_text(first(parent, path)))

    def attribute(self, element: etree._Element | None, name: str) -> str | None:
        return self._cut(attribute(element, name))

    def decimal(self, parent: etree._Element | None, path: str) -> Decimal | None:
        raw = element_text(self.single(parent, path))
        if raw is None:
            return None
        number = decimal_or_none(raw)
        if number is None:
            self._unusable(parent, path, raw, "not a decimal number", "geen decimaal getal")
        return number

    def date(self, parent: etree._Element | None, path: str) -> datetime.date | None:
        raw = element_text(self.single(parent, path))
        if raw is None:
            return None
        day = date_or_none(raw)
        if day is None:
            self._unusable(parent, path, raw, "not a date (YYYY-MM-DD)", "geen datum (JJJJ-MM-DD)")
        return day

    def texts(self, parent: etree._Element | None, path: str) -> tuple[str, ...]:
        """The texts of every element at ``path``, empty ones left out."""
        return tuple(text for text in (self._cut(element_text(el)) for el in findall(parent, path)) if text)

    # -- the parts

    def party(self, path: str) -> Party | None:
        party = self.single(self.document, path)
        if party is None:
            return None
        vat_ids: list[str] = []
        tax_registrations: list[Identifier] = []
        for tax_scheme in findall(party, "cac:PartyTaxScheme"):
            company_id = self.first_text(tax_scheme, "cbc:CompanyID")
            if company_id is None:
                continue
            scheme = self.first_text(tax_scheme, "cac:TaxScheme/cbc:ID")
            if scheme is not None and scheme.upper() == "VAT":
                vat_ids.append(company_id)
            else:
                tax_registrations.append(Identifier(company_id, scheme))
        endpoint = self.single(party, "cbc:EndpointID")
        endpoint_id = self._identifier(endpoint)
        return Party(
            endpoint_id=endpoint_id,
            empty_endpoint_scheme=self._scheme(endpoint) if endpoint is not None and endpoint_id is None else None,
            identifications=self._identifiers(party, "cac:PartyIdentification/cbc:ID"),
            legal_ids=self._identifiers(party, "cac:PartyLegalEntity/cbc:CompanyID"),
            vat_ids=unique(vat_ids),
            tax_registration_ids=unique(tax_registrations),
            name=self.first_text(party, "cac:PartyName/cbc:Name"),
            registration_name=self.first_text(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
            country=self.text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
            address=self._address(first(party, "cac:PostalAddress")),
            contact_name=self.first_text(party, "cac:Contact/cbc:Name"),
            contact_telephone=self.first_text(party, "cac:Contact/cbc:Telephone"),
            contact_email=self.first_text(party, "cac:Contact/cbc:ElectronicMail"),
        )

    def totals(self) -> Totals:
        monetary = self.single(self.document, "cac:LegalMonetaryTotal")
        return Totals(
            line_extension=self.decimal(monetary, "cbc:LineExtensionAmount"),
            tax_exclusive=self.decimal(monetary, "cbc:TaxExclusiveAmount"),
            tax_inclusive=self.decimal(monetary, "cbc:TaxInclusiveAmount"),
            allowance_total=self.decimal(monetary, "cbc:AllowanceTotalAmount"),
            charge_total=self.decimal(monetary, "cbc:ChargeTotalAmount"),
            prepaid=self.decimal(monetary, "cbc:PrepaidAmount"),
            payable_rounding=self.decimal(monetary, "cbc:PayableRoundingAmount"),
            payable=self.decimal(monetary, "cbc:PayableAmount"),
            vat_total=self._vat_total(),
            vat_total_in_tax_currency=self._vat_total_in_tax_currency(),
        )

    def vat_breakdown(self) -> tuple[VatBreakdown, ...]:
        return tuple(self._vat(el) for el in findall(self.document, "cac:TaxTotal/cac:TaxSubtotal"))

    def payment_means(self) -> tuple[PaymentMeans, ...]:
        return tuple(self._payment_means(el) for el in findall(self.document, "cac:PaymentMeans"))

    def due_date(self, payment_means: tuple[PaymentMeans, ...]) -> datetime.date | None:
        """Invoice: cbc:DueDate; credit note: the first cac:PaymentMeans/cbc:PaymentDueDate."""
        if self.is_credit_note:
            return next((m.due_date for m in payment_means if m.due_date is not None), None)
        return self.date(self.document, "cbc:DueDate")

    def header(self, payment_means: tuple[PaymentMeans, ...]) -> dict:
        """What the summary and the readable rendering both show of the document itself: type, number, dates,
        currencies, references and the two parties."""
        doc = self.document
        return {
            "document_type": DocumentType.CREDIT_NOTE if self.is_credit_note else DocumentType.INVOICE,
            "type_code": self.text(doc, "cbc:CreditNoteTypeCode" if self.is_credit_note else "cbc:InvoiceTypeCode"),
            "customization_id": self.text(doc, "cbc:CustomizationID"),
            "number": self.text(doc, "cbc:ID"),
            "issue_date": self.date(doc, "cbc:IssueDate"),
            "due_date": self.due_date(payment_means),
            "currency": self.text(doc, "cbc:DocumentCurrencyCode"),
            "tax_currency": self.text(doc, "cbc:TaxCurrencyCode"),
            "buyer_reference": self.text(doc, "cbc:BuyerReference"),
            "order_reference": self.text(doc, "cac:OrderReference/cbc:ID"),
            "billing_references": self.billing_references(),
            "supplier": self.party("cac:AccountingSupplierParty/cac:Party"),
            "customer": self.party("cac:AccountingCustomerParty/cac:Party"),
        }

    def billing_references(self) -> tuple[str, ...]:
        """Numbers of the invoices this document refers to (credit notes, corrections)."""
        return unique(self.texts(self.document, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"))

    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(self._attachment(i, el) for i, el in enumerate(attachment_references(self.document)))

    # -- inside the parts

    def _address(self, address: etree._Element | None) -> Address | None:
        if address is None:
            return None
        return Address(
            street=self.first_text(address, "cbc:StreetName"),
            additional_street=self.first_text(address, "cbc:AdditionalStreetName"),
            address_line=self.first_text(address, "cac:AddressLine/cbc:Line"),
            postal_zone=self.first_text(address, "cbc:PostalZone"),
            city=self.first_text(address, "cbc:CityName"),
            subdivision=self.first_text(address, "cbc:CountrySubentity"),
            country=self.first_text(address, "cac:Country/cbc:IdentificationCode"),
        )

    def _vat_total(self) -> Decimal | None:
        # A document in a foreign currency has a second cac:TaxTotal in the VAT currency (without subtotals).
        tax_totals = findall(self.document, "cac:TaxTotal")
        if not tax_totals:
            return None
        currency = element_text(first(self.document, "cbc:DocumentCurrencyCode"))
        in_currency = [t for t in tax_totals if first(t, "cbc:TaxAmount") is not None and currency_of(t) == currency]
        return self.decimal((in_currency or tax_totals)[0], "cbc:TaxAmount")

    def _vat_total_in_tax_currency(self) -> Decimal | None:
        tax_currency = element_text(first(self.document, "cbc:TaxCurrencyCode"))
        currency = element_text(first(self.document, "cbc:DocumentCurrencyCode"))
        if not tax_currency or tax_currency == currency:
            return None
        in_tax_currency = [t for t in findall(self.document, "cac:TaxTotal") if currency_of(t) == tax_currency]
        return self.decimal(in_tax_currency[0], "cbc:TaxAmount") if in_tax_currency else None

    def _vat(self, subtotal: etree._Element) -> VatBreakdown:
        category = self.single(subtotal, "cac:TaxCategory")
        return VatBreakdown(
            category=self.text(category, "cbc:ID"),
            rate=self.decimal(category, "cbc:Percent"),
            taxable_amount=self.decimal(subtotal, "cbc:TaxableAmount"),
            tax_amount=self.decimal(subtotal, "cbc:TaxAmount"),
            exemption_reason_code=self.text(category, "cbc:TaxExemptionReasonCode"),
            exemption_reason=self.text(category, "cbc:TaxExemptionReason"),
        )

    def _payment_means(self, means: etree._Element) -> PaymentMeans:
        account = self.single(means, "cac:PayeeFinancialAccount")
        return PaymentMeans(
            code=self.text(means, "cbc:PaymentMeansCode"),
            payment_id=self.first_text(means, "cbc:PaymentID"),
            account_id=self.text(account, "cbc:ID"),
            account_name=self.text(account, "cbc:Name"),
            due_date=self.date(means, "cbc:PaymentDueDate"),
            bic=self.first_text(account, "cac:FinancialInstitutionBranch/cbc:ID"),
            mandate_id=self.first_text(means, "cac:PaymentMandate/cbc:ID"),
        )

    def _attachment(self, index: int, reference: etree._Element) -> Attachment:
        binary = first(reference, "cac:Attachment/cbc:EmbeddedDocumentBinaryObject")
        size = digest = None
        if binary is not None:
            content = decode_base64(element_text(binary) or "")
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
            document_id=self.first_text(reference, "cbc:ID"),
            description=self.first_text(reference, "cbc:DocumentDescription"),
            filename=self.attribute(binary, "filename"),
            mime_code=self.attribute(binary, "mimeCode"),
            size=size,
            sha256=digest,
            external_uri=self.first_text(reference, "cac:Attachment/cac:ExternalReference/cbc:URI"),
        )

    def _identifier(self, element: etree._Element | None) -> Identifier | None:
        """The element's value and scheme. A scheme written as its letter code (``schemeID="NL:KVK"`` in older
        Dutch UBL) is read as the ICD code it names."""
        value = self._cut(element_text(element))
        if value is None:
            return None
        return Identifier(value, self._scheme(element))

    def _scheme(self, element: etree._Element | None) -> str | None:
        scheme = self.attribute(element, "schemeID")
        if scheme is not None and not (len(scheme) == 4 and scheme.isdigit()):
            scheme = scheme_by_letters(scheme) or scheme
        return scheme

    def _identifiers(self, parent: etree._Element, path: str) -> tuple[Identifier, ...]:
        return unique(self._identifier(el) for el in findall(parent, path))

    def _unusable(self, parent: etree._Element | None, path: str, raw: str, what: str, wat: str) -> None:
        where = describe_location(parent, path)
        self.warnings.append(
            Text(
                f"{where} is {what} ({quote(raw)}); it is left empty.",
                f"{where} is {wat} ({quote(raw)}); het blijft leeg.",
            )
        )

    def _cut(self, text: str | None) -> str | None:
        if text is None or self.max_text is None or len(text) <= self.max_text:
            return text
        return f"{text[: self.max_text]}…"
