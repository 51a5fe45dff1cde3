from __future__ import annotations

from enum import StrEnum


class DocumentType(StrEnum):
    """Invoice or credit note: the UBL root element. Values match the portal's DocumentType choices."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def type_code(self) -> str:
        """The UNTDID 1001 code the builder writes: 380 commercial invoice, 381 credit note."""
        return "381" if self is DocumentType.CREDIT_NOTE else "380"

    @property
    def peppol_id(self) -> str:
        """The Peppol BIS Billing 3.0 document type identifier (``<root>##<customization>::<version>``)."""
        root = (
            "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote"
            if self is DocumentType.CREDIT_NOTE
            else "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
        )
        return f"{root}##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
