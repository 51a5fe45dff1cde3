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
