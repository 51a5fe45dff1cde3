"""Allowances and charges (on the document or a line), invoicing periods, and the invoice lines with their net amounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from integrations.peppol.model.checks import (
    HUNDRED,
    ZERO,
    _amount,
    _date,
    _number,
    _optional_number,
    _refuse,
    _set,
    _text,
    _tuple,
    round_amount,
)
from integrations.peppol.model.codelists import ALLOWANCE_REASON_CODES, CHARGE_REASON_CODES, UNIT_CODES
from integrations.peppol.model.vat import Vat

# --- allowances, charges and lines ----------------------------------------------------------------------


@dataclass(frozen=True)
class AllowanceCharge:
    """An allowance (discount) or charge, on the document (with its own ``vat``) or on a line (without).

    Give a reason text or a reason code or both (BR-33, BR-38, BR-42, BR-44). ``base_amount`` and
    ``percentage`` go together; the amount must then be base × percentage / 100 (PEPPOL-EN16931-R040).
    """

    is_charge: bool
    amount: Decimal
    reason: str = ""
    reason_code: str = ""
    vat: Vat | None = None
    base_amount: Decimal | None = None
    percentage: Decimal | None = None

    def __post_init__(self) -> None:
        kind = "charge" if self.is_charge else "allowance"
        if not isinstance(self.is_charge, bool):
            raise _refuse(kind, "is_charge must be True or False.", "is_charge moet True of False zijn.")
        amount = _amount(self.amount, f"{kind}.amount")
        if amount < 0:
            raise _refuse(
                f"{kind}.amount",
                f"The {kind} amount may not be negative ({amount}); use a {'allowance' if self.is_charge else 'charge'} instead.",
                f"Het bedrag van de {'toeslag' if self.is_charge else 'korting'} mag niet negatief zijn ({amount}); "
                f"gebruik een {'korting' if self.is_charge else 'toeslag'}.",
            )
        _set(self, "amount", amount)
        reason = _text(self.reason, f"{kind}.reason", required=False)
        code = _text(self.reason_code, f"{kind}.reason_code", required=False)
        if not reason and not code:
            raise _refuse(
                f"{kind}.reason",
                f"An {kind} needs a reason text or reason code.",
                f"Een {'toeslag' if self.is_charge else 'korting'} heeft een reden of redencode nodig.",
            )
        allowed = CHARGE_REASON_CODES if self.is_charge else ALLOWANCE_REASON_CODES
        if code and code not in allowed:
            raise _refuse(
                f"{kind}.reason_code",
                f"'{code}' is not a valid {kind} reason code ({'UNCL 7161' if self.is_charge else 'UNCL 5189'}).",
                f"'{code}' is geen geldige redencode ({'UNCL 7161' if self.is_charge else 'UNCL 5189'}).",
            )
        if self.vat is not None and not isinstance(self.vat, Vat):
            raise _refuse(f"{kind}.vat", "vat must be a Vat.", "vat moet een Vat zijn.")
        base = None if self.base_amount is None else _amount(self.base_amount, f"{kind}.base_amount")
        percentage = _optional_number(self.percentage, f"{kind}.percentage")
        if (base is None) != (percentage is None):
            raise _refuse(
                f"{kind}.percentage",
                "Give the base amount and the percentage together, or neither (PEPPOL-EN16931-R041/R042).",
                "Geef het basisbedrag en het percentage samen, of geen van beide (PEPPOL-EN16931-R041/R042).",
            )
        if base is not None and percentage is not None and round_amount(base * percentage / HUNDRED) != amount:
            expected = round_amount(base * percentage / HUNDRED)
            raise _refuse(
                f"{kind}.amount",
                f"{percentage}% of {base} is {expected}, not {amount} (PEPPOL-EN16931-R040).",
                f"{percentage}% van {base} is {expected}, niet {amount} (PEPPOL-EN16931-R040).",
            )
        _set(self, "base_amount", base)
        _set(self, "percentage", percentage)

    @classmethod
    def allowance(cls, amount: Decimal, reason: str = "", reason_code: str = "", **more: object) -> AllowanceCharge:
        return cls(False, amount, reason=reason, reason_code=reason_code, **more)  # type: ignore[arg-type]

    @classmethod
    def charge(cls, amount: Decimal, reason: str = "", reason_code: str = "", **more: object) -> AllowanceCharge:
        return cls(True, amount, reason=reason, reason_code=reason_code, **more)  # type: ignore[arg-type]

    @property
    def signed_amount(self) -> Decimal:
        """What it adds to the net amount: charges add, allowances subtract."""
        return self.amount if self.is_charge else -self.amount


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        _date(self.start, "period.start")
        _date(self.end, "period.end")
        if self.start is None and self.end is None:
            raise _refuse(
                "period",
                "A period needs a start or end date (BR-CO-19).",
                "Een periode heeft een begin- of einddatum nodig (BR-CO-19).",
            )
        if self.start and self.end and self.end < self.start:
            raise _refuse(
                "period.end",
                "The period ends before it starts (BR-29).",
                "De periode eindigt voordat hij begint (BR-29).",
            )


@dataclass(frozen=True)
class InvoiceLine:
    """One line. ``price`` is per ``base_quantity`` (default 1) before ``price_discount``.

    The net price is ``price - price_discount`` (BT-146) and the line net amount is
    quantity × net price / base quantity, rounded to cents, plus line charges minus line allowances (BT-131).
    """

    id: str
    name: str
    quantity: Decimal
    unit_code: str
    price: Decimal
    vat: Vat
    base_quantity: Decimal | None = None
    price_discount: Decimal | None = None
    description: str = ""
    sellers_item_id: str = ""
    buyers_item_id: str = ""
    note: str = ""
    period: Period | None = None
    allowances_charges: tuple[AllowanceCharge, ...] = ()

    def __post_init__(self) -> None:
        _text(self.id, "line.id", required=True)
        where = f"line {self.id}"
        _text(self.name, f"{where}.name", required=True)
        for name in ("description", "sellers_item_id", "buyers_item_id", "note"):
            _text(getattr(self, name), f"{where}.{name}", required=False)
        _set(self, "quantity", _number(self.quantity, f"{where}.quantity"))
        unit = _text(self.unit_code, f"{where}.unit_code", required=True)
        if unit not in UNIT_CODES:
            raise _refuse(
                f"{where}.unit_code",
                f"'{unit}' is not a UN/ECE Recommendation 20/21 unit code (e.g. C62 piece, HUR hour, KGM kilogram).",
                f"'{unit}' is geen eenheidscode volgens UN/ECE-aanbeveling 20/21 (bijv. C62 stuk, HUR uur, KGM kilogram).",
            )
        price = _number(self.price, f"{where}.price")
        if price < 0:
            raise _refuse(
                f"{where}.price",
                f"The price may not be negative ({price}) (BR-27, BR-28); make the quantity negative instead.",
                f"De prijs mag niet negatief zijn ({price}) (BR-27, BR-28); maak het aantal negatief.",
            )
        _set(self, "price", price)
        base_quantity = _optional_number(self.base_quantity, f"{where}.base_quantity")
        if base_quantity is not None and base_quantity <= 0:
            raise _refuse(
                f"{where}.base_quantity",
                f"The price base quantity must be above 0, not {base_quantity} (PEPPOL-EN16931-R121).",
                f"De basishoeveelheid van de prijs moet boven 0 liggen, niet {base_quantity} (PEPPOL-EN16931-R121).",
            )
        _set(self, "base_quantity", base_quantity)
        discount = _optional_number(self.price_discount, f"{where}.price_discount")
        if discount is not None and not 0 <= discount <= price:
            raise _refuse(
                f"{where}.price_discount",
                f"The price discount {discount} must lie between 0 and the price {price} (BR-27).",
                f"De prijskorting {discount} moet tussen 0 en de prijs {price} liggen (BR-27).",
            )
        _set(self, "price_discount", discount or None)
        if not isinstance(self.vat, Vat):
            raise _refuse(f"{where}.vat", "vat must be a Vat.", "vat moet een Vat zijn.")
        if self.period is not None and not isinstance(self.period, Period):
            raise _refuse(f"{where}.period", "period must be a Period.", "period moet een Period zijn.")
        adjustments = _tuple(self.allowances_charges, f"{where}.allowances_charges", AllowanceCharge)
        for adjustment in adjustments:
            if adjustment.vat is not None:
                raise _refuse(
                    f"{where}.allowances_charges",
                    "A line allowance or charge takes the line's VAT; leave its vat empty.",
                    "Een korting of toeslag op een regel volgt de btw van de regel; laat de vat leeg.",
                )
        _set(self, "allowances_charges", adjustments)

    @property
    def net_price(self) -> Decimal:
        return self.price - (self.price_discount or ZERO)

    @property
    def net_amount(self) -> Decimal:
        """BT-131, rounded to cents (PEPPOL-EN16931-R120)."""
        gross = round_amount(self.quantity * self.net_price / (self.base_quantity or 1))
        return round_amount(gross + sum((a.signed_amount for a in self.allowances_charges), ZERO))
