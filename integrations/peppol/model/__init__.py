"""The in-memory Peppol BIS Billing 3.0 document: typed, checked on construction, totals computed.

An ``InvoiceDocument`` is an invoice (380) or a credit note (381). Everything the EN 16931 and Peppol rules
derive from other fields (line net amounts, the VAT breakdown, the document totals) is computed here and never
taken from the input, so the builder only has to write it down. Whatever would make the official rules fail
and can be known from the model alone is refused on construction with a ``DocumentModelError`` that says,
in English and Dutch, what is wrong and where.

Money is ``Decimal`` (or ``int``), never ``float``. Amounts are rounded half-up to 2 decimals (EN 16931);
unit prices and quantities may carry more decimals.

The parts: ``checks`` (the error and the field checks), ``vat``, ``parties``, ``lines``, ``payment``, ``document``
and ``codelists``. Import from ``integrations.peppol.model``; the parts are how the code is kept, not an API.
"""

from __future__ import annotations

from integrations.peppol.document_types import DocumentType
from integrations.peppol.model.checks import (
    CENT,
    HUNDRED,
    MAX_MAGNITUDE,
    ZERO,
    DocumentModelError,
    round_amount,
    vat_amount,
)
from integrations.peppol.model.codelists import (
    ALLOWANCE_REASON_CODES,
    ATTACHMENT_MIME_CODES,
    CHARGE_REASON_CODES,
    COUNTRY_CODES,
    CURRENCY_CODES,
    DUTCH_LEGAL_ID_SCHEMES,
    ELECTRONIC_ADDRESS_SCHEMES,
    IDENTIFIER_SCHEMES,
    PAYMENT_MEANS_CODES,
    UNIT_CODES,
    VAT_EXEMPTION_REASON_CODES,
    VAT_ID_PREFIXES,
)
from integrations.peppol.model.document import DocumentTotals, InvoiceDocument, VatSubtotal
from integrations.peppol.model.lines import AllowanceCharge, InvoiceLine, Period
from integrations.peppol.model.parties import Address, Contact, Identifier, Party
from integrations.peppol.model.payment import (
    DUTCH_DOMESTIC_PAYMENT_MEANS,
    Attachment,
    BillingReference,
    Delivery,
    GAccount,
    PaymentMeans,
    PaymentMeansCode,
)
from integrations.peppol.model.vat import Vat, VatCategory

__all__ = [
    "ALLOWANCE_REASON_CODES",
    "ATTACHMENT_MIME_CODES",
    "Address",
    "GAccount",
    "AllowanceCharge",
    "Attachment",
    "BillingReference",
    "CENT",
    "CHARGE_REASON_CODES",
    "COUNTRY_CODES",
    "CURRENCY_CODES",
    "Contact",
    "DUTCH_DOMESTIC_PAYMENT_MEANS",
    "DUTCH_LEGAL_ID_SCHEMES",
    "Delivery",
    "DocumentModelError",
    "DocumentTotals",
    "DocumentType",
    "ELECTRONIC_ADDRESS_SCHEMES",
    "HUNDRED",
    "IDENTIFIER_SCHEMES",
    "Identifier",
    "InvoiceDocument",
    "InvoiceLine",
    "MAX_MAGNITUDE",
    "PAYMENT_MEANS_CODES",
    "Party",
    "PaymentMeans",
    "PaymentMeansCode",
    "Period",
    "UNIT_CODES",
    "VAT_EXEMPTION_REASON_CODES",
    "VAT_ID_PREFIXES",
    "Vat",
    "VatCategory",
    "VatSubtotal",
    "ZERO",
    "round_amount",
    "vat_amount",
]
