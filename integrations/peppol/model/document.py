"""The document itself: ``InvoiceDocument``, with its VAT breakdown and totals computed from the lines and never taken
from the input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from integrations.peppol.document_types import DocumentType
from integrations.peppol.model.checks import (
    ZERO,
    _amount,
    _date,
    _refuse,
    _set,
    _text,
    _tuple,
    round_amount,
    vat_amount,
)
from integrations.peppol.model.codelists import CURRENCY_CODES
from integrations.peppol.model.lines import AllowanceCharge, InvoiceLine, Period
from integrations.peppol.model.parties import Party
from integrations.peppol.model.payment import (
    DUTCH_DOMESTIC_PAYMENT_MEANS,
    Attachment,
    BillingReference,
    Delivery,
    GAccount,
    PaymentMeans,
)
from integrations.peppol.model.vat import Vat, VatCategory

# --- the document ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VatSubtotal:
    """One VAT breakdown (BG-23): the taxable amount of a category and rate, and its VAT."""

    vat: Vat
    taxable_amount: Decimal
    tax_amount: Decimal

    @property
    def category(self) -> VatCategory:
        return self.vat.category

    @property
    def rate(self) -> Decimal | None:
        return self.vat.rate


@dataclass(frozen=True)
class DocumentTotals:
    """The document totals (BG-22), all rounded to cents."""

    line_extension: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    tax_exclusive: Decimal
    vat_total: Decimal
    tax_inclusive: Decimal
    prepaid: Decimal
    rounding: Decimal
    payable: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    """A Peppol BIS Billing 3.0 invoice or credit note, ready to be built into UBL.

    Totals and the VAT breakdown are computed (``totals``, ``vat_breakdown``). Credit notes carry positive
    quantities and amounts and refer to the invoice they credit (``billing_references``).
    """

    document_type: DocumentType
    number: str
    issue_date: date
    currency: str
    supplier: Party
    customer: Party
    lines: tuple[InvoiceLine, ...]
    buyer_reference: str = ""
    order_reference: str = ""
    due_date: date | None = None
    tax_point_date: date | None = None
    note: str = ""
    payment_terms: str = ""
    payment_means: tuple[PaymentMeans, ...] = ()
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    billing_references: tuple[BillingReference, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    invoice_period: Period | None = None
    delivery: Delivery | None = None
    prepaid_amount: Decimal = ZERO
    rounding_amount: Decimal = ZERO
    g_account: GAccount | None = None  # part of the amount to the G-account (an NLCIUS G-account invoice)

    def __post_init__(self) -> None:
        try:
            _set(self, "document_type", DocumentType(self.document_type))
        except ValueError:
            raise _refuse(
                "document_type",
                f"'{self.document_type}' is not a document type we send; use DocumentType.INVOICE (380) or DocumentType.CREDIT_NOTE (381).",
                f"'{self.document_type}' is geen documentsoort die we versturen; gebruik DocumentType.INVOICE (380) of DocumentType.CREDIT_NOTE (381).",
            ) from None
        _text(self.number, "number", required=True)
        _date(self.issue_date, "issue_date", required=True)
        _date(self.due_date, "due_date")
        _date(self.tax_point_date, "tax_point_date")
        currency = _text(self.currency, "currency", required=True)
        if not re.fullmatch(r"[A-Z]{3}", currency) or currency not in CURRENCY_CODES:
            raise _refuse(
                "currency",
                f"'{currency}' is not an ISO 4217 currency code of 3 capital letters (e.g. EUR).",
                f"'{currency}' is geen ISO 4217-valutacode van 3 hoofdletters (bijv. EUR).",
            )
        for name in ("buyer_reference", "order_reference", "note", "payment_terms"):
            _text(getattr(self, name), name, required=False)
        for name, kind in (("supplier", Party), ("customer", Party)):
            if not isinstance(getattr(self, name), kind):
                raise _refuse(name, f"{name} must be a Party.", f"{name} moet een Party zijn.")
        lines = _tuple(self.lines, "lines", InvoiceLine)
        if not lines:
            raise _refuse(
                "lines",
                "A document needs at least one line (BR-16).",
                "Een document heeft minstens één regel nodig (BR-16).",
            )
        _set(self, "lines", lines)
        for name, kind in (
            ("payment_means", PaymentMeans),
            ("allowances_charges", AllowanceCharge),
            ("billing_references", BillingReference),
            ("attachments", Attachment),
        ):
            _set(self, name, _tuple(getattr(self, name), name, kind))
        if self.invoice_period is not None and not isinstance(self.invoice_period, Period):
            raise _refuse("invoice_period", "invoice_period must be a Period.", "invoice_period moet een Period zijn.")
        if self.delivery is not None and not isinstance(self.delivery, Delivery):
            raise _refuse("delivery", "delivery must be a Delivery.", "delivery moet een Delivery zijn.")
        _set(self, "prepaid_amount", _amount(self.prepaid_amount, "prepaid_amount"))
        _set(self, "rounding_amount", _amount(self.rounding_amount, "rounding_amount"))
        self._check_references()
        self._check_lines()
        self._check_vat()
        self._check_parties()
        self._check_totals_and_payment()
        self._check_g_account()

    # -- checks that need more than one field --

    def _check_references(self) -> None:
        if not self.buyer_reference and not self.order_reference:
            raise _refuse(
                "buyer_reference",
                "Give the buyer reference or the order reference; Peppol requires one (PEPPOL-EN16931-R003).",
                "Geef de referentie van de koper of het ordernummer; Peppol vraagt er een (PEPPOL-EN16931-R003).",
            )
        if self.is_credit_note and not self.billing_references:
            raise _refuse(
                "billing_references",
                "A credit note must refer to the invoice it credits (NL-R-001).",
                "Een creditnota moet verwijzen naar de factuur die gecrediteerd wordt (NL-R-001).",
            )

    def _check_lines(self) -> None:
        seen: set[str] = set()
        for line in self.lines:
            if line.id in seen:
                raise _refuse(
                    f"line {line.id}",
                    f"Line id {line.id} is used twice.",
                    f"Regelnummer {line.id} komt twee keer voor.",
                )
            seen.add(line.id)
            if self.is_credit_note and (line.quantity < 0 or line.net_amount < 0):
                raise _refuse(
                    f"line {line.id}.quantity",
                    "A credit note credits positive quantities and amounts; a negative line belongs on an invoice.",
                    "Een creditnota crediteert positieve aantallen en bedragen; een negatieve regel hoort op een factuur.",
                )
        for index, adjustment in enumerate(self.allowances_charges):
            if adjustment.vat is None:
                raise _refuse(
                    f"allowances_charges[{index}].vat",
                    "A document-level allowance or charge needs its VAT category and rate (BR-32, BR-37).",
                    "Een korting of toeslag op documentniveau heeft een btw-categorie en percentage nodig (BR-32, BR-37).",
                )

    def _check_vat(self) -> None:
        by_key: dict[tuple[VatCategory, Decimal | None], Vat] = {}
        for vat in self._all_vats():
            known = by_key.setdefault(vat.breakdown_key, vat)
            if known != vat:
                raise _refuse(
                    "vat",
                    f"VAT {vat} appears with two different exemption reasons; one VAT breakdown can carry only one.",
                    f"Btw {vat} komt voor met twee verschillende vrijstellingsredenen; één btw-specificatie kan er maar één bevatten.",
                )
        categories = {key[0] for key in by_key}
        if VatCategory.NOT_SUBJECT in categories and len(categories) > 1:
            raise _refuse(
                "vat",
                "A document with VAT category O (not subject to VAT) may not contain other VAT categories (BR-O-11..14).",
                "Een document met btw-categorie O (niet onderworpen) mag geen andere btw-categorieën bevatten (BR-O-11..14).",
            )

    def _check_parties(self) -> None:
        categories = {vat.category for vat in self._all_vats()}
        supplier, customer = self.supplier, self.customer
        if VatCategory.NOT_SUBJECT in categories:
            if supplier.vat_id or customer.vat_id:
                raise _refuse(
                    "supplier.vat_id",
                    "A document not subject to VAT (category O) may not show the seller's or buyer's VAT number (BR-O-02).",
                    "Een document zonder btw (categorie O) mag het btw-nummer van verkoper en koper niet tonen (BR-O-02).",
                )
        elif not supplier.vat_id:
            raise _refuse(
                "supplier.vat_id",
                f"The seller's VAT number is required for VAT categories {', '.join(sorted(categories))} (BR-S-02 etc.).",
                f"Het btw-nummer van de verkoper is verplicht bij btw-categorieën {', '.join(sorted(categories))} (BR-S-02 e.a.).",
            )
        if VatCategory.INTRA_COMMUNITY in categories:
            if not customer.vat_id:
                raise _refuse(
                    "customer.vat_id",
                    "An intra-community supply (K) needs the buyer's VAT number (BR-IC-02).",
                    "Een intracommunautaire levering (K) heeft het btw-nummer van de koper nodig (BR-IC-02).",
                )
            delivery = self.delivery
            if not (delivery and delivery.date) and not self.invoice_period:
                raise _refuse(
                    "delivery.date",
                    "An intra-community supply (K) needs the delivery date or the invoice period (BR-IC-11).",
                    "Een intracommunautaire levering (K) heeft de leverdatum of de factuurperiode nodig (BR-IC-11).",
                )
            if not (delivery and delivery.address):
                raise _refuse(
                    "delivery.address",
                    "An intra-community supply (K) needs the delivery address with its country (BR-IC-12).",
                    "Een intracommunautaire levering (K) heeft het afleveradres met land nodig (BR-IC-12).",
                )
        if VatCategory.REVERSE_CHARGE in categories and not (customer.vat_id or customer.legal_id):
            raise _refuse(
                "customer.vat_id",
                "Reverse charge (AE) needs the buyer's VAT number or legal registration (BR-AE-02).",
                "Btw verlegd (AE) heeft het btw-nummer of de inschrijving van de koper nodig (BR-AE-02).",
            )
        if not (supplier.vat_id or supplier.legal_id):
            raise _refuse(
                "supplier.legal_id",
                "The seller needs a VAT number or a legal registration (KvK) so the buyer can identify it (BR-CO-26).",
                "De verkoper heeft een btw-nummer of inschrijving (KvK) nodig zodat de koper hem herkent (BR-CO-26).",
            )
        if supplier.is_dutch:
            if not supplier.address.is_complete:
                raise _refuse(
                    "supplier.address",
                    "A Dutch seller's address needs street, city and postal code (NL-R-002).",
                    "Het adres van een Nederlandse verkoper heeft straat, plaats en postcode nodig (NL-R-002).",
                )
            if supplier.legal_id is None:
                raise _refuse(
                    "supplier.legal_id",
                    "A Dutch seller needs its KvK number (0106) or OIN (0190) as legal registration (NL-R-003).",
                    "Een Nederlandse verkoper heeft zijn KvK-nummer (0106) of OIN (0190) als inschrijving nodig (NL-R-003).",
                )
            if customer.is_dutch and not customer.address.is_complete:
                raise _refuse(
                    "customer.address",
                    "A Dutch buyer's address needs street, city and postal code (NL-R-004).",
                    "Het adres van een Nederlandse koper heeft straat, plaats en postcode nodig (NL-R-004).",
                )

    def _check_g_account(self) -> None:
        """BR-GA-1..7: two payment means (the regular one and GACCOUNT) and two payment terms, their amounts
        adding up to the amount due."""
        if self.g_account is None:
            return
        if not isinstance(self.g_account, GAccount):
            raise _refuse("g_account", "g_account must be a GAccount.", "g_account moet een GAccount zijn.")
        if self.is_credit_note:
            raise _refuse(
                "g_account",
                "Only an invoice can ask for payment into a G-account, not a credit note.",
                "Alleen een factuur kan om betaling op een G-rekening vragen, geen creditnota.",
            )
        if len(self.payment_means) != 1:
            raise _refuse(
                "payment_means",
                "A G-account invoice has exactly one regular payment means beside the G-account (BR-GA-2).",
                "Een G-rekeningfactuur heeft precies één gewone betaalwijze naast de G-rekening (BR-GA-2).",
            )
        payable = self.totals.payable
        if not ZERO < self.g_account.amount < payable:
            raise _refuse(
                "g_account.amount",
                f"The G-account amount {self.g_account.amount} must be more than 0 and less than the amount due "
                f"{payable}: the rest goes to the regular account (BR-GA-3).",
                f"Het bedrag voor de G-rekening {self.g_account.amount} moet meer dan 0 en minder dan het te betalen "
                f"bedrag {payable} zijn: de rest gaat naar de gewone rekening (BR-GA-3).",
            )

    def _check_totals_and_payment(self) -> None:
        totals = self.totals
        if totals.tax_inclusive < 0:
            advice = (
                (
                    "the total of an invoice may not be negative; send a credit note instead.",
                    "het totaal van een factuur mag niet negatief zijn; stuur een creditnota.",
                )
                if not self.is_credit_note
                else (
                    "the total of a credit note may not be negative.",
                    "het totaal van een creditnota mag niet negatief zijn.",
                )
            )
            raise _refuse(
                "lines",
                f"The total including VAT is {totals.tax_inclusive}: {advice[0]}",
                f"Het totaal inclusief btw is {totals.tax_inclusive}: {advice[1]}",
            )
        if self.prepaid_amount < 0:
            raise _refuse(
                "prepaid_amount",
                "The prepaid amount may not be negative.",
                "Het vooruitbetaalde bedrag mag niet negatief zijn.",
            )
        if totals.payable < 0:
            raise _refuse(
                "prepaid_amount",
                f"The prepaid amount {totals.prepaid} exceeds the total {totals.tax_inclusive}.",
                f"Het vooruitbetaalde bedrag {totals.prepaid} is hoger dan het totaal {totals.tax_inclusive}.",
            )
        if self.supplier.is_dutch and not self.is_credit_note and totals.payable > 0 and not self.payment_means:
            raise _refuse(
                "payment_means",
                "A Dutch seller must say how to pay an invoice with an amount due (NL-R-007).",
                "Een Nederlandse verkoper moet aangeven hoe een factuur met een openstaand bedrag betaald wordt (NL-R-007).",
            )
        if self.supplier.is_dutch and self.customer.is_dutch:
            for means in self.payment_means:
                if means.code not in DUTCH_DOMESTIC_PAYMENT_MEANS:
                    allowed = ", ".join(sorted(DUTCH_DOMESTIC_PAYMENT_MEANS, key=int))
                    raise _refuse(
                        "payment_means.code",
                        f"Between Dutch parties payment means {means.code} is not allowed; use one of {allowed} (NL-R-008).",
                        f"Tussen Nederlandse partijen is betaalwijze {means.code} niet toegestaan; gebruik een van {allowed} (NL-R-008).",
                    )
        if self.is_credit_note and self.due_date and not self.payment_means:
            raise _refuse(
                "due_date",
                "A credit note carries its due date in a payment means (cbc:PaymentDueDate); add one or leave the date out.",
                "Een creditnota geeft de vervaldatum in een betaalwijze (cbc:PaymentDueDate); voeg er een toe of laat de datum weg.",
            )
        # UBL syntax rules: one payment means code, one payment reference and one mandate per document.
        if len({means.code for means in self.payment_means}) > 1:
            raise _refuse(
                "payment_means.code",
                "All payment means of a document must have the same code (UBL-SR-47); give several accounts, not several methods.",
                "Alle betaalwijzen van een document moeten dezelfde code hebben (UBL-SR-47); geef meerdere rekeningen, niet meerdere methoden.",
            )
        if len({means.payment_id for means in self.payment_means if means.payment_id}) > 1:
            raise _refuse(
                "payment_means.payment_id",
                "A document has one payment reference, even with several payment means (UBL-SR-44).",
                "Een document heeft één betalingskenmerk, ook bij meerdere betaalwijzen (UBL-SR-44).",
            )
        if sum(1 for means in self.payment_means if means.mandate_id) > 1:
            raise _refuse(
                "payment_means.mandate_id",
                "A document can carry only one direct debit mandate (UBL-SR-55, UBL-SR-29).",
                "Een document kan maar één incassomachtiging bevatten (UBL-SR-55, UBL-SR-29).",
            )

    # -- computed --

    @property
    def is_credit_note(self) -> bool:
        return self.document_type is DocumentType.CREDIT_NOTE

    def _all_vats(self) -> list[Vat]:
        vats = [line.vat for line in self.lines]
        vats.extend(a.vat for a in self.allowances_charges if a.vat is not None)
        return vats

    @cached_property
    def vat_breakdown(self) -> tuple[VatSubtotal, ...]:
        """One subtotal per VAT category and rate, in order of first appearance (BR-CO-18, BR-S-08 etc.)."""
        taxable: dict[tuple[VatCategory, Decimal | None], Decimal] = {}
        vats: dict[tuple[VatCategory, Decimal | None], Vat] = {}
        for line in self.lines:
            key = line.vat.breakdown_key
            vats.setdefault(key, line.vat)
            taxable[key] = taxable.get(key, ZERO) + line.net_amount
        for adjustment in self.allowances_charges:
            assert adjustment.vat is not None
            key = adjustment.vat.breakdown_key
            vats.setdefault(key, adjustment.vat)
            taxable[key] = taxable.get(key, ZERO) + adjustment.signed_amount
        return tuple(
            VatSubtotal(vat=vats[key], taxable_amount=round_amount(amount), tax_amount=vat_amount(amount, key[1]))
            for key, amount in taxable.items()
        )

    @cached_property
    def totals(self) -> DocumentTotals:
        line_extension = round_amount(sum((line.net_amount for line in self.lines), ZERO))
        allowance_total = round_amount(sum((a.amount for a in self.allowances_charges if not a.is_charge), ZERO))
        charge_total = round_amount(sum((a.amount for a in self.allowances_charges if a.is_charge), ZERO))
        tax_exclusive = round_amount(line_extension - allowance_total + charge_total)
        vat_total = round_amount(sum((subtotal.tax_amount for subtotal in self.vat_breakdown), ZERO))
        tax_inclusive = round_amount(tax_exclusive + vat_total)
        payable = round_amount(tax_inclusive - self.prepaid_amount + self.rounding_amount)
        return DocumentTotals(
            line_extension=line_extension,
            allowance_total=allowance_total,
            charge_total=charge_total,
            tax_exclusive=tax_exclusive,
            vat_total=vat_total,
            tax_inclusive=tax_inclusive,
            prepaid=self.prepaid_amount,
            rounding=self.rounding_amount,
            payable=payable,
        )

    @property
    def sepa_creditor_id(self) -> str:
        """The seller's SEPA creditor id (BT-90), written as its party identification with scheme SEPA."""
        return next((means.creditor_id for means in self.payment_means if means.creditor_id), "")
