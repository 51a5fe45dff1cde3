"""Peppol participant identifiers: parse both notations, store one, check the number.

A participant identifier is a scheme (a 4-digit ISO 6523 ICD code, e.g. ``0106`` for the KvK) and a value.
It is written two ways:

* the ICD form ``0106:12345678``, optionally with the ``iso6523-actorid-upis::`` prefix. This is the
  canonical form we store, and what EN 16931 documents carry (``<cbc:EndpointID schemeID="0106">``).
* the eConnect/AFAS form ``NL:KVK:12345678``: the scheme's letter code from the Peppol participant
  identifier scheme list. eConnect accepts both (https://psb.econnect.eu/misc/partyIds.html) and AFAS
  keeps this form in the debtor's "Bedrijfs-ID eConnect" (``EnId``).

``check_identifier`` then says whether the value is a well-formed number of its scheme, with a precise
bilingual reason. Schemes without known rules are reported as "format unknown", never rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from integrations.peppol.i18n import Text
from integrations.peppol.identifier_rules import (
    WELL_FORMED_NO_CHECK_DIGIT,
    be_enterprise_rule,
    be_vat_rule,
    de_vat_rule,
    dk_cvr_rule,
    gln_rule,
    kvk_rule,
    nl_vat_rule,
    nl_vat_valid_reason,
    no_orgnr_rule,
    oin_rule,
    se_orgnr_rule,
    well_formed_with_check,
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
        scheme = SCHEMES.get(self.scheme)
        if scheme is None or scheme.econnect_prefix is None:
            return None
        return f"{scheme.econnect_prefix}:{self.value}"

    def __str__(self) -> str:
        return self.icd


class IdentifierStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    FORMAT_UNKNOWN = "format_unknown"


@dataclass(frozen=True)
class IdentifierCheck:
    identifier: PeppolIdentifier
    status: IdentifierStatus
    scheme_name: Text
    reason: Text

    @property
    def is_valid(self) -> bool:
        return self.status is IdentifierStatus.VALID

    @property
    def is_invalid(self) -> bool:
        return self.status is IdentifierStatus.INVALID


# A rule returns what is wrong with a value, or None when it is a well-formed number of its scheme.
Rule = Callable[[str], Text | None]


@dataclass(frozen=True)
class Scheme:
    icd: str
    econnect_prefix: str | None
    name: Text
    rule: Rule | None = None
    # Said of a value the rule accepts; a callable when the reason depends on the value.
    valid_reason: Text | Callable[[str], Text] | None = None


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
    for prefix, scheme in _ECONNECT_PREFIXES_LONGEST_FIRST:
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
            f"{prefix} is not a scheme we know: use a 4-digit ICD code or an eConnect prefix such as "
            f"NL:KVK, NL:OINO, NL:VAT or GLN (e.g. {_EXAMPLES}).",
            f"{prefix} is geen bekend schema: gebruik een ICD-code van 4 cijfers of een eConnect-voorvoegsel "
            f"zoals NL:KVK, NL:OINO, NL:VAT of GLN (bijv. {_EXAMPLES}).",
        )
    )


def _normalise_value(scheme: str, raw_value: str) -> str:
    value = "".join(raw_value.split())
    if scheme in SCHEMES and SCHEMES[scheme].rule is not None:
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


_VAT_SCHEMES = {"NL": "9944", "BE": "9925", "DE": "9930"}
_BARE_NL_VAT = re.compile(r"[0-9]{9}B[0-9]{2}")


def identifier_from_vat(text: str) -> PeppolIdentifier:
    """A VAT number as typed in AFAS (``VaId``): ``nl 8192.34.567.b01`` → ``9944:NL819234567B01``.

    The country prefix picks the scheme (NL → 9944, BE → 9925, DE → 9930). A Dutch number typed without
    ``NL`` is recognised by its shape (9 digits, B, 2 digits).
    """
    compact = "".join(text.split()).replace(".", "").replace("-", "")
    compact = compact.upper() if compact.isascii() else compact
    if not compact:
        raise IdentifierSyntaxError(Text("The VAT number is empty.", "Het btw-nummer is leeg."))
    if _BARE_NL_VAT.fullmatch(compact):
        compact = "NL" + compact
    country = compact[:2]
    if country not in _VAT_SCHEMES:
        raise IdentifierSyntaxError(
            Text(
                f"{_quoted(text.strip())} does not start with NL, BE or DE; only Dutch, Belgian and German VAT "
                "numbers can be turned into a Peppol identifier here.",
                f"{_quoted(text.strip())} begint niet met NL, BE of DE; alleen Nederlandse, Belgische en Duitse "
                "btw-nummers kunnen hier een Peppol-identificatie worden.",
            )
        )
    return _from_field(_VAT_SCHEMES[country], compact)


def _from_field(scheme: str, text: str) -> PeppolIdentifier:
    return PeppolIdentifier(scheme=scheme, value=_normalise_value(scheme, text))


# --- checking -----------------------------------------------------------------------------------------------


UNRECOGNISED_SCHEME = Text("unrecognised scheme", "onbekend schema")


def check_identifier(identifier: PeppolIdentifier) -> IdentifierCheck:
    """Is the value a well-formed number of its scheme (length, characters, check digit)? Never raises."""
    scheme = SCHEMES.get(identifier.scheme)
    if scheme is None or scheme.rule is None:
        name = scheme.name if scheme else UNRECOGNISED_SCHEME
        return IdentifierCheck(
            identifier=identifier,
            status=IdentifierStatus.FORMAT_UNKNOWN,
            scheme_name=name,
            reason=Text(
                f"no format rules are known for scheme {identifier.scheme}, so the value was not checked",
                f"voor schema {identifier.scheme} zijn geen opbouwregels bekend, dus de waarde is niet gecontroleerd",
            ),
        )
    problem = scheme.rule(identifier.value)
    if problem is not None:
        return IdentifierCheck(identifier, IdentifierStatus.INVALID, scheme.name, problem)
    valid_reason = scheme.valid_reason
    assert valid_reason is not None, scheme.icd
    reason = valid_reason if isinstance(valid_reason, Text) else valid_reason(identifier.value)
    return IdentifierCheck(identifier, IdentifierStatus.VALID, scheme.name, reason)


def _scheme(
    icd: str,
    econnect_prefix: str | None,
    name: Text,
    rule: Rule | None = None,
    valid_reason: Text | Callable[[str], Text] | None = None,
) -> tuple[str, Scheme]:
    return icd, Scheme(icd, econnect_prefix, name, rule, valid_reason)


# The letter codes are the "scheme ID" column of the Peppol participant identifier scheme list, as eConnect
# republishes it (https://psb.econnect.eu/misc/partyIds.html); 0184 and 9930 from the Peppol code list itself.
SCHEMES: dict[str, Scheme] = dict(
    [
        _scheme(
            "0106",
            "NL:KVK",
            Text("KvK number (NL Chamber of Commerce)", "KvK-nummer (Kamer van Koophandel)"),
            kvk_rule,
            WELL_FORMED_NO_CHECK_DIGIT,
        ),
        _scheme(
            "0190",
            "NL:OINO",
            Text("OIN (NL government organisation number)", "OIN (organisatie-identificatienummer overheid)"),
            oin_rule,
            WELL_FORMED_NO_CHECK_DIGIT,
        ),
        _scheme(
            "9944",
            "NL:VAT",
            Text("NL VAT number", "Nederlands btw-nummer"),
            nl_vat_rule,
            nl_vat_valid_reason,
        ),
        _scheme(
            "0088",
            "GLN",
            Text("GLN (GS1 Global Location Number)", "GLN (GS1 Global Location Number)"),
            gln_rule,
            well_formed_with_check("GS1 mod 10"),
        ),
        _scheme(
            "0208",
            "BE:EN",
            Text("Belgian enterprise number (KBO/BCE)", "Belgisch ondernemingsnummer (KBO)"),
            be_enterprise_rule,
            well_formed_with_check("mod 97"),
        ),
        _scheme(
            "9925",
            "BE:VAT",
            Text("Belgian VAT number", "Belgisch btw-nummer"),
            be_vat_rule,
            well_formed_with_check("mod 97"),
        ),
        _scheme(
            "0007",
            "SE:ORGNR",
            Text("Swedish organisation number", "Zweeds organisatienummer"),
            se_orgnr_rule,
            well_formed_with_check("Luhn"),
        ),
        _scheme(
            "0192",
            "NO:ORG",
            Text("Norwegian organisation number", "Noors organisatienummer"),
            no_orgnr_rule,
            well_formed_with_check("mod 11"),
        ),
        _scheme(
            "0184",
            "DK:DIGST",
            Text("Danish CVR number", "Deens CVR-nummer"),
            dk_cvr_rule,
            well_formed_with_check("mod 11"),
        ),
        _scheme(
            "9930",
            "DE:VAT",
            Text("German VAT number (USt-IdNr.)", "Duits btw-nummer (USt-IdNr.)"),
            de_vat_rule,
            well_formed_with_check("ISO 7064 mod 11,10"),
        ),
        # Known notation, no format rules here: reported as "format unknown".
        _scheme("0002", "FR:SIRENE", Text("French SIREN/SIRET number", "Frans SIREN/SIRET-nummer")),
        _scheme("0037", "FI:OVT", Text("Finnish OVT code", "Fins OVT-nummer")),
        _scheme("0060", "DUNS", Text("D-U-N-S number", "D-U-N-S-nummer")),
        _scheme("0097", "IT:FTI", Text("FTI - Ediforum Italia code", "FTI - Ediforum Italia-code")),
        _scheme("0130", "EU:NAL", Text("European Commission directorate code", "Code directoraat Europese Commissie")),
        _scheme("0135", "IT:SIA", Text("SIA object identifier", "SIA-objectidentificatie")),
        _scheme("0142", "IT:SECETI", Text("SECETI object identifier", "SECETI-objectidentificatie")),
        _scheme("0151", "AU:ABN", Text("Australian Business Number", "Australisch ondernemingsnummer (ABN)")),
        _scheme("0183", "CH:UIDB", Text("Swiss UID number", "Zwitsers UID-nummer")),
        _scheme("0191", "EE:CC", Text("Estonian company code", "Ests bedrijfsnummer")),
        _scheme("0193", "UBLBE", Text("UBL.BE party identifier", "UBL.BE-partij-identificatie")),
        _scheme("0195", "SG:UEN", Text("Singapore UEN", "Singaporees UEN")),
        _scheme("0196", "IS:KTNR", Text("Icelandic identifier (kennitala)", "IJslandse identificatie (kennitala)")),
    ]
)

_ECONNECT_PREFIXES_LONGEST_FIRST: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((scheme.econnect_prefix, scheme.icd) for scheme in SCHEMES.values() if scheme.econnect_prefix),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
)
