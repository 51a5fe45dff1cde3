"""Peppol participant identifiers: parse both notations, store one, check the number.

A participant identifier is a scheme (a 4-digit ISO 6523 ICD code, e.g. ``0106`` for the KvK) and a value.
It is written two ways:

* the ICD form ``0106:12345678``, optionally with the ``iso6523-actorid-upis::`` prefix. This is the
  canonical form we store, and what EN 16931 documents carry (``<cbc:EndpointID schemeID="0106">``).
* the eConnect/AFAS form ``NL:KVK:12345678``: the scheme's letter code from the Peppol participant
  identifier scheme list. eConnect accepts both (https://psb.econnect.eu/misc/partyIds.html) and AFAS
  keeps this form in the debtor's "Bedrijfs-ID eConnect" (``EnId``).

Every scheme of OpenPeppol's code list is known in both notations (``schemes.py``). ``check_identifier`` then
says, with a precise bilingual reason: invalid (an official Peppol rule refuses the value, or the scheme was
removed), a warning (an official warning rule, the scheme's own check digit that the official rules leave out, or
a deprecated scheme), valid, or "format unknown" for a scheme nothing is known to check: never stricter than the
official rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from integrations.peppol.i18n import Text
from integrations.peppol.identifier_rules import WELL_FORMED_NO_CHECK_DIGIT, well_formed_with_check
from integrations.peppol.schemes import (
    ACTIVE,
    LETTERS_LONGEST_FIRST,
    REMOVED,
    SCHEMES,
    VAT_SCHEME_BY_PREFIX,
    Scheme,
)

UPIS_PREFIX = "iso6523-actorid-upis::"

# Peppol Policy for use of Identifiers, POLICY 1: a participant identifier value has at most 130 characters.
MAX_VALUE_LENGTH = 130

_ICD_FORM = re.compile(r"([0-9]{4})\s*:(.*)", re.DOTALL)
_EXAMPLES = "0106:12345678 / NL:KVK:12345678"


class IdentifierSyntaxError(ValueError):
    """The text is not a participant identifier at all (as opposed to a well-formed but invalid number)."""

    def __init__(self, message: Text):
        super().__init__(message.en)
        self.message = message


@dataclass(frozen=True)
class PeppolIdentifier:
    scheme: str
    value: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9]{4}", self.scheme):
            raise IdentifierSyntaxError(_scheme_not_four_digits(self.scheme))
        if not self.value:
            raise IdentifierSyntaxError(_empty_value(self.scheme))

    @property
    def icd(self) -> str:
        return f"{self.scheme}:{self.value}"

    @property
    def econnect(self) -> str | None:
        """The letter notation (``NL:KVK:12345678``); None for a scheme the code list does not have."""
        scheme = SCHEMES.get(self.scheme)
        return f"{scheme.letters}:{self.value}" if scheme is not None else None

    def __str__(self) -> str:
        return self.icd


class IdentifierStatus(StrEnum):
    VALID = "valid"
    WARNING = "warning"  # valid under the official rules, but a national check, a warning rule or the scheme's state
    INVALID = "invalid"  # refused by an official rule, or a scheme the code list removed
    FORMAT_UNKNOWN = "format_unknown"


@dataclass(frozen=True)
class IdentifierCheck:
    identifier: PeppolIdentifier
    status: IdentifierStatus
    scheme_name: Text
    reason: Text
    flagged_by_official_rule: bool = False  # a warning the official Peppol rules themselves give (R054 KvK, …)

    @property
    def is_valid(self) -> bool:
        return self.status is IdentifierStatus.VALID

    @property
    def is_invalid(self) -> bool:
        return self.status is IdentifierStatus.INVALID

    @property
    def has_problem(self) -> bool:
        """Invalid, or flagged by an official warning rule (a KvK number that is not 8 digits): what people type
        as master data (own identifiers, AFAS debtor fields) must not have, as it is a typing error there. A
        national check digit the official rules leave out, or a deprecated scheme, stays a warning: the number may
        be registered. A document's identifiers are judged by ``is_invalid`` alone, as the official rules do."""
        return self.status is IdentifierStatus.INVALID or self.flagged_by_official_rule


# --- parsing -------------------------------------------------------------------------------------------


def parse_identifier(text: str) -> PeppolIdentifier:
    """Read ``0106:12345678``, ``iso6523-actorid-upis::0106:12345678`` or ``NL:KVK:12345678``.

    Case and whitespace do not matter. For the schemes with rules, dots and hyphens inside the value are
    dropped too and letters upper-cased (Peppol compares participant values case-insensitively), so each
    participant has one canonical form. Anything else raises ``IdentifierSyntaxError``.
    """
    body = text.strip()
    if not body:
        raise IdentifierSyntaxError(Text("The identifier is empty.", "De identificatie is leeg."))
    if body[: len(UPIS_PREFIX)].lower() == UPIS_PREFIX:
        body = body[len(UPIS_PREFIX) :].strip()
    scheme, raw_value = _split_scheme(body)
    return PeppolIdentifier(scheme=scheme, value=_normalise_value(scheme, raw_value))


def _split_scheme(body: str) -> tuple[str, str]:
    icd_form = _ICD_FORM.fullmatch(body)
    if icd_form:
        return icd_form.group(1), icd_form.group(2)
    for prefix, scheme in LETTERS_LONGEST_FIRST:
        if body.upper() == prefix:
            raise IdentifierSyntaxError(_empty_value(scheme))
        head = prefix + ":"
        if body[: len(head)].upper() == head:
            return scheme, body[len(head) :]
    head = body.split(":", 1)[0].strip()
    if ":" not in body or not head:
        raise IdentifierSyntaxError(
            Text(
                f"{_quoted(body)} has no scheme; write it as scheme and number, e.g. {_EXAMPLES}.",
                f"{_quoted(body)} heeft geen schema; schrijf het als schema en nummer, bijv. {_EXAMPLES}.",
            )
        )
    if head.isascii() and head.isdigit():
        raise IdentifierSyntaxError(_scheme_not_four_digits(head))
    prefix = _quoted(body.rsplit(":", 1)[0])
    raise IdentifierSyntaxError(
        Text(
            f"{prefix} is not a scheme of the Peppol code list: use a 4-digit ICD code or its letter code such as "
            f"NL:KVK, NL:OINO, NL:VAT, GLN or DE:LWID (e.g. {_EXAMPLES}).",
            f"{prefix} is geen schema van de Peppol-codelijst: gebruik een ICD-code van 4 cijfers of de lettercode "
            f"zoals NL:KVK, NL:OINO, NL:VAT, GLN of DE:LWID (bijv. {_EXAMPLES}).",
        )
    )


def _normalise_value(scheme: str, raw_value: str) -> str:
    value = "".join(raw_value.split())
    if scheme in SCHEMES and SCHEMES[scheme].checks.strip_separators:
        # People type these numbers with dots and hyphens (0403.170.701, 556036-0793); none of them contains one.
        value = value.replace(".", "").replace("-", "")
        if value.isascii():
            value = value.upper()
    if not value:
        raise IdentifierSyntaxError(_empty_value(scheme))
    if not value.isprintable():
        raise IdentifierSyntaxError(
            Text(
                f"The value for scheme {scheme} contains an invisible or control character.",
                f"De waarde bij schema {scheme} bevat een onzichtbaar teken of stuurteken.",
            )
        )
    if len(value) > MAX_VALUE_LENGTH:
        raise IdentifierSyntaxError(
            Text(
                f"The value for scheme {scheme} is {len(value)} characters long; Peppol allows at most "
                f"{MAX_VALUE_LENGTH}.",
                f"De waarde bij schema {scheme} is {len(value)} tekens lang; Peppol staat er hoogstens "
                f"{MAX_VALUE_LENGTH} toe.",
            )
        )
    return value


def _scheme_not_four_digits(scheme: str) -> Text:
    return Text(
        f"The scheme {_quoted(scheme)} is not 4 digits; a Peppol scheme is an ICD code like 0106.",
        f"Het schema {_quoted(scheme)} is geen 4 cijfers; een Peppol-schema is een ICD-code zoals 0106.",
    )


def _empty_value(scheme: str) -> Text:
    return Text(
        f"There is no number after scheme {scheme}.",
        f"Er staat geen nummer na schema {scheme}.",
    )


def _quoted(text: str, limit: int = 40) -> str:
    """Input shown inside a message: shortened, and escaped when it holds characters a terminal would act on."""
    shortened = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"'{shortened}'" if shortened.isprintable() else repr(shortened)


# --- constructors for AFAS contact fields -----------------------------------------------------------------


def identifier_from_kvk(text: str) -> PeppolIdentifier:
    """A KvK number as typed in AFAS (``CcNr``), e.g. ``1234 5678`` → ``0106:12345678``."""
    return _from_field("0106", text)


def identifier_from_oin(text: str) -> PeppolIdentifier:
    """An OIN as typed in AFAS (``OINr``) → ``0190:…``."""
    return _from_field("0190", text)


def identifier_from_gln(text: str) -> PeppolIdentifier:
    """A GLN (13 digits) → ``0088:…``."""
    return _from_field("0088", text)


_BARE_NL_VAT = re.compile(r"[0-9]{9}B[0-9]{2}")
_NORWEGIAN_VAT = re.compile(r"NO([0-9]{9})(MVA)?")


def identifier_from_vat(text: str) -> PeppolIdentifier:
    """A VAT number as typed in AFAS (``VaId``): ``nl 8192.34.567.b01`` → ``9944:NL819234567B01``.

    The country prefix picks the code list's VAT scheme (NL → 9944, BE → 9925, DE → 9930, FR → 9957, GB → 9932,
    EL → 9933, …). A Dutch number typed without ``NL`` is recognised by its shape (9 digits, B, 2 digits). A
    Norwegian number becomes the organisation number it contains (0192: the code list retired NO:VAT for it).
    """
    compact = "".join(text.split()).replace(".", "").replace("-", "")
    compact = compact.upper() if compact.isascii() else compact
    if not compact:
        raise IdentifierSyntaxError(Text("The VAT number is empty.", "Het btw-nummer is leeg."))
    if _BARE_NL_VAT.fullmatch(compact):
        compact = "NL" + compact
    norwegian = _NORWEGIAN_VAT.fullmatch(compact)
    if norwegian:
        return _from_field("0192", norwegian.group(1))
    country = compact[:2]
    if country not in VAT_SCHEME_BY_PREFIX:
        raise IdentifierSyntaxError(
            Text(
                f"{_quoted(text.strip())} does not start with a country the Peppol code list has a VAT scheme for "
                f"({', '.join(sorted(VAT_SCHEME_BY_PREFIX))}, NO).",
                f"{_quoted(text.strip())} begint niet met een land waarvoor de Peppol-codelijst een btw-schema heeft "
                f"({', '.join(sorted(VAT_SCHEME_BY_PREFIX))}, NO).",
            )
        )
    return _from_field(VAT_SCHEME_BY_PREFIX[country], compact)


def _from_field(scheme: str, text: str) -> PeppolIdentifier:
    return PeppolIdentifier(scheme=scheme, value=_normalise_value(scheme, text))


# --- checking -----------------------------------------------------------------------------------------------


UNRECOGNISED_SCHEME = Text("unrecognised scheme", "onbekend schema")


def check_identifier(identifier: PeppolIdentifier) -> IdentifierCheck:
    """Is the identifier usable on Peppol, and is its value a well-formed number of its scheme? Never raises.

    Invalid: the scheme was removed from the code list, or an official Peppol rule refuses the value (never
    stricter than the official rules). A warning: the scheme is deprecated, or an official warning rule or the
    scheme's own check digit (which the official rules do not check) finds something; the reason says what."""
    scheme = SCHEMES.get(identifier.scheme)
    if scheme is None:
        return IdentifierCheck(
            identifier, IdentifierStatus.FORMAT_UNKNOWN, UNRECOGNISED_SCHEME, _not_checked(identifier)
        )
    number = check_number(identifier)
    if scheme.state == ACTIVE:
        return number
    retired = _retired_reason(scheme)
    if scheme.state == REMOVED:
        return IdentifierCheck(identifier, IdentifierStatus.INVALID, scheme.name, retired)
    if number.status is IdentifierStatus.INVALID:
        return number
    return IdentifierCheck(
        identifier, IdentifierStatus.WARNING, scheme.name, Text.join([retired, number.reason]),
        number.flagged_by_official_rule,
    )  # fmt: skip


def check_number(identifier: PeppolIdentifier) -> IdentifierCheck:
    """The value against its scheme's checks only (not the scheme's state in the code list)."""
    scheme = SCHEMES.get(identifier.scheme)
    if scheme is None or not scheme.checks.checked:
        name = scheme.name if scheme else UNRECOGNISED_SCHEME
        return IdentifierCheck(identifier, IdentifierStatus.FORMAT_UNKNOWN, name, _not_checked(identifier))
    checks, value = scheme.checks, identifier.value
    if checks.official is not None:
        problem = checks.official(value)
        if problem is not None:
            return IdentifierCheck(identifier, IdentifierStatus.INVALID, scheme.name, problem)
    for rule, kind in ((checks.official_warning, _OFFICIAL_WARNING), (checks.national, _NATIONAL_WARNING)):
        problem = rule(value) if rule is not None else None
        if problem is not None:
            reason = Text.join([problem, kind])
            official = rule is checks.official_warning
            return IdentifierCheck(identifier, IdentifierStatus.WARNING, scheme.name, reason, official)
    if checks.valid_reason is not None:
        reason = checks.valid_reason(value)
    elif checks.method:
        reason = well_formed_with_check(checks.method)
    else:
        reason = WELL_FORMED_NATIONAL if checks.national is not None else WELL_FORMED_NO_CHECK_DIGIT
    return IdentifierCheck(identifier, IdentifierStatus.VALID, scheme.name, reason)


WELL_FORMED_NATIONAL = Text(
    "well-formed, and it passes the scheme's own check",
    "juist opgebouwd, en het voldoet aan de eigen controle van het schema",
)
_OFFICIAL_WARNING = Text(
    "the Peppol rules warn about this but accept it",
    "de Peppol-regels waarschuwen hiervoor maar accepteren het",
)
_NATIONAL_WARNING = Text(
    "the Peppol rules do not check this, so it may still be registered",
    "de Peppol-regels controleren dit niet, dus het kan toch geregistreerd zijn",
)


def _retired_reason(scheme: Scheme) -> Text:
    replacement = SCHEMES.get(scheme.replaced_by)
    use_en = f"; use {replacement.icd} ({replacement.letters}) instead" if replacement else ""
    use_nl = f"; gebruik {replacement.icd} ({replacement.letters})" if replacement else ""
    if scheme.state == REMOVED:
        return Text(
            f"the Peppol code list removed scheme {scheme.icd} ({scheme.letters}) on {scheme.removal_date}{use_en}",
            f"de Peppol-codelijst heeft schema {scheme.icd} ({scheme.letters}) per {scheme.removal_date} "
            f"verwijderd{use_nl}",
        )
    return Text(
        f"scheme {scheme.icd} ({scheme.letters}) is deprecated in the Peppol code list{use_en}",
        f"schema {scheme.icd} ({scheme.letters}) is verouderd in de Peppol-codelijst{use_nl}",
    )


def _not_checked(identifier: PeppolIdentifier) -> Text:
    return Text(
        f"no format rules are known for scheme {identifier.scheme}, so the value was not checked",
        f"voor schema {identifier.scheme} zijn geen opbouwregels bekend, dus de waarde is niet gecontroleerd",
    )
