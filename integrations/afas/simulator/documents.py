"""The sales-invoice files the simulator files in the dossier, as Profit would on issuing with issue method R:
a Peppol BIS 3 UBL built with the project's own builder (so it passes the official rules) and a small PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree

from integrations.peppol.builder import build_ubl
from integrations.peppol.identifiers import (
    IdentifierSyntaxError,
    check_identifier,
    identifier_from_kvk,
    identifier_from_oin,
    identifier_from_vat,
    parse_identifier,
)
from integrations.peppol.model import (
    Address,
    Attachment,
    BillingReference,
    Contact,
    DocumentType,
    Identifier,
    InvoiceDocument,
    InvoiceLine,
    Party,
    PaymentMeans,
    Vat,
)

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NLCIUS_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"
# Demo IBAN that passes the mod-97 check (the one in every Dutch example).
DEMO_IBAN = "NL91ABNA0417164300"
VAT_CASES = ("21", "9", "0", "reverse_charge", "exempt")


def nl_vat(seed: str) -> str:
    """A Dutch VAT number whose nine digits pass the mod-11 check, derived from any digits."""
    base = (seed + "00000000")[:8]
    while True:
        for last in "0123456789":
            digits = base + last
            total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
            if total % 11 == 0:
                return f"NL{digits}B01"
        base = str(int(base) + 1).zfill(8)


def vat_for(case: str) -> Vat:
    if case == "21":
        return Vat.standard(Decimal("21"))
    if case == "9":
        return Vat.standard(Decimal("9"))
    if case == "0":
        return Vat.zero_rated()
    if case == "reverse_charge":
        return Vat.reverse_charge(reason="Btw verlegd")
    if case == "exempt":
        return Vat.exempt(reason="Vrijgesteld van btw")
    raise ValueError(f"unknown VAT case {case!r}; use one of {', '.join(VAT_CASES)}")


def customer_endpoint(debtor: dict[str, Any]) -> Identifier | None:
    """The Peppol address Profit would write for the debtor: EnId when valid, else OIN, KvK or VAT."""
    candidates = []
    if debtor.get("EnId"):
        candidates.append(lambda: parse_identifier(debtor["EnId"]))
    if debtor.get("OINr"):
        candidates.append(lambda: identifier_from_oin(debtor["OINr"]))
    if debtor.get("CcNr"):
        candidates.append(lambda: identifier_from_kvk(debtor["CcNr"]))
    if debtor.get("VaId"):
        candidates.append(lambda: identifier_from_vat(debtor["VaId"]))
    for make in candidates:
        try:
            identifier = make()
        except IdentifierSyntaxError:
            continue
        if check_identifier(identifier).status.value == "valid":
            return Identifier(identifier.scheme, identifier.value)
    return None


@dataclass(frozen=True)
class SalesInvoiceFiles:
    number: str
    ubl: bytes
    pdf: bytes
    total: str


CREDIT_NOTE_STYLES = ("bis3", "nlcius")


def build_sales_invoice(
    *,
    organisation: dict[str, Any],
    debtor: dict[str, Any],
    number: str,
    issue_date: date,
    lines: list[dict[str, Any]],
    credit_note: str | None = None,
    credits: str = "",
) -> SalesInvoiceFiles:
    """``lines``: ``{"description", "quantity", "price", "vat"}`` with vat one of ``VAT_CASES``.

    ``credit_note`` writes a credit note for invoice ``credits`` the two ways Profit does, by the customer's e-invoice
    format (profit-dossier-and-sales-invoice-ubl.md section 3): ``"bis3"`` a ``CreditNote`` root with type 381,
    ``"nlcius"`` an NLCIUS ``Invoice`` with type 384 and negative amounts."""
    if credit_note is not None and credit_note not in CREDIT_NOTE_STYLES:
        raise ValueError(f"credit_note must be one of {', '.join(CREDIT_NOTE_STYLES)}")
    kvk = organisation["kvk"]
    supplier = Party(
        name=organisation["name"],
        endpoint=Identifier("0106", kvk),
        legal_id=Identifier("0106", kvk),
        vat_id=organisation.get("vat") or nl_vat(kvk),
        address=Address(street="Molenweg 12", city="Zwolle", postal_zone="8011 AB", country_code="NL"),
        contact=Contact(name="Debiteurenadministratie", email="debiteuren@example.nl"),
    )
    endpoint = customer_endpoint(debtor)
    if endpoint is None:
        raise ValueError(f"debtor {debtor.get('DebtorId')} has no valid identifier to address a Peppol invoice to")
    legal_id = endpoint if endpoint.scheme in ("0106", "0190") else None
    customer = Party(
        name=debtor["DebtorName"],
        endpoint=endpoint,
        legal_id=legal_id,
        vat_id=debtor.get("VaId") or "",
        address=Address(street="Hoofdstraat 1", city="Utrecht", postal_zone="3511 AA", country_code="NL"),
    )
    invoice_lines = tuple(
        InvoiceLine(
            id=str(index),
            name=str(item.get("description") or f"Regel {index}"),
            quantity=Decimal(str(item.get("quantity", "1"))),
            unit_code=str(item.get("unit_code", "C62")),
            price=Decimal(str(item["price"])),
            vat=vat_for(str(item.get("vat", "21"))),
        )
        for index, item in enumerate(lines, start=1)
    )
    title = "Creditnota" if credit_note else "Factuur"
    pdf = render_pdf(f"{title} {number}", f"{debtor['DebtorName']} - {issue_date.isoformat()}")
    bis3_credit_note = credit_note == "bis3"
    document = InvoiceDocument(
        document_type=DocumentType.CREDIT_NOTE if bis3_credit_note else DocumentType.INVOICE,
        number=number,
        issue_date=issue_date,
        due_date=None if bis3_credit_note else issue_date + timedelta(days=30),
        billing_references=(BillingReference(credits, None),) if credit_note and credits else (),
        currency="EUR",
        supplier=supplier,
        customer=customer,
        lines=invoice_lines,
        buyer_reference=str(debtor.get("DebtorId")),
        payment_means=(PaymentMeans.sepa_credit_transfer(DEMO_IBAN, payment_id=number),),
        payment_terms="" if bis3_credit_note else "Betaling binnen 30 dagen",
        attachments=(
            Attachment(
                id=f"{number}.pdf",
                filename=f"{number}.pdf",
                mime_code="application/pdf",
                content=pdf,
                description=title,
            ),
        ),
    )
    ubl = build_ubl(document)
    total = f"{document.totals.payable:.2f}"
    if credit_note == "nlcius":
        ubl, total = _as_nlcius_credit(ubl), f"-{total}"
    return SalesInvoiceFiles(number=number, ubl=ubl, pdf=pdf, total=total)


_NEGATED = ("InvoicedQuantity", "LineExtensionAmount", "TaxAmount", "TaxableAmount", "TaxExclusiveAmount",
            "TaxInclusiveAmount", "PayableAmount")  # fmt: skip


def _as_nlcius_credit(ubl: bytes) -> bytes:
    """Profit's NLCIUS credit note: the invoice with the NLCIUS CustomizationID, type 384 and negative amounts
    (prices stay positive, quantities turn negative)."""
    root = etree.fromstring(ubl)
    root.find(f"{{{CBC}}}CustomizationID").text = NLCIUS_CUSTOMIZATION
    root.find(f"{{{CBC}}}InvoiceTypeCode").text = "384"
    for name in _NEGATED:
        for element in root.iter(f"{{{CBC}}}{name}"):
            if element.text and Decimal(element.text) != 0:
                element.text = f"-{element.text}"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def render_pdf(title: str, subtitle: str) -> bytes:
    """A one-page PDF with two lines of text and a correct cross-reference table."""

    def escape(text: str) -> str:
        safe = text.encode("latin-1", "replace").decode("latin-1")
        return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = f"BT /F1 18 Tf 72 760 Td ({escape(title)}) Tj 0 -28 Td /F1 11 Tf ({escape(subtitle)}) Tj ET".encode(
        "latin-1"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
