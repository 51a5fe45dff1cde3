"""What the portal keeps of a received document's parsed summary: the fields the inbox, the duplicate check and
Small Business read, so that the stored bytes need not be parsed again."""

from __future__ import annotations

from typing import Any

from integrations.peppol.parser import DocumentSummary
from portal.core.choices import DocumentType
from portal.incoming_invoices.duplicates import normalise_invoice_number, resolve_supplier_key, supplier_identifiers
from portal.organisations.models import Environment


def summary_fields(
    *, environment: Environment, summary: DocumentSummary, suppliers: dict[tuple[str, ...], str] | None = None
) -> dict[str, Any]:
    """The IncomingInvoice fields for a parsed document, bounded to their columns (``suppliers``: see
    ``resolve_supplier_key``'s ``resolved``)."""
    identifiers = supplier_identifiers(summary)
    return {
        "document_type": DocumentType.CREDIT_NOTE if summary.is_credit_note else DocumentType.INVOICE,
        "invoice_number": (summary.number or "")[:100],
        "normalised_invoice_number": normalise_invoice_number(summary.number),
        "issue_date": summary.issue_date,
        "currency": _currency_code(summary.currency),
        "supplier_name": ((summary.supplier.display_name if summary.supplier else "") or "")[:255],
        "supplier_identifiers": identifiers,
        "supplier_key": resolve_supplier_key(environment=environment, identifiers=identifiers, resolved=suppliers),
        "payable_amount": summary.totals.payable,
        "tax_amount": summary.totals.vat_total,
        **_tax_currency_fields(summary),
        "vat_breakdown": [
            {
                "category": line.category,
                "rate": str(line.rate) if line.rate is not None else None,
                "taxable_amount": str(line.taxable_amount) if line.taxable_amount is not None else None,
                "tax_amount": str(line.tax_amount) if line.tax_amount is not None else None,
                "exemption_reason": line.exemption_reason,
            }
            for line in summary.vat_breakdown
        ],
        "attachments": [
            {"index": a.index, "filename": a.filename, "mime_code": a.mime_code, "size": a.size}
            for a in summary.attachments
        ],
        "parse_error": "; ".join(warning.en for warning in summary.warnings)[:2000],
    }


def _tax_currency_fields(summary: DocumentSummary) -> dict[str, Any]:
    """BT-111, the VAT in the VAT accounting currency, when the document gives it in a currency of its own."""
    amount = summary.totals.vat_total_in_tax_currency
    tax_currency = _currency_code(summary.tax_currency).upper()
    if amount is None or not tax_currency:
        return {"tax_currency": "", "tax_amount_in_tax_currency": None}
    return {"tax_currency": tax_currency, "tax_amount_in_tax_currency": amount}


def _currency_code(value: str | None) -> str:
    """A three-letter currency code as written, or "" for anything else (the column's check)."""
    value = value or ""
    return value if value.isalpha() and len(value) == 3 else ""
