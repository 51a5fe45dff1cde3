"""Example Peppol documents for tests: a Dutch seller, Dutch and foreign buyers, invoices and credit notes.

Every helper takes keyword overrides, so a test states only what it is about.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from integrations.peppol.model import (
    Address,
    AllowanceCharge,
    Attachment,
    BillingReference,
    Contact,
    Delivery,
    DocumentType,
    Identifier,
    InvoiceDocument,
    InvoiceLine,
    Party,
    PaymentMeans,
    Vat,
)

D = Decimal
VAT_21 = Vat.standard(D("21"))
VAT_9 = Vat.standard(D("9"))

# A minimal valid PDF: enough for an attachment test, small enough to read in a diff.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def dutch_address(**overrides: Any) -> Address:
    fields: dict[str, Any] = {
        "street": "Keizersgracht 1",
        "city": "Amsterdam",
        "postal_zone": "1015 CJ",
        "country_code": "NL",
    }
    return Address(**(fields | overrides))


def dutch_supplier(**overrides: Any) -> Party:
    fields: dict[str, Any] = {
        "name": "Accountantskantoor De Boer B.V.",
        "endpoint": Identifier("0106", "12345678"),
        "legal_id": Identifier("0106", "12345678"),
        "vat_id": "NL123456789B01",
        "address": dutch_address(),
        "contact": Contact(name="Administratie", email="facturen@deboer.example"),
    }
    return Party(**(fields | overrides))


def dutch_customer(**overrides: Any) -> Party:
    fields: dict[str, Any] = {
        "name": "Bakkerij Jansen V.O.F.",
        "endpoint": Identifier("0106", "87654321"),
        "legal_id": Identifier("0106", "87654321"),
        "vat_id": "NL987654321B01",
        "address": dutch_address(street="Dorpsstraat 12", city="Utrecht", postal_zone="3511 AB"),
    }
    return Party(**(fields | overrides))


def belgian_customer(**overrides: Any) -> Party:
    fields: dict[str, Any] = {
        "name": "Brouwerij Peeters NV",
        "endpoint": Identifier("0208", "0403170701"),
        "legal_id": Identifier("0208", "0403170701"),
        "vat_id": "BE0403170701",
        "address": Address(street="Grote Markt 1", city="Antwerpen", postal_zone="2000", country_code="BE"),
    }
    return Party(**(fields | overrides))


def american_customer(**overrides: Any) -> Party:
    fields: dict[str, Any] = {
        "name": "Acme Corporation",
        "endpoint": Identifier("0060", "123456789"),
        "address": Address(street="1 Main Street", city="Springfield", postal_zone="12345", country_code="US"),
    }
    return Party(**(fields | overrides))


def line(number: int = 1, **overrides: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "id": str(number),
        "name": f"Advieswerkzaamheden {number}",
        "quantity": D("1"),
        "unit_code": "HUR",
        "price": D("100.00"),
        "vat": VAT_21,
    }
    return InvoiceLine(**(fields | overrides))


def invoice(**overrides: Any) -> InvoiceDocument:
    fields: dict[str, Any] = {
        "document_type": DocumentType.INVOICE,
        "number": "F2025-0001",
        "issue_date": date(2025, 3, 14),
        "due_date": date(2025, 4, 13),
        "currency": "EUR",
        "supplier": dutch_supplier(),
        "customer": dutch_customer(),
        "lines": (line(),),
        "buyer_reference": "PO-4711",
        "payment_means": (PaymentMeans.sepa_credit_transfer("NL91ABNA0417164300", payment_id="F2025-0001"),),
        "payment_terms": "Betaling binnen 30 dagen",
    }
    return InvoiceDocument(**(fields | overrides))


def credit_note(**overrides: Any) -> InvoiceDocument:
    fields: dict[str, Any] = {
        "document_type": DocumentType.CREDIT_NOTE,
        "number": "C2025-0001",
        "billing_references": (BillingReference("F2025-0001", date(2025, 3, 14)),),
        "due_date": None,
        "payment_terms": "",
    }
    return invoice(**(fields | overrides))


def pdf_attachment(**overrides: Any) -> Attachment:
    fields: dict[str, Any] = {
        "id": "F2025-0001.pdf",
        "filename": "F2025-0001.pdf",
        "mime_code": "application/pdf",
        "content": TINY_PDF,
        "description": "Factuur als PDF",
    }
    return Attachment(**(fields | overrides))


def intra_community_delivery() -> Delivery:
    return Delivery(date=date(2025, 3, 10), address=belgian_customer().address)


def document_allowance(amount: str, vat: Vat = VAT_21, **overrides: Any) -> AllowanceCharge:
    return AllowanceCharge.allowance(D(amount), reason="Korting", reason_code="95", vat=vat, **overrides)


def document_charge(amount: str, vat: Vat = VAT_21, **overrides: Any) -> AllowanceCharge:
    return AllowanceCharge.charge(D(amount), reason="Verzendkosten", reason_code="FC", vat=vat, **overrides)


__all__ = [
    "D",
    "TINY_PDF",
    "VAT_21",
    "VAT_9",
    "american_customer",
    "belgian_customer",
    "credit_note",
    "document_allowance",
    "document_charge",
    "dutch_address",
    "dutch_customer",
    "dutch_supplier",
    "intra_community_delivery",
    "invoice",
    "line",
    "pdf_attachment",
    "replace",
]
