"""The world the stack's runs work with: AFAS debtor rows of the demo customers (``integrations.demo_data``) and
purchase invoices from numbered suppliers, as the benchmarks and the campaigns send and receive them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal


def debtor_rows() -> list[dict]:
    from integrations.demo_data import CUSTOMERS

    return [
        {
            "DebtorId": customer.number,
            "DebtorName": customer.name,
            "BcCo": f"ORG{customer.number}",
            "CcNr": customer.kvk or None,
            "VaId": customer.vat or None,
            "OINr": customer.oin or None,
            "EnId": customer.econnect_id or None,
            "InPv": customer.issue_method,
            "Email": f"administratie@{customer.number}.example.nl",
            "Blocked": False,
            "ModifiedDate": "2025-01-10T09:00:00Z",
        }
        for customer in CUSTOMERS
    ]


def purchase_document(customer, supplier_index: int, number: str, issued: date, amount: Decimal) -> bytes:
    from integrations.peppol.builder import build_ubl
    from integrations.peppol.model import (
        Address,
        DocumentType,
        Identifier,
        InvoiceDocument,
        InvoiceLine,
        Party,
        PaymentMeans,
        Vat,
    )

    kvk = f"{70000000 + supplier_index}"
    supplier = Party(
        name=f"Leverancier {supplier_index} B.V.",
        endpoint=Identifier("0106", kvk),
        legal_id=Identifier("0106", kvk),
        vat_id=f"NL{kvk}0B01",
        address=Address(country_code="NL", street="Industrieweg 1", city="Zwolle", postal_zone="8000 AA"),
    )
    return build_ubl(
        InvoiceDocument(
            document_type=DocumentType.INVOICE,
            number=number,
            issue_date=issued,
            due_date=issued + timedelta(days=30),
            currency="EUR",
            supplier=supplier,
            customer=customer,
            lines=tuple(
                InvoiceLine(
                    id=str(line),
                    name=f"Artikel {line}",
                    quantity=Decimal("2"),
                    unit_code="C62",
                    price=amount,
                    vat=Vat.standard(Decimal("21")),
                )
                for line in range(1, 4)
            ),
            buyer_reference="BENCH",
            payment_means=(PaymentMeans.sepa_credit_transfer("NL91ABNA0417164300", payment_id=number),),
        )
    )
