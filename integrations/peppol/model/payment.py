"""Payment means (credit transfer, direct debit, ...), billing references, attachments and the delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from stdnum import iban as iban_number

from integrations.peppol.i18n import Text
from integrations.peppol.model.checks import _amount, _code, _date, _refuse, _set, _text
from integrations.peppol.model.codelists import ATTACHMENT_MIME_CODES, PAYMENT_MEANS_CODES
from integrations.peppol.model.parties import Address

# --- payment, references, attachments -------------------------------------------------------------------


@dataclass(frozen=True)
class GAccount:
    """The part of an invoice to be paid into the supplier's G-account (G-rekening: the blocked account for wage
    tax and VAT in Dutch subcontracting), per the SI-UBL G-account extension. The rest goes to the regular
    payment means."""

    iban: str
    amount: Decimal
    account_name: str = ""

    def __post_init__(self) -> None:
        _text(self.account_name, "g_account.account_name", required=False)
        if not iban_number.is_valid(self.iban):
            raise _refuse(
                "g_account.iban",
                f"'{self.iban}' is not a valid IBAN; the G-account needs one.",
                f"'{self.iban}' is geen geldige IBAN; de G-rekening heeft er een nodig.",
            )
        _set(self, "amount", _amount(self.amount, "g_account.amount"))


class PaymentMeansCode(StrEnum):
    """The UNCL 4461 codes Dutch invoices use most; any other UNCL 4461 code is accepted as a string too."""

    CREDIT_TRANSFER = "30"
    DEBIT_TRANSFER = "31"
    BANK_CARD = "48"
    DIRECT_DEBIT = "49"
    STANDING_AGREEMENT = "57"
    SEPA_CREDIT_TRANSFER = "58"
    SEPA_DIRECT_DEBIT = "59"


_CREDIT_TRANSFER_CODES = frozenset({"30", "58"})
_DIRECT_DEBIT_CODES = frozenset({"49", "59"})
# NL-R-008: between Dutch parties only these.
DUTCH_DOMESTIC_PAYMENT_MEANS = frozenset({"30", "48", "49", "57", "58", "59"})


@dataclass(frozen=True)
class PaymentMeans:
    """How to pay. Credit transfer (30, 58) needs the payee's account (``iban``, BR-61); direct debit (49, 59) the
    mandate reference (PEPPOL-EN16931-R061) and optionally the debited account and the SEPA creditor id."""

    code: str
    payment_id: str = ""
    iban: str = ""
    account_name: str = ""
    bic: str = ""
    mandate_id: str = ""
    payer_iban: str = ""
    creditor_id: str = ""

    def __post_init__(self) -> None:
        code = _code(
            str(self.code),
            "payment_means.code",
            PAYMENT_MEANS_CODES,
            Text("payment means (UNCL 4461)", "betaalwijze (UNCL 4461)"),
        )
        _set(self, "code", code)
        for name in ("payment_id", "iban", "account_name", "bic", "mandate_id", "payer_iban", "creditor_id"):
            _text(getattr(self, name), f"payment_means.{name}", required=False)
        if code in _CREDIT_TRANSFER_CODES and not self.iban:
            raise _refuse(
                "payment_means.iban",
                f"Payment means {code} (credit transfer) needs the account number to pay to (BR-61).",
                f"Betaalwijze {code} (overboeking) heeft het rekeningnummer nodig waarop betaald wordt (BR-61).",
            )
        if code == "58" and not iban_number.is_valid(self.iban):
            raise _refuse(
                "payment_means.iban",
                f"'{self.iban}' is not a valid IBAN; SEPA credit transfer (58) needs one.",
                f"'{self.iban}' is geen geldige IBAN; een SEPA-overboeking (58) heeft er een nodig.",
            )
        if code in _DIRECT_DEBIT_CODES and not self.mandate_id:
            raise _refuse(
                "payment_means.mandate_id",
                f"Payment means {code} (direct debit) needs the mandate reference (PEPPOL-EN16931-R061).",
                f"Betaalwijze {code} (incasso) heeft het machtigingskenmerk nodig (PEPPOL-EN16931-R061).",
            )
        if self.payer_iban and code == "59" and not iban_number.is_valid(self.payer_iban):
            raise _refuse(
                "payment_means.payer_iban",
                f"'{self.payer_iban}' is not a valid IBAN to debit.",
                f"'{self.payer_iban}' is geen geldige IBAN om af te schrijven.",
            )
        if (self.mandate_id or self.payer_iban or self.creditor_id) and code not in _DIRECT_DEBIT_CODES:
            raise _refuse(
                "payment_means.mandate_id",
                f"A mandate, debited account or creditor id belongs to direct debit (49, 59), not to payment means {code}.",
                f"Een machtiging, af te schrijven rekening of incassant-id hoort bij incasso (49, 59), niet bij betaalwijze {code}.",
            )

    @classmethod
    def sepa_credit_transfer(
        cls, iban: str, payment_id: str = "", account_name: str = "", bic: str = ""
    ) -> PaymentMeans:
        return cls("58", payment_id=payment_id, iban=iban, account_name=account_name, bic=bic)

    @classmethod
    def credit_transfer(cls, account: str, payment_id: str = "", account_name: str = "", bic: str = "") -> PaymentMeans:
        return cls("30", payment_id=payment_id, iban=account, account_name=account_name, bic=bic)

    @classmethod
    def sepa_direct_debit(
        cls, mandate_id: str, payer_iban: str = "", creditor_id: str = "", payment_id: str = ""
    ) -> PaymentMeans:
        return cls("59", payment_id=payment_id, mandate_id=mandate_id, payer_iban=payer_iban, creditor_id=creditor_id)


@dataclass(frozen=True)
class BillingReference:
    """The invoice a credit note (or corrective invoice) refers to (BG-3)."""

    invoice_number: str
    issue_date: date | None = None

    def __post_init__(self) -> None:
        _text(self.invoice_number, "billing_reference.invoice_number", required=True)
        _date(self.issue_date, "billing_reference.issue_date")


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the document (``cac:AdditionalDocumentReference``), e.g. the PDF of the invoice."""

    id: str
    filename: str
    mime_code: str
    content: bytes = field(repr=False)
    description: str = ""

    def __post_init__(self) -> None:
        _text(self.id, "attachment.id", required=True)
        _text(self.filename, "attachment.filename", required=True)
        _text(self.description, "attachment.description", required=False)
        if self.mime_code not in ATTACHMENT_MIME_CODES:
            allowed = ", ".join(sorted(ATTACHMENT_MIME_CODES))
            raise _refuse(
                "attachment.mime_code",
                f"Peppol does not allow attachments of type '{self.mime_code}'; allowed: {allowed}.",
                f"Peppol staat bijlagen van type '{self.mime_code}' niet toe; toegestaan: {allowed}.",
            )
        if not isinstance(self.content, bytes) or not self.content:
            raise _refuse(
                "attachment.content", "The attachment is empty or not bytes.", "De bijlage is leeg of geen bytes."
            )


@dataclass(frozen=True)
class Delivery:
    """Where and when was delivered (BG-13). Intra-community supply (K) needs both (BR-IC-11, BR-IC-12)."""

    date: date | None = None
    address: Address | None = None

    def __post_init__(self) -> None:
        _date(self.date, "delivery.date")
        if self.address is not None and not isinstance(self.address, Address):
            raise _refuse("delivery.address", "address must be an Address.", "address moet een Address zijn.")
        if self.date is None and self.address is None:
            raise _refuse(
                "delivery", "A delivery needs a date or an address.", "Een levering heeft een datum of adres nodig."
            )
