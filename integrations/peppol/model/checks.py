"""How the document model checks what it is given: the error it raises (in English and Dutch, with where), the
rounding of amounts, and the checks of numbers, texts, codes and dates every part of the model uses."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

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
