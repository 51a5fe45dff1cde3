"""The in-memory Peppol BIS Billing 3.0 document: typed, checked on construction, totals computed.

An ``InvoiceDocument`` is an invoice (380) or a credit note (381). Everything the EN 16931 and Peppol rules
derive from other fields (line net amounts, the VAT breakdown, the document totals) is computed here and never
taken from the input, so the builder only has to write it down. Whatever would make the official rules fail
and can be known from the model alone is refused on construction with a ``DocumentModelError`` that says,
in English and Dutch, what is wrong and where.

Money is ``Decimal`` (or ``int``), never ``float``. Amounts are rounded half-up to 2 decimals (EN 16931);
unit prices and quantities may carry more decimals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cached_property

from stdnum import iban as iban_number

from integrations.peppol.document_types import DocumentType
from integrations.peppol.i18n import Text

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
# Far above any real invoice, far below where Decimal's 28 digits of precision would start to round.
MAX_MAGNITUDE = Decimal("1000000000000")

# Characters XML 1.0 cannot carry (lxml would refuse them deep inside the builder).
_NOT_XML_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class DocumentModelError(ValueError):
    """The document cannot become a valid Peppol BIS 3 document. ``message`` says why to people; ``where`` says where."""

    def __init__(self, message: Text, where: str = ""):
        super().__init__(f"{where}: {message.en}" if where else message.en)
        self.message = message
        self.where = where


def _refuse(where: str, en: str, nl: str) -> DocumentModelError:
    return DocumentModelError(Text(en, nl), where)


# --- arithmetic -----------------------------------------------------------------------------------------


def round_amount(value: Decimal) -> Decimal:
    """Round to cents, half away from zero (EN 16931: "rounded to two decimals")."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded else CENT * 0  # never -0.00


def vat_amount(taxable_amount: Decimal, rate: Decimal | None) -> Decimal:
    """VAT of a breakdown: taxable amount × rate / 100, rounded to cents (BR-CO-17)."""
    if not rate:
        return round_amount(ZERO)
    return round_amount(taxable_amount * rate / HUNDRED)


# --- field checks ---------------------------------------------------------------------------------------


def _number(value: object, where: str) -> Decimal:
    if isinstance(value, float):
        raise _refuse(
            where,
            f"{value!r} is a float; give amounts, prices, quantities and rates as Decimal (e.g. Decimal('{value}')) "
            "so no cent is lost to binary rounding.",
            f"{value!r} is een float; geef bedragen, prijzen, aantallen en percentages als Decimal "
            f"(bijv. Decimal('{value}')) zodat er geen cent verloren gaat aan binaire afronding.",
        )
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise _refuse(
            where,
            f"{value!r} ({type(value).__name__}) is not a number; give a Decimal.",
            f"{value!r} ({type(value).__name__}) is geen getal; geef een Decimal.",
        )
    number = Decimal(value)
    if not number.is_finite():
        raise _refuse(where, f"{value} is not a finite number.", f"{value} is geen eindig getal.")
    if abs(number) >= MAX_MAGNITUDE:
        raise _refuse(
            where,
            f"{value} is implausibly large (the limit is {MAX_MAGNITUDE:,}).",
            f"{value} is onwaarschijnlijk groot (de grens is {MAX_MAGNITUDE:,}).",
        )
    return number if number else ZERO  # -0 and 0E-5 become plain 0


def _optional_number(value: object, where: str) -> Decimal | None:
    return None if value is None else _number(value, where)


def _amount(value: object, where: str) -> Decimal:
    """A money amount given as input: at most 2 decimals (BR-DEC-*)."""
    number = _number(value, where)
    if number != number.quantize(CENT, rounding=ROUND_HALF_UP):
        raise _refuse(
            where,
            f"The amount {value} has more than 2 decimals; EN 16931 allows at most 2.",
            f"Het bedrag {value} heeft meer dan 2 decimalen; EN 16931 staat er hoogstens 2 toe.",
        )
    return round_amount(number)


def _text(value: object, where: str, *, required: bool) -> str:
    if not isinstance(value, str):
        raise _refuse(
            where,
            f"{value!r} ({type(value).__name__}) is not text.",
            f"{value!r} ({type(value).__name__}) is geen tekst.",
        )
    if required and not value.strip():
        raise _refuse(where, "This is required and may not be empty.", "Dit is verplicht en mag niet leeg zijn.")
    if value and not value.strip():
        raise _refuse(
            where,
            "This contains only spaces; leave it empty or fill it in (Peppol forbids empty elements).",
            "Dit bevat alleen spaties; laat het leeg of vul het in (Peppol verbiedt lege elementen).",
        )
    if _NOT_XML_CHARACTERS.search(value):
        raise _refuse(
            where,
            "This contains a control character that XML cannot carry.",
            "Dit bevat een stuurteken dat XML niet kan bevatten.",
        )
    return value


def _code(value: object, where: str, allowed: frozenset[str], what: Text) -> str:
    code = _text(value, where, required=True)
    if code not in allowed:
        raise _refuse(
            where,
            f"'{code}' is not a known {what.en} code.",
            f"'{code}' is geen bekende code voor {what.nl}.",
        )
    return code


def _date(value: object, where: str, *, required: bool = False) -> date | None:
    if value is None and not required:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _refuse(
            where,
            f"{value!r} is not a date (datetime.date, without a time).",
            f"{value!r} is geen datum (datetime.date, zonder tijd).",
        )
    return value


def _set(instance: object, name: str, value: object) -> None:
    object.__setattr__(instance, name, value)


def _tuple(value: object, where: str, kind: type) -> tuple:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise _refuse(where, f"Expected a sequence of {kind.__name__}.", f"Verwacht een reeks van {kind.__name__}.")
    items = tuple(value)
    for index, item in enumerate(items):
        if not isinstance(item, kind):
            raise _refuse(
                f"{where}[{index}]",
                f"Expected a {kind.__name__}, got {type(item).__name__}.",
                f"Verwacht een {kind.__name__}, kreeg {type(item).__name__}.",
            )
    return items


def _format_number(value: Decimal) -> str:
    return f"{value.normalize():f}"


# --- VAT ------------------------------------------------------------------------------------------------


class VatCategory(StrEnum):
    """UNCL 5305 VAT category codes used by EN 16931 (the Italian split payment "B" is not supported)."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"
    CANARY_ISLANDS_IGIC = "L"
    CEUTA_MELILLA_IPSI = "M"

    @property
    def needs_exemption_reason(self) -> bool:
        return self in _EXEMPT_CATEGORIES

    @property
    def rate_is_zero(self) -> bool:
        return self in _ZERO_RATE_CATEGORIES


_EXEMPT_CATEGORIES = frozenset(
    {
        VatCategory.EXEMPT,
        VatCategory.REVERSE_CHARGE,
        VatCategory.INTRA_COMMUNITY,
        VatCategory.EXPORT,
        VatCategory.NOT_SUBJECT,
    }
)
_ZERO_RATE_CATEGORIES = frozenset(
    {
        VatCategory.ZERO_RATED,
        VatCategory.EXEMPT,
        VatCategory.REVERSE_CHARGE,
        VatCategory.INTRA_COMMUNITY,
        VatCategory.EXPORT,
    }
)
# PEPPOL-EN16931-P0104..P0111: these exemption reason codes belong to exactly one category.
_EXEMPTION_CODE_CATEGORY = {
    "VATEX-EU-G": VatCategory.EXPORT,
    "VATEX-EU-O": VatCategory.NOT_SUBJECT,
    "VATEX-EU-IC": VatCategory.INTRA_COMMUNITY,
    "VATEX-EU-AE": VatCategory.REVERSE_CHARGE,
    "VATEX-EU-D": VatCategory.EXEMPT,
    "VATEX-EU-F": VatCategory.EXEMPT,
    "VATEX-EU-I": VatCategory.EXEMPT,
    "VATEX-EU-J": VatCategory.EXEMPT,
}


@dataclass(frozen=True)
class Vat:
    """How VAT applies to a line, allowance or charge: category, rate and, where required, the exemption reason.

    Use the constructors (``Vat.standard(Decimal("21"))``, ``Vat.exempt(reason=...)``, ``Vat.reverse_charge()``,
    ...). S, L and M need a rate; Z, E, AE, K and G have rate 0; O has no rate (BR-O-05). E, AE, K, G and O
    need an exemption reason code or text (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10); the others may not
    have one (BR-S-10, BR-Z-10, BR-AF-10, BR-AG-10).
    """

    category: VatCategory
    rate: Decimal | None = None
    exemption_reason_code: str = ""
    exemption_reason: str = ""

    def __post_init__(self) -> None:
        try:
            category = VatCategory(self.category)
        except ValueError:
            known = ", ".join(c.value for c in VatCategory)
            raise _refuse(
                "vat.category",
                f"'{self.category}' is not a VAT category we can send; use one of {known}.",
                f"'{self.category}' is geen btw-categorie die we kunnen versturen; gebruik een van {known}.",
            ) from None
        _set(self, "category", category)
        rate = _optional_number(self.rate, "vat.rate")
        if rate is None and category.rate_is_zero:
            rate = ZERO
        if category is VatCategory.NOT_SUBJECT:
            if rate is not None:
                raise _refuse(
                    "vat.rate",
                    "VAT category O (not subject to VAT) has no rate (BR-O-05); leave the rate empty.",
                    "Btw-categorie O (niet onderworpen aan btw) heeft geen percentage (BR-O-05); laat het leeg.",
                )
        elif rate is None:
            raise _refuse(
                "vat.rate",
                f"VAT category {category} needs a rate.",
                f"Btw-categorie {category} heeft een percentage nodig.",
            )
        elif category is VatCategory.STANDARD and rate <= 0:
            raise _refuse(
                "vat.rate",
                f"VAT category S (standard rate) needs a rate above 0, not {rate} (BR-S-05); use Z for 0%.",
                f"Btw-categorie S (standaardtarief) vraagt een percentage boven 0, niet {rate} (BR-S-05); "
                "gebruik Z voor 0%.",
            )
        elif category.rate_is_zero and rate != 0:
            raise _refuse(
                "vat.rate",
                f"VAT category {category} always has rate 0, not {rate}.",
                f"Btw-categorie {category} heeft altijd percentage 0, niet {rate}.",
            )
        elif rate < 0 or rate > HUNDRED:
            raise _refuse(
                "vat.rate",
                f"A VAT rate of {rate}% is not possible.",
                f"Een btw-percentage van {rate}% is niet mogelijk.",
            )
        _set(self, "rate", None if rate is None else rate.normalize() if rate else ZERO)
        code = _text(self.exemption_reason_code, "vat.exemption_reason_code", required=False)
        reason = _text(self.exemption_reason, "vat.exemption_reason", required=False)
        if category.needs_exemption_reason:
            if not code and not reason:
                raise _refuse(
                    "vat.exemption_reason",
                    f"VAT category {category} needs an exemption reason code (VATEX) or text.",
                    f"Btw-categorie {category} heeft een vrijstellingsreden nodig (VATEX-code of tekst).",
                )
        elif code or reason:
            raise _refuse(
                "vat.exemption_reason",
                f"VAT category {category} may not have an exemption reason.",
                f"Btw-categorie {category} mag geen vrijstellingsreden hebben.",
            )
        if code:
            if code not in VAT_EXEMPTION_REASON_CODES:
                raise _refuse(
                    "vat.exemption_reason_code",
                    f"'{code}' is not a VATEX exemption reason code.",
                    f"'{code}' is geen VATEX-vrijstellingscode.",
                )
            owner = _EXEMPTION_CODE_CATEGORY.get(code)
            if (owner is not None and owner is not category) or (owner is None and category is not VatCategory.EXEMPT):
                raise _refuse(
                    "vat.exemption_reason_code",
                    f"The exemption reason code {code} does not belong to VAT category {category}.",
                    f"De vrijstellingscode {code} hoort niet bij btw-categorie {category}.",
                )

    # Constructors that read like the AFAS VAT codes they come from.
    @classmethod
    def standard(cls, rate: Decimal) -> Vat:
        return cls(VatCategory.STANDARD, rate)

    @classmethod
    def zero_rated(cls) -> Vat:
        return cls(VatCategory.ZERO_RATED, ZERO)

    @classmethod
    def exempt(cls, reason: str = "", code: str = "") -> Vat:
        return cls(VatCategory.EXEMPT, ZERO, exemption_reason_code=code, exemption_reason=reason)

    @classmethod
    def reverse_charge(cls, reason: str = "Reverse charge", code: str = "VATEX-EU-AE") -> Vat:
        return cls(VatCategory.REVERSE_CHARGE, ZERO, exemption_reason_code=code, exemption_reason=reason)

    @classmethod
    def intra_community(cls, reason: str = "Intra-community supply", code: str = "VATEX-EU-IC") -> Vat:
        return cls(VatCategory.INTRA_COMMUNITY, ZERO, exemption_reason_code=code, exemption_reason=reason)

    @classmethod
    def export(cls, reason: str = "Export outside the EU", code: str = "VATEX-EU-G") -> Vat:
        return cls(VatCategory.EXPORT, ZERO, exemption_reason_code=code, exemption_reason=reason)

    @classmethod
    def not_subject(cls, reason: str = "Not subject to VAT", code: str = "VATEX-EU-O") -> Vat:
        return cls(VatCategory.NOT_SUBJECT, None, exemption_reason_code=code, exemption_reason=reason)

    @classmethod
    def canary_islands(cls, rate: Decimal) -> Vat:
        return cls(VatCategory.CANARY_ISLANDS_IGIC, rate)

    @classmethod
    def ceuta_melilla(cls, rate: Decimal) -> Vat:
        return cls(VatCategory.CEUTA_MELILLA_IPSI, rate)

    @property
    def breakdown_key(self) -> tuple[VatCategory, Decimal | None]:
        """One VAT breakdown (``cac:TaxSubtotal``) per category and rate."""
        return (self.category, self.rate)

    @property
    def rate_text(self) -> str | None:
        return None if self.rate is None else _format_number(self.rate)

    def __str__(self) -> str:
        return f"{self.category}" if self.rate is None else f"{self.category} {self.rate_text}%"


# --- parties --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """A scheme and a value, e.g. ``Identifier("0106", "12345678")`` for a KvK number."""

    scheme: str
    value: str

    def __post_init__(self) -> None:
        _text(self.scheme, "identifier.scheme", required=True)
        _text(self.value, "identifier.value", required=True)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


@dataclass(frozen=True)
class Address:
    country_code: str
    street: str = ""
    additional_street: str = ""
    city: str = ""
    postal_zone: str = ""
    country_subdivision: str = ""
    address_line: str = ""

    def __post_init__(self) -> None:
        _code(self.country_code, "address.country_code", COUNTRY_CODES, Text("country", "land"))
        for name in ("street", "additional_street", "city", "postal_zone", "country_subdivision", "address_line"):
            _text(getattr(self, name), f"address.{name}", required=False)

    @property
    def is_complete(self) -> bool:
        """Street, city and postal code: what the Dutch rules (NL-R-002, NL-R-004) ask."""
        return bool(self.street and self.city and self.postal_zone)


@dataclass(frozen=True)
class Contact:
    name: str = ""
    telephone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "telephone", "email"):
            _text(getattr(self, name), f"contact.{name}", required=False)
        if not (self.name or self.telephone or self.email):
            raise _refuse(
                "contact",
                "A contact needs a name, telephone or email.",
                "Een contact heeft een naam, telefoon of e-mail nodig.",
            )


@dataclass(frozen=True)
class Party:
    """Seller or buyer.

    ``endpoint`` is the Peppol electronic address (``cbc:EndpointID``, e.g. 0106 + KvK); ``legal_id`` the legal
    registration (``cac:PartyLegalEntity/cbc:CompanyID``, KvK 0106 or OIN 0190 for Dutch parties);
    ``vat_id`` the VAT number with its country prefix (``cac:PartyTaxScheme``).
    """

    name: str
    endpoint: Identifier
    address: Address
    vat_id: str = ""
    legal_id: Identifier | None = None
    trading_name: str = ""
    contact: Contact | None = None

    def __post_init__(self) -> None:
        _text(self.name, "party.name", required=True)
        _text(self.trading_name, "party.trading_name", required=False)
        if not isinstance(self.endpoint, Identifier):
            raise _refuse(
                "party.endpoint",
                "The electronic address must be an Identifier.",
                "Het elektronisch adres moet een Identifier zijn.",
            )
        if self.endpoint.scheme not in ELECTRONIC_ADDRESS_SCHEMES:
            raise _refuse(
                "party.endpoint",
                f"'{self.endpoint.scheme}' is not a Peppol electronic address scheme (EAS), e.g. 0106 for a KvK number.",
                f"'{self.endpoint.scheme}' is geen Peppol-schema voor elektronische adressen (EAS), bijv. 0106 voor een KvK-nummer.",
            )
        if not isinstance(self.address, Address):
            raise _refuse(
                "party.address", "The postal address must be an Address.", "Het postadres moet een Address zijn."
            )
        vat_id = _text(self.vat_id, "party.vat_id", required=False)
        if vat_id and (vat_id[:2] not in VAT_ID_PREFIXES or len(vat_id) < 3):
            raise _refuse(
                "party.vat_id",
                f"The VAT number '{vat_id}' must start with its country code, e.g. NL123456789B01 (BR-CO-09).",
                f"Het btw-nummer '{vat_id}' moet met de landcode beginnen, bijv. NL123456789B01 (BR-CO-09).",
            )
        if self.legal_id is not None:
            if not isinstance(self.legal_id, Identifier):
                raise _refuse(
                    "party.legal_id",
                    "The legal registration must be an Identifier.",
                    "De inschrijving moet een Identifier zijn.",
                )
            if self.legal_id.scheme not in IDENTIFIER_SCHEMES:
                raise _refuse(
                    "party.legal_id",
                    f"'{self.legal_id.scheme}' is not an ISO 6523 scheme (e.g. 0106 KvK, 0190 OIN).",
                    f"'{self.legal_id.scheme}' is geen ISO 6523-schema (bijv. 0106 KvK, 0190 OIN).",
                )
            if self.is_dutch and self.legal_id.scheme not in DUTCH_LEGAL_ID_SCHEMES:
                raise _refuse(
                    "party.legal_id",
                    f"A Dutch party is registered with its KvK number (0106) or OIN (0190), not scheme {self.legal_id.scheme} "
                    "(NL-R-003, NL-R-005).",
                    f"Een Nederlandse partij staat ingeschreven met KvK-nummer (0106) of OIN (0190), niet met schema "
                    f"{self.legal_id.scheme} (NL-R-003, NL-R-005).",
                )
        if self.contact is not None and not isinstance(self.contact, Contact):
            raise _refuse("party.contact", "The contact must be a Contact.", "Het contact moet een Contact zijn.")

    @property
    def is_dutch(self) -> bool:
        return self.address.country_code == "NL"


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


# --- payment, references, attachments -------------------------------------------------------------------


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


# --- code lists -----------------------------------------------------------------------------------------
# Copied from the official rules: CEN EN 16931 UBL 1.3.16 and Peppol BIS Billing 3.0.21 (OpenPeppol 2026.5),
# ../shared/peppol/rules. Where both have a list, only codes both accept.

DUTCH_LEGAL_ID_SCHEMES = frozenset({"0106", "0190"})

# ISO 4217 (BR-CL-04 and PEPPOL-EN16931-CL007)
CURRENCY_CODES: frozenset[str] = frozenset(
    (
        "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD "
        "CDF CHE CHF CHW CLF CLP CNH CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
        "GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW "
        "KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN "
        "NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD "
        "SHP SLE SOS SRD SSP SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS "
        "VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR "
        "ZMW ZWG"
    ).split()
)
# ISO 3166-1 alpha-2 (BR-CL-14)
COUNTRY_CODES: frozenset[str] = frozenset(
    (
        "1A AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS "
        "BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG "
        "EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR "
        "HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR "
        "LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG "
        "NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE "
        "SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA "
        "UG UM US UY UZ VA VC VE VG VI VN VU WF WS XI YE YT ZA ZM ZW"
    ).split()
)
# EAS, the Peppol subset (PEPPOL-EN16931-CL008)
ELECTRONIC_ADDRESS_SCHEMES: frozenset[str] = frozenset(
    (
        "0002 0007 0009 0060 0088 0096 0097 0106 0130 0135 0142 0151 0183 0184 0188 0190 0191 0192 0195 0196 "
        "0198 0199 0200 0201 0204 0208 0209 0210 0211 0216 0218 0221 0225 0230 0235 0240 0242 0244 0245 0246 "
        "0248 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 "
        "9934 9935 9936 9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 "
        "9957 9959"
    ).split()
)
# ISO 6523 ICD (BR-CL-10, BR-CL-11)
IDENTIFIER_SCHEMES: frozenset[str] = frozenset(
    (
        "0002 0003 0004 0005 0006 0007 0008 0009 0010 0011 0012 0013 0014 0015 0016 0017 0018 0019 0020 0021 "
        "0022 0023 0024 0025 0026 0027 0028 0029 0030 0031 0032 0033 0034 0035 0036 0037 0038 0039 0040 0041 "
        "0042 0043 0044 0045 0046 0047 0048 0049 0050 0051 0052 0053 0054 0055 0056 0057 0058 0059 0060 0061 "
        "0062 0063 0064 0065 0066 0067 0068 0069 0070 0071 0072 0073 0074 0075 0076 0077 0078 0079 0080 0081 "
        "0082 0083 0084 0085 0086 0087 0088 0089 0090 0091 0093 0094 0095 0096 0097 0098 0099 0100 0101 0102 "
        "0104 0105 0106 0107 0108 0109 0110 0111 0112 0113 0114 0115 0116 0117 0118 0119 0120 0121 0122 0123 "
        "0124 0125 0126 0127 0128 0129 0130 0131 0132 0133 0134 0135 0136 0137 0138 0139 0140 0141 0142 0143 "
        "0144 0145 0146 0147 0148 0149 0150 0151 0152 0153 0154 0155 0156 0157 0158 0159 0160 0161 0162 0163 "
        "0164 0165 0166 0167 0168 0169 0170 0171 0172 0173 0174 0175 0176 0177 0178 0179 0180 0183 0184 0185 "
        "0186 0187 0188 0189 0190 0191 0192 0193 0194 0195 0196 0197 0198 0199 0200 0201 0202 0203 0204 0205 "
        "0206 0207 0208 0209 0210 0211 0212 0213 0214 0215 0216 0217 0218 0219 0220 0221 0222 0223 0224 0225 "
        "0226 0227 0228 0229 0230 0231 0232 0233 0234 0235 0236 0237 0238 0239 0240 0241 0242 0243 0244 0245 "
        "0246 0247 0248"
    ).split()
)
# CEF VATEX (BR-CL-22)
VAT_EXEMPTION_REASON_CODES: frozenset[str] = frozenset(
    (
        "VATEX-EU-132 VATEX-EU-132-1A VATEX-EU-132-1B VATEX-EU-132-1C VATEX-EU-132-1D VATEX-EU-132-1E VATEX- "
        "EU-132-1F VATEX-EU-132-1G VATEX-EU-132-1H VATEX-EU-132-1I VATEX-EU-132-1J VATEX-EU-132-1K VATEX- "
        "EU-132-1L VATEX-EU-132-1M VATEX-EU-132-1N VATEX-EU-132-1O VATEX-EU-132-1P VATEX-EU-132-1Q VATEX- "
        "EU-135-1 VATEX-EU-143 VATEX-EU-143-1A VATEX-EU-143-1B VATEX-EU-143-1C VATEX-EU-143-1D VATEX- "
        "EU-143-1E VATEX-EU-143-1F VATEX-EU-143-1FA VATEX-EU-143-1G VATEX-EU-143-1H VATEX-EU-143-1I VATEX- "
        "EU-143-1J VATEX-EU-143-1K VATEX-EU-143-1L VATEX-EU-144 VATEX-EU-146-1E VATEX-EU-148 VATEX-EU-148-A "
        "VATEX-EU-148-B VATEX-EU-148-C VATEX-EU-148-D VATEX-EU-148-E VATEX-EU-148-F VATEX-EU-148-G VATEX- "
        "EU-151 VATEX-EU-151-1A VATEX-EU-151-1AA VATEX-EU-151-1B VATEX-EU-151-1C VATEX-EU-151-1D VATEX- "
        "EU-151-1E VATEX-EU-153 VATEX-EU-159 VATEX-EU-309 VATEX-EU-79-C VATEX-EU-AE VATEX-EU-D VATEX-EU-F "
        "VATEX-EU-G VATEX-EU-I VATEX-EU-IC VATEX-EU-J VATEX-EU-O VATEX-FR-298SEXDECIESA VATEX-FR-AE VATEX-FR- "
        "CGI261-1 VATEX-FR-CGI261-2 VATEX-FR-CGI261-3 VATEX-FR-CGI261-4 VATEX-FR-CGI261-5 VATEX-FR-CGI261-7 "
        "VATEX-FR-CGI261-8 VATEX-FR-CGI261A VATEX-FR-CGI261B VATEX-FR-CGI261C-1 VATEX-FR-CGI261C-2 VATEX-FR- "
        "CGI261C-3 VATEX-FR-CGI261D-1 VATEX-FR-CGI261D-1BIS VATEX-FR-CGI261D-2 VATEX-FR-CGI261D-3 VATEX-FR- "
        "CGI261D-4 VATEX-FR-CGI261E-1 VATEX-FR-CGI261E-2 VATEX-FR-CGI275 VATEX-FR-CGI277A VATEX-FR-CGI295 "
        "VATEX-FR-CNWVAT VATEX-FR-FRANCHISE"
    ).split()
)
# UNCL 4461 (BR-CL-16)
PAYMENT_MEANS_CODES: frozenset[str] = frozenset(
    (
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 "
        "37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 "
        "70 74 75 76 77 78 91 92 93 94 95 96 97 98 ZZZ"
    ).split()
)
# UNCL 5189 subset (BR-CL-19, PEPPOL-EN16931-CL002)
ALLOWANCE_REASON_CODES: frozenset[str] = frozenset(
    "41 42 60 62 63 64 65 66 67 68 70 71 88 95 100 102 103 104 105".split()
)
# UNCL 7161 (BR-CL-20, PEPPOL-EN16931-CL003)
CHARGE_REASON_CODES: frozenset[str] = frozenset(
    (
        "AA AAA AAC AAD AAE AAF AAH AAI AAS AAT AAV AAY AAZ ABA ABB ABC ABD ABF ABK ABL ABN ABR ABS ABT ABU "
        "ACF ACG ACH ACI ACJ ACK ACL ACM ACS ADC ADE ADJ ADK ADL ADM ADN ADO ADP ADQ ADR ADT ADW ADY ADZ AEA "
        "AEB AEC AED AEF AEH AEI AEJ AEK AEL AEM AEN AEO AEP AES AET AEU AEV AEW AEX AEY AEZ AJ AU CA CAB CAD "
        "CAE CAF CAI CAJ CAK CAL CAM CAN CAO CAP CAQ CAR CAS CAT CAU CAV CAW CAX CAY CAZ CD CG CS CT DAB DAC "
        "DAD DAF DAG DAH DAI DAJ DAK DAL DAM DAN DAO DAP DAQ DL EG EP ER FAA FAB FAC FC FH FI GAA HAA HD HH "
        "IAA IAB ID IF IR IS KO L1 LA LAA LAB LF MAE MI ML NAA OA PA PAA PC PL PRV RAB RAC RAD RAF RE RF RH "
        "RV SA SAA SAD SAE SAI SG SH SM SU TAB TAC TT TV V1 V2 WH XAA YY ZZZ"
    ).split()
)
# Peppol MIME subset (PEPPOL-EN16931-CL001)
ATTACHMENT_MIME_CODES: frozenset[str] = frozenset(
    (
        "application/pdf image/png image/jpeg text/csv application/vnd.openxmlformats- "
        "officedocument.spreadsheetml.sheet application/vnd.oasis.opendocument.spreadsheet"
    ).split()
)
# UN/ECE Recommendation 20 with Rec 21 (BR-CL-23)
UNIT_CODES: frozenset[str] = frozenset(
    (
        "10 11 13 14 15 1I 20 21 22 23 24 25 27 28 2A 2B 2C 2G 2H 2I 2J 2K 2L 2M 2N 2P 2Q 2R 2U 2X 2Y 2Z 33 "
        "34 35 37 38 3B 3C 40 41 4C 4G 4H 4K 4L 4M 4N 4O 4P 4Q 4R 4T 4U 4W 4X 56 57 58 59 5A 5B 5E 5J 60 61 "
        "74 77 80 81 85 87 89 91 A10 A11 A12 A13 A14 A15 A16 A17 A18 A19 A2 A20 A21 A22 A23 A24 A26 A27 A28 "
        "A29 A3 A30 A31 A32 A33 A34 A35 A36 A37 A38 A39 A4 A40 A41 A42 A43 A44 A45 A47 A48 A49 A5 A53 A54 A55 "
        "A56 A59 A6 A68 A69 A7 A70 A71 A73 A74 A75 A76 A8 A84 A85 A86 A87 A88 A89 A9 A90 A91 A93 A94 A95 A96 "
        "A97 A98 A99 AA AB ACR ACT AD AE AH AI AK AL AMH AMP ANN APZ AQ AS ASM ASU ATM AWG AY AZ B1 B10 B11 "
        "B12 B13 B14 B15 B16 B17 B18 B19 B20 B21 B22 B23 B24 B25 B26 B27 B28 B29 B3 B30 B31 B32 B33 B34 B35 "
        "B4 B41 B42 B43 B44 B45 B46 B47 B48 B49 B50 B52 B53 B54 B55 B56 B57 B58 B59 B60 B61 B62 B63 B64 B66 "
        "B67 B68 B69 B7 B70 B71 B72 B73 B74 B75 B76 B77 B78 B79 B8 B80 B81 B82 B83 B84 B85 B86 B87 B88 B89 "
        "B90 B91 B92 B93 B94 B95 B96 B97 B98 B99 BAR BB BFT BHP BIL BLD BLL BP BPM BQL BTU BUA BUI C0 C10 C11 "
        "C12 C13 C14 C15 C16 C17 C18 C19 C20 C21 C22 C23 C24 C25 C26 C27 C28 C29 C3 C30 C31 C32 C33 C34 C35 "
        "C36 C37 C38 C39 C40 C41 C42 C43 C44 C45 C46 C47 C48 C49 C50 C51 C52 C53 C54 C55 C56 C57 C58 C59 C60 "
        "C61 C62 C63 C64 C65 C66 C67 C68 C69 C7 C70 C71 C72 C73 C74 C75 C76 C78 C79 C8 C80 C81 C82 C83 C84 "
        "C85 C86 C87 C88 C89 C9 C90 C91 C92 C93 C94 C95 C96 C97 C99 CCT CDL CEL CEN CG CGM CKG CLF CLT CMK "
        "CMQ CMT CNP CNT COU CTG CTM CTN CUR CWA CWI D03 D04 D1 D10 D11 D12 D13 D15 D16 D17 D18 D19 D2 D20 "
        "D21 D22 D23 D24 D25 D26 D27 D29 D30 D31 D32 D33 D34 D36 D41 D42 D43 D44 D45 D46 D47 D48 D49 D5 D50 "
        "D51 D52 D53 D54 D55 D56 D57 D58 D59 D6 D60 D61 D62 D63 D65 D68 D69 D73 D74 D77 D78 D80 D81 D82 D83 "
        "D85 D86 D87 D88 D89 D91 D93 D94 D95 DAA DAD DAY DB DBM DBW DD DEC DG DJ DLT DMA DMK DMO DMQ DMT DN "
        "DPC DPR DPT DRA DRI DRL DT DTN DWT DZN DZP E01 E07 E08 E09 E10 E12 E14 E15 E16 E17 E18 E19 E20 E21 "
        "E22 E23 E25 E27 E28 E30 E31 E32 E33 E34 E35 E36 E37 E38 E39 E4 E40 E41 E42 E43 E44 E45 E46 E47 E48 "
        "E49 E50 E51 E52 E53 E54 E55 E56 E57 E58 E59 E60 E61 E62 E63 E64 E65 E66 E67 E68 E69 E70 E71 E72 E73 "
        "E74 E75 E76 E77 E78 E79 E80 E81 E82 E83 E84 E85 E86 E87 E88 E89 E90 E91 E92 E93 E94 E95 E96 E97 E98 "
        "E99 EA EB EQ F01 F02 F03 F04 F05 F06 F07 F08 F10 F11 F12 F13 F14 F15 F16 F17 F18 F19 F20 F21 F22 F23 "
        "F24 F25 F26 F27 F28 F29 F30 F31 F32 F33 F34 F35 F36 F37 F38 F39 F40 F41 F42 F43 F44 F45 F46 F47 F48 "
        "F49 F50 F51 F52 F53 F54 F55 F56 F57 F58 F59 F60 F61 F62 F63 F64 F65 F66 F67 F68 F69 F70 F71 F72 F73 "
        "F74 F75 F76 F77 F78 F79 F80 F81 F82 F83 F84 F85 F86 F87 F88 F89 F90 F91 F92 F93 F94 F95 F96 F97 F98 "
        "F99 FAH FAR FBM FC FF FH FIT FL FNU FOT FP FR FS FTK FTQ G01 G04 G05 G06 G08 G09 G10 G11 G12 G13 G14 "
        "G15 G16 G17 G18 G19 G2 G20 G21 G23 G24 G25 G26 G27 G28 G29 G3 G30 G31 G32 G33 G34 G35 G36 G37 G38 "
        "G39 G40 G41 G42 G43 G44 G45 G46 G47 G48 G49 G50 G51 G52 G53 G54 G55 G56 G57 G58 G59 G60 G61 G62 G63 "
        "G64 G65 G66 G67 G68 G69 G70 G71 G72 G73 G74 G75 G76 G77 G78 G79 G80 G81 G82 G83 G84 G85 G86 G87 G88 "
        "G89 G90 G91 G92 G93 G94 G95 G96 G97 G98 G99 GB GBQ GDW GE GF GFI GGR GIA GIC GII GIP GJ GL GLD GLI "
        "GLL GM GO GP GQ GRM GRN GRO GV GWH H03 H04 H05 H06 H07 H08 H09 H10 H11 H12 H13 H14 H15 H16 H18 H19 "
        "H20 H21 H22 H23 H24 H25 H26 H27 H28 H29 H30 H31 H32 H33 H34 H35 H36 H37 H38 H39 H40 H41 H42 H43 H44 "
        "H45 H46 H47 H48 H49 H50 H51 H52 H53 H54 H55 H56 H57 H58 H59 H60 H61 H62 H63 H64 H65 H66 H67 H68 H69 "
        "H70 H71 H72 H73 H74 H75 H76 H77 H79 H80 H81 H82 H83 H84 H85 H87 H88 H89 H90 H91 H92 H93 H94 H95 H96 "
        "H98 H99 HA HAD HBA HBX HC HDW HEA HGM HH HIU HKM HLT HM HMO HMQ HMT HPA HTZ HUR HWE IA IE INH INK "
        "INQ ISD IU IUG IV J10 J12 J13 J14 J15 J16 J17 J18 J19 J2 J20 J21 J22 J23 J24 J25 J26 J27 J28 J29 J30 "
        "J31 J32 J33 J34 J35 J36 J38 J39 J40 J41 J42 J43 J44 J45 J46 J47 J48 J49 J50 J51 J52 J53 J54 J55 J56 "
        "J57 J58 J59 J60 J61 J62 J63 J64 J65 J66 J67 J68 J69 J70 J71 J72 J73 J74 J75 J76 J78 J79 J81 J82 J83 "
        "J84 J85 J87 J90 J91 J92 J93 J95 J96 J97 J98 J99 JE JK JM JNT JOU JPS JWL K1 K10 K11 K12 K13 K14 K15 "
        "K16 K17 K18 K19 K2 K20 K21 K22 K23 K26 K27 K28 K3 K30 K31 K32 K33 K34 K35 K36 K37 K38 K39 K40 K41 "
        "K42 K43 K45 K46 K47 K48 K49 K50 K51 K52 K53 K54 K55 K58 K59 K6 K60 K61 K62 K63 K64 K65 K66 K67 K68 "
        "K69 K70 K71 K73 K74 K75 K76 K77 K78 K79 K80 K81 K82 K83 K84 K85 K86 K87 K88 K89 K90 K91 K92 K93 K94 "
        "K95 K96 K97 K98 K99 KA KAT KB KBA KCC KDW KEL KGM KGS KHY KHZ KI KIC KIP KJ KJO KL KLK KLX KMA KMH "
        "KMK KMQ KMT KNI KNM KNS KNT KO KPA KPH KPO KPP KR KSD KSH KT KTN KUR KVA KVR KVT KW KWH KWN KWO KWS "
        "KWT KWY KX L10 L11 L12 L13 L14 L15 L16 L17 L18 L19 L2 L20 L21 L23 L24 L25 L26 L27 L28 L29 L30 L31 "
        "L32 L33 L34 L35 L36 L37 L38 L39 L40 L41 L42 L43 L44 L45 L46 L47 L48 L49 L50 L51 L52 L53 L54 L55 L56 "
        "L57 L58 L59 L60 L63 L64 L65 L66 L67 L68 L69 L70 L71 L72 L73 L74 L75 L76 L77 L78 L79 L80 L81 L82 L83 "
        "L84 L85 L86 L87 L88 L89 L90 L91 L92 L93 L94 L95 L96 L98 L99 LA LAC LBR LBT LD LEF LF LH LK LM LN LO "
        "LP LPA LR LS LTN LTR LUB LUM LUX LY M1 M10 M11 M12 M13 M14 M15 M16 M17 M18 M19 M20 M21 M22 M23 M24 "
        "M25 M26 M27 M29 M30 M31 M32 M33 M34 M35 M36 M37 M38 M39 M4 M40 M41 M42 M43 M44 M45 M46 M47 M48 M49 "
        "M5 M50 M51 M52 M53 M55 M56 M57 M58 M59 M60 M61 M62 M63 M64 M65 M66 M67 M68 M69 M7 M70 M71 M72 M73 "
        "M74 M75 M76 M77 M78 M79 M80 M81 M82 M83 M84 M85 M86 M87 M88 M89 M9 M90 M91 M92 M93 M94 M95 M96 M97 "
        "M98 M99 MAH MAL MAM MAR MAW MBE MBF MBR MC MCU MD MGM MHZ MIK MIL MIN MIO MIU MKD MKM MKW MLD MLT "
        "MMK MMQ MMT MND MNJ MON MPA MQD MQH MQM MQS MQW MRD MRM MRW MSK MTK MTQ MTR MTS MTZ MVA MWH N1 N10 "
        "N11 N12 N13 N14 N15 N16 N17 N18 N19 N20 N21 N22 N23 N24 N25 N26 N27 N28 N29 N3 N30 N31 N32 N33 N34 "
        "N35 N36 N37 N38 N39 N40 N41 N42 N43 N44 N45 N46 N47 N48 N49 N50 N51 N52 N53 N54 N55 N56 N57 N58 N59 "
        "N60 N61 N62 N63 N64 N65 N66 N67 N68 N69 N70 N71 N72 N73 N74 N75 N76 N77 N78 N79 N80 N81 N82 N83 N84 "
        "N85 N86 N87 N88 N89 N90 N91 N92 N93 N94 N95 N96 N97 N98 N99 NA NAR NCL NEW NF NIL NIU NL NM3 NMI NMP "
        "NPT NT NTU NU NX OA ODE ODG ODK ODM OHM ON ONZ OPM OT OZA OZI P1 P10 P11 P12 P13 P14 P15 P16 P17 P18 "
        "P19 P2 P20 P21 P22 P23 P24 P25 P26 P27 P28 P29 P30 P31 P32 P33 P34 P35 P36 P37 P38 P39 P40 P41 P42 "
        "P43 P44 P45 P46 P47 P48 P49 P5 P50 P51 P52 P53 P54 P55 P56 P57 P58 P59 P60 P61 P62 P63 P64 P65 P66 "
        "P67 P68 P69 P70 P71 P72 P73 P74 P75 P76 P77 P78 P79 P80 P81 P82 P83 P84 P85 P86 P87 P88 P89 P90 P91 "
        "P92 P93 P94 P95 P96 P97 P98 P99 PAL PD PFL PGL PI PLA PO PQ PR PS PTD PTI PTL PTN Q10 Q11 Q12 Q13 "
        "Q14 Q15 Q16 Q17 Q18 Q19 Q20 Q21 Q22 Q23 Q24 Q25 Q26 Q27 Q28 Q29 Q3 Q30 Q31 Q32 Q33 Q34 Q35 Q36 Q37 "
        "Q38 Q39 Q40 Q41 Q42 QA QAN QB QR QTD QTI QTL QTR R1 R9 RH RM ROM RP RPM RPS RT S3 S4 SAN SCO SCR SEC "
        "SET SG SIE SM3 SMI SQ SQR SR STC STI STK STL STN STW SW SX SYR T0 T3 TAH TAN TI TIC TIP TKM TMS TNE "
        "TP TPI TPR TQD TRL TST TTS U1 U2 UB UC VA VLT VP W2 WA WB WCD WE WEB WEE WG WHR WM WSD WTT X1 X1A "
        "X1B X1D X1F X1G X1W X2C X3A X3H X43 X44 X4A X4B X4C X4D X4F X4G X4H X5H X5L X5M X6H X6P X7A X7B X8A "
        "X8B X8C XAA XAB XAC XAD XAE XAF XAG XAH XAI XAJ XAL XAM XAP XAT XAV XB4 XBA XBB XBC XBD XBE XBF XBG "
        "XBH XBI XBJ XBK XBL XBM XBN XBO XBP XBQ XBR XBS XBT XBU XBV XBW XBX XBY XBZ XCA XCB XCC XCD XCE XCF "
        "XCG XCH XCI XCJ XCK XCL XCM XCN XCO XCP XCQ XCR XCS XCT XCU XCV XCW XCX XCY XCZ XDA XDB XDC XDG XDH "
        "XDI XDJ XDK XDL XDM XDN XDP XDR XDS XDT XDU XDV XDW XDX XDY XEC XED XEE XEF XEG XEH XEI XEN XFB XFC "
        "XFD XFE XFI XFL XFO XFP XFR XFT XFW XFX XGB XGI XGL XGR XGU XGY XGZ XHA XHB XHC XHG XHN XHR XIA XIB "
        "XIC XID XIE XIF XIG XIH XIK XIL XIN XIZ XJB XJC XJG XJR XJT XJY XKG XKI XLE XLG XLT XLU XLV XLZ XMA "
        "XMB XMC XME XMR XMS XMT XMW XMX XNA XNE XNF XNG XNS XNT XNU XNV XO1 XO2 XO3 XO4 XO5 XO6 XO7 XO8 XO9 "
        "XOA XOB XOC XOD XOE XOF XOG XOH XOI XOJ XOK XOL XOM XON XOP XOQ XOR XOS XOT XOU XOV XOW XOX XOY XOZ "
        "XP1 XP2 XP3 XP4 XPA XPB XPC XPD XPE XPF XPG XPH XPI XPJ XPK XPL XPN XPO XPP XPR XPT XPU XPV XPX XPY "
        "XPZ XQA XQB XQC XQD XQF XQG XQH XQJ XQK XQL XQM XQN XQP XQQ XQR XQS XRD XRG XRJ XRK XRL XRO XRT XRZ "
        "XSA XSB XSC XSD XSE XSH XSI XSK XSL XSM XSO XSP XSS XST XSU XSV XSW XSX XSY XSZ XT1 XTB XTC XTD XTE "
        "XTG XTI XTK XTL XTN XTO XTR XTS XTT XTU XTV XTW XTY XTZ XUC XUN XVA XVG XVI XVK XVL XVN XVO XVP XVQ "
        "XVR XVS XVY XWA XWB XWC XWD XWF XWG XWH XWJ XWK XWL XWM XWN XWP XWQ XWR XWS XWT XWU XWV XWW XWX XWY "
        "XWZ XXA XXB XXC XXD XXF XXG XXH XXJ XXK XYA XYB XYC XYD XYF XYG XYH XYJ XYK XYL XYM XYN XYP XYQ XYR "
        "XYS XYT XYV XYW XYX XYY XYZ XZA XZB XZC XZD XZF XZG XZH XZJ XZK XZL XZM XZN XZP XZQ XZR XZS XZT XZU "
        "XZV XZW XZX XZY XZZ YDK YDQ YRD Z11 Z9 ZP ZZ"
    ).split()
)
# BR-CO-09: a VAT number starts with its ISO 3166 country code; Greece uses EL.
VAT_ID_PREFIXES: frozenset[str] = COUNTRY_CODES | {"EL"}
