"""VAT: the categories of UNCL 5305 and a ``Vat`` (category, rate and exemption) with the rules EN 16931 sets for
each category."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from integrations.peppol.model.checks import HUNDRED, ZERO, _format_number, _optional_number, _refuse, _set, _text
from integrations.peppol.model.codelists import VAT_EXEMPTION_REASON_CODES

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
