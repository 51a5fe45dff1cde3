"""The number rules of each identifier scheme (KvK, OIN, GLN, Dutch, Belgian and German VAT, Nordic organisation
numbers, ...): each says, in English and Dutch, what is wrong with a value, or nothing."""

from __future__ import annotations

import re

from stdnum import ean, luhn
from stdnum.au import abn
from stdnum.be import vat as be_vat
from stdnum.dk import cvr as dk_cvr
from stdnum.iso7064 import mod_11_10, mod_97_10
from stdnum.nl import bsn
from stdnum.no import orgnr as no_orgnr

from integrations.peppol.i18n import Text


def _digit_problem(value: str, length: int, noun: Text, *, after: str = "") -> Text | None:
    """What is wrong with a run of digits that should be exactly ``length`` long, or None.

    ``noun`` is how the reason names the number ("a KvK number" / "een KvK-nummer").
    """
    where_en = f" after {after}" if after else ""
    where_nl = f" na {after}" if after else ""
    stray = next((char for char in value if char not in "0123456789"), None)
    if stray is not None:
        return Text(
            f"contains {stray!r}{where_en}; {noun.en} has only digits{' there' if after else ''}",
            f"bevat {stray!r}{where_nl}; {noun.nl} heeft {'daar ' if after else ''}alleen cijfers",
        )
    if len(value) != length:
        return Text(
            f"has {_count(len(value), 'digit', 'digits')}{where_en}; {noun.en} has {length}",
            f"heeft {_count(len(value), 'cijfer', 'cijfers')}{where_nl}; {noun.nl} heeft er {length}",
        )
    if set(value) == {"0"}:
        return Text(
            f"has only zeros{where_en}, which {noun.en} never has",
            f"heeft alleen nullen{where_nl}, en dat heeft {noun.nl} nooit",
        )
    return None


def _prefix_problem(value: str, prefix: str, length: int, noun: Text) -> Text | None:
    if not value.startswith(prefix):
        return Text(
            f"does not start with {prefix}; {noun.en} is {prefix} followed by {length} digits",
            f"begint niet met {prefix}; {noun.nl} is {prefix} gevolgd door {length} cijfers",
        )
    return None


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def _check_digit_mismatch(method: str) -> Text:
    return Text(
        f"the check digit does not match ({method}); probably a typing error",
        f"het controlecijfer klopt niet ({method}); waarschijnlijk een tikfout",
    )


WELL_FORMED_NO_CHECK_DIGIT = Text(
    "well-formed; this scheme has no check digit, so only the format was checked",
    "juist opgebouwd; dit schema heeft geen controlecijfer, dus alleen de opbouw is gecontroleerd",
)


def well_formed_with_check(method: str) -> Text:
    return Text(
        f"well-formed, and the check digit matches ({method})",
        f"juist opgebouwd, en het controlecijfer klopt ({method})",
    )


_KVK = Text("a KvK number", "een KvK-nummer")
_OIN = Text("an OIN", "een OIN")
_NL_VAT = Text("a Dutch VAT number", "een Nederlands btw-nummer")
_GLN = Text("a GLN", "een GLN")
_BE_ENTERPRISE = Text("a Belgian enterprise number", "een Belgisch ondernemingsnummer")
_BE_VAT = Text("a Belgian VAT number", "een Belgisch btw-nummer")
_SE_ORGNR = Text("a Swedish organisation number", "een Zweeds organisatienummer")
_NO_ORGNR = Text("a Norwegian organisation number", "een Noors organisatienummer")
_DK_CVR = Text("a CVR number", "een CVR-nummer")
_DE_VAT = Text("a German VAT number", "een Duits btw-nummer")


def kvk_rule(value: str) -> Text | None:
    problem = _digit_problem(value, 8, _KVK)
    if problem is not None and len(value) == 7 and value.isascii() and value.isdigit():
        # Spreadsheets and number fields drop the leading 0 of the older KvK numbers.
        return Text(
            problem.en + " (perhaps a leading 0 was lost)",
            problem.nl + " (misschien is een 0 aan het begin weggevallen)",
        )
    return problem


def oin_rule(value: str) -> Text | None:
    return _digit_problem(value, 20, _OIN)


def _belgian_enterprise_problem(digits: str, noun: Text, *, after: str = "", first_digit: bool = True) -> Text | None:
    """Ten digits with the mod 97 check; ``first_digit``: and the first is 0 or 1 (the register's rule, which the
    official Peppol rule for 0208 does not check)."""
    problem = _digit_problem(digits, 10, noun, after=after)
    if problem is not None:
        if len(digits) == 9 and digits.isascii() and digits.isdigit():
            return Text(
                problem.en + " (an old 9-digit number takes a leading 0)",
                problem.nl + " (een oud nummer van 9 cijfers krijgt een 0 ervoor)",
            )
        return problem
    if first_digit and digits[0] not in "01":
        return Text(
            f"starts with {digits[0]}; {noun.en} starts with 0 or 1",
            f"begint met {digits[0]}; {noun.nl} begint met 0 of 1",
        )
    if be_vat.checksum(digits) != 0:
        return _check_digit_mismatch("mod 97")
    return None


def be_vat_rule(value: str) -> Text | None:
    return _prefix_problem(value, "BE", 10, _BE_VAT) or _belgian_enterprise_problem(value[2:], _BE_VAT, after="BE")


def se_orgnr_rule(value: str) -> Text | None:
    problem = _digit_problem(value, 10, _SE_ORGNR)
    if problem is None and not luhn.is_valid(value):
        return _check_digit_mismatch("Luhn")
    return problem


def no_orgnr_rule(value: str) -> Text | None:
    problem = _digit_problem(value, 9, _NO_ORGNR)
    if problem is None and no_orgnr.checksum(value) != 0:
        return _check_digit_mismatch("mod 11")
    return problem


def de_vat_rule(value: str) -> Text | None:
    problem = _prefix_problem(value, "DE", 9, _DE_VAT) or _digit_problem(value[2:], 9, _DE_VAT, after="DE")
    if problem is not None:
        return problem
    if value[2] == "0":
        return Text(
            f"starts with DE0; {_DE_VAT.en} never has 0 as its first digit",
            f"begint met DE0; {_DE_VAT.nl} heeft nooit 0 als eerste cijfer",
        )
    if not mod_11_10.is_valid(value[2:]):
        return _check_digit_mismatch("ISO 7064 mod 11,10")
    return None


_NL_VAT_SHAPE = re.compile(r"NL([0-9]*)B([0-9]*)")


def nl_vat_rule(value: str) -> Text | None:
    problem = _prefix_problem(value, "NL", 9, _NL_VAT)
    if problem is not None:
        return Text(
            f"does not start with NL; {_NL_VAT.en} is NL, 9 digits, B and 2 digits (NL123456789B01)",
            f"begint niet met NL; {_NL_VAT.nl} is NL, 9 cijfers, B en 2 cijfers (NL123456789B01)",
        )
    shape = _NL_VAT_SHAPE.fullmatch(value)
    if shape is None:
        return Text(
            f"is not NL, 9 digits, B and 2 digits; {_NL_VAT.en} looks like NL123456789B01",
            f"is niet NL, 9 cijfers, B en 2 cijfers; {_NL_VAT.nl} ziet eruit als NL123456789B01",
        )
    number, suffix = shape.groups()
    problem = _digit_problem(number, 9, _NL_VAT, after="NL") or _digit_problem(suffix, 2, _NL_VAT, after="B")
    if problem is not None:
        return problem
    # The Belastingdienst's two rules: mod 11 over the 9 digits (companies; the old sole-proprietor numbers
    # were BSN-based), and since 2020 the sole-proprietor "btw-id", which passes ISO 7064 mod 97 over NL+value.
    if not bsn.is_valid(number) and not mod_97_10.is_valid(value):
        return Text(
            "the check digits do not match (neither the mod 11 rule nor the mod 97 rule for sole proprietors); "
            "probably a typing error",
            "de controlecijfers kloppen niet (niet volgens de mod 11-regel en niet volgens de mod 97-regel voor "
            "eenmanszaken); waarschijnlijk een tikfout",
        )
    return None


def nl_vat_valid_reason(value: str) -> Text:
    if bsn.is_valid(value[2:11]):
        return well_formed_with_check("mod 11")
    return Text(
        "well-formed, and the check digits match (mod 97, the rule for sole proprietors' VAT ids)",
        "juist opgebouwd, en de controlecijfers kloppen (mod 97, de regel voor btw-id's van eenmanszaken)",
    )


# --- the official Peppol BIS rules (PEPPOL-COMMON-R040 …), as the stylesheet checks them -------------------------
# Never stricter than the stylesheet: a value it accepts, these accept.


def _only_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def gln_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R040: digits with a GS1 check digit."""
    if not _only_digits(value):
        return _digit_problem(value, max(len(value), 1), _GLN)
    if ean.calc_check_digit(value[:-1]) != value[-1]:  # as u:gln: GS1 mod 10 over any number of digits
        return _check_digit_mismatch("GS1 mod 10")
    return None


def dk_cvr_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R042: 8 digits, or DK and 8 digits (no check digit)."""
    return _digit_problem(value[2:] if value.startswith("DK") else value, 8, _DK_CVR)


def dk_cvr_national_rule(value: str) -> Text | None:
    """The CVR number's own mod 11 check, which the official rules leave out."""
    digits = value[2:] if value.startswith("DK") else value
    if digits[0] == "0":
        return Text(
            f"starts with 0; {_DK_CVR.en} never does",
            f"begint met 0; {_DK_CVR.nl} begint daar nooit mee",
        )
    if dk_cvr.checksum(digits) != 0:
        return _check_digit_mismatch("mod 11")
    return None


def dk_p_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R052: 10 digits."""
    return _digit_problem(value, 10, Text("a P number", "een P-nummer"))


def dk_erst_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R053: DK and 8 digits."""
    noun = Text("a Danish SE number", "een Deens SE-nummer")
    return _prefix_problem(value, "DK", 8, noun) or _digit_problem(value[2:], 8, noun, after="DK")


def be_enterprise_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R043: 10 digits, mod 97 over the first 8."""
    return _belgian_enterprise_problem(value, _BE_ENTERPRISE, first_digit=False)


def be_enterprise_national_rule(value: str) -> Text | None:
    if value[0] not in "01":
        return Text(
            f"starts with {value[0]}; {_BE_ENTERPRISE.en} starts with 0 or 1",
            f"begint met {value[0]}; {_BE_ENTERPRISE.nl} begint met 0 of 1",
        )
    return None


def abn_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R050: 11 digits and the ABN's mod 89."""
    noun = Text("an Australian Business Number", "een Australisch ondernemingsnummer (ABN)")
    problem = _digit_problem(value, 11, noun)
    if problem is None and not abn.is_valid(value):
        return _check_digit_mismatch("mod 89")
    return problem


def codice_ipa_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R044 (a warning): 6 letters or digits."""
    if len(value) != 6 or not (value.isascii() and value.isalnum()):
        return Text(
            f"is {_count(len(value), 'character', 'characters')} long or not only letters and digits; a Codice "
            "IPA has 6 letters or digits",
            f"is {_count(len(value), 'teken', 'tekens')} lang of niet alleen letters en cijfers; een Codice IPA "
            "heeft 6 letters of cijfers",
        )
    return None


def codice_fiscale_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R045/R046 (warnings): 11 digits, or the 16-character personal code's letter and digit
    positions."""
    if len(value) == 11 and _only_digits(value):
        return None
    if len(value) == 16:
        letters = value[:6] + value[8] + value[15]
        digits = value[6:8] + value[9:11] + value[14]
        if letters.isascii() and letters.isalpha() and _only_digits(digits):
            return None
    return Text(
        "is neither 11 digits nor a 16-character codice fiscale",
        "is geen 11 cijfers en geen codice fiscale van 16 tekens",
    )


def partita_iva_official_rule(value: str) -> Text | None:
    """PEPPOL-COMMON-R047 (a warning): IT and 11 digits with the Luhn-style check digit; other countries pass."""
    if value[:2].upper() != "IT":
        return None
    number = value[2:]
    noun = Text("a partita IVA", "een partita IVA")
    problem = _digit_problem(number, 11, noun, after="IT")
    if problem is None and not luhn.is_valid(number):
        return _check_digit_mismatch("Luhn")
    return problem
