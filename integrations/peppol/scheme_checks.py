"""What the portal checks of each scheme's numbers, in three kinds:

* ``official``: the check of the Peppol BIS rules (PEPPOL-COMMON-R040 …) the stylesheet makes fatal. A value it
  refuses is invalid; it is never stricter than the stylesheet.
* ``official_warning``: a check the stylesheet makes as a warning (KvK, OIN, the Italian codes).
* ``national``: a check digit or format the scheme's issuer defines but the official rules do not check (a
  Leitweg-ID's, a SIRET's, a VAT number's). What it finds is a warning, with the reason: the number may still
  be registered on Peppol.

``national`` checks use python-stdnum where it covers the scheme."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stdnum import get_cc_module, iban, lei, vatin
from stdnum.exceptions import ValidationError

from integrations.peppol.i18n import Text
from integrations.peppol.identifier_rules import (
    abn_official_rule,
    be_enterprise_national_rule,
    be_enterprise_official_rule,
    be_vat_rule,
    codice_fiscale_official_rule,
    codice_ipa_official_rule,
    de_vat_rule,
    dk_cvr_national_rule,
    dk_cvr_official_rule,
    dk_erst_official_rule,
    dk_p_official_rule,
    gln_official_rule,
    kvk_rule,
    nl_vat_rule,
    nl_vat_valid_reason,
    no_orgnr_rule,
    oin_rule,
    partita_iva_official_rule,
    se_orgnr_rule,
)

# A rule returns what is wrong with a value, or None.
Rule = Callable[[str], Text | None]


@dataclass(frozen=True)
class SchemeChecks:
    official: Rule | None = None
    official_rule_id: str = ""
    official_warning: Rule | None = None
    national: Rule | None = None
    method: str = ""  # the check digit's method, named when the value passes (e.g. "mod 97")
    valid_reason: Callable[[str], Text] | None = None  # what is said of a value that passes, when it depends on it
    # People type these numbers with dots, hyphens and spaces, and none of them contains one: dropped when read.
    strip_separators: bool = False

    @property
    def checked(self) -> bool:
        return bool(self.official or self.official_warning or self.national)

    @property
    def summary(self) -> str:
        """For the README's table: what is checked and how a failure counts."""
        parts = []
        if self.official:
            parts.append(f"{self.official_rule_id} (invalid)")
        if self.official_warning:
            parts.append(f"{self.official_rule_id} (warning)")
        if self.national:
            parts.append(f"national{f' {self.method}' if self.method else ''} (warning)")
        return "; ".join(parts) or "none (format unknown)"


def _stdnum(validate: Callable[[str], object], method: str) -> Rule:
    """A national check by python-stdnum: what its ``validate`` refuses, with its reason."""

    def rule(value: str) -> Text | None:
        try:
            validate(value)
        except ValidationError as exc:
            return Text(
                f"fails the national check ({method}: {exc.message.lower().rstrip('.')})",
                f"voldoet niet aan de nationale controle ({method}: {exc.message.lower().rstrip('.')})",
            )
        return None

    return rule


def _module_check(country: str, module: str, method: str) -> Rule:
    return _stdnum(get_cc_module(country, module).validate, method)


_VAT = _stdnum(vatin.validate, "VAT number")

_CHECKS: dict[str, SchemeChecks] = {
    "0088": SchemeChecks(gln_official_rule, "PEPPOL-COMMON-R040", method="GS1 mod 10", strip_separators=True),
    "0192": SchemeChecks(no_orgnr_rule, "PEPPOL-COMMON-R041", method="mod 11", strip_separators=True),
    "0184": SchemeChecks(dk_cvr_official_rule, "PEPPOL-COMMON-R042", national=dk_cvr_national_rule, method="mod 11",
                         strip_separators=True),
    "0208": SchemeChecks(be_enterprise_official_rule, "PEPPOL-COMMON-R043", national=be_enterprise_national_rule,
                         method="mod 97", strip_separators=True),
    "0201": SchemeChecks(official_rule_id="PEPPOL-COMMON-R044", official_warning=codice_ipa_official_rule),
    "0210": SchemeChecks(official_rule_id="PEPPOL-COMMON-R045", official_warning=codice_fiscale_official_rule,
                         national=_module_check("it", "codicefiscale", "codice fiscale")),
    "9907": SchemeChecks(official_rule_id="PEPPOL-COMMON-R046", official_warning=codice_fiscale_official_rule),
    "0211": SchemeChecks(official_rule_id="PEPPOL-COMMON-R047", official_warning=partita_iva_official_rule,
                         method="Luhn", strip_separators=True),
    "9906": SchemeChecks(official_rule_id="PEPPOL-COMMON-R048", official_warning=partita_iva_official_rule),
    "0007": SchemeChecks(se_orgnr_rule, "PEPPOL-COMMON-R049", method="Luhn", strip_separators=True),
    "0151": SchemeChecks(abn_official_rule, "PEPPOL-COMMON-R050", method="mod 89", strip_separators=True),
    "0096": SchemeChecks(dk_p_official_rule, "PEPPOL-COMMON-R052", strip_separators=True),
    "0198": SchemeChecks(dk_erst_official_rule, "PEPPOL-COMMON-R053", strip_separators=True),
    "0106": SchemeChecks(official_rule_id="PEPPOL-COMMON-R054", official_warning=kvk_rule, strip_separators=True),
    "0190": SchemeChecks(official_rule_id="PEPPOL-COMMON-R055", official_warning=oin_rule, strip_separators=True),
    # National check digits the official rules leave out.
    "0002": SchemeChecks(national=_module_check("fr", "siren", "SIREN, Luhn"), method="Luhn", strip_separators=True),
    "0009": SchemeChecks(national=_module_check("fr", "siret", "SIRET, Luhn"), method="Luhn", strip_separators=True),
    "0183": SchemeChecks(national=_module_check("ch", "uid", "UID"), method="mod 11", strip_separators=True),
    "0191": SchemeChecks(national=_module_check("ee", "registrikood", "registrikood"), strip_separators=True),
    "0195": SchemeChecks(national=_module_check("sg", "uen", "UEN")),
    "0196": SchemeChecks(national=_module_check("is", "kennitala", "kennitala"), strip_separators=True),
    "0199": SchemeChecks(national=_stdnum(lei.validate, "LEI, ISO 7064 mod 97"), method="ISO 7064 mod 97"),
    "0204": SchemeChecks(national=_module_check("de", "leitweg", "Leitweg-ID, ISO 7064 mod 97"),
                         method="ISO 7064 mod 97"),
    "9918": SchemeChecks(national=_stdnum(iban.validate, "IBAN, mod 97"), method="mod 97", strip_separators=True),
    "9959": SchemeChecks(national=_module_check("us", "ein", "EIN"), strip_separators=True),
    # VAT numbers: the Dutch, Belgian and German ones with their own reasons, the others by python-stdnum.
    "9944": SchemeChecks(national=nl_vat_rule, valid_reason=nl_vat_valid_reason, strip_separators=True),
    "9925": SchemeChecks(national=be_vat_rule, method="mod 97", strip_separators=True),
    "9930": SchemeChecks(national=de_vat_rule, method="ISO 7064 mod 11,10", strip_separators=True),
}  # fmt: skip

_OTHER_VAT_SCHEMES = (
    "9910 9914 9920 9922 9923 9924 9926 9927 9928 9929 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 "
    "9942 9943 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957"
).split()

CHECKS: dict[str, SchemeChecks] = {
    **{icd: SchemeChecks(national=_VAT, strip_separators=True) for icd in _OTHER_VAT_SCHEMES},
    **_CHECKS,
}

# The names of the schemes a Dutch firm meets most, in both languages; the others are known by their official name.
DUTCH_NAMES: dict[str, Text] = {
    "0106": Text("KvK number (NL Chamber of Commerce)", "KvK-nummer (Kamer van Koophandel)"),
    "0190": Text("OIN (NL government organisation number)", "OIN (organisatie-identificatienummer overheid)"),
    "9944": Text("NL VAT number", "Nederlands btw-nummer"),
    "0088": Text("GLN (GS1 Global Location Number)", "GLN (GS1 Global Location Number)"),
    "0208": Text("Belgian enterprise number (KBO/BCE)", "Belgisch ondernemingsnummer (KBO)"),
    "9925": Text("Belgian VAT number", "Belgisch btw-nummer"),
    "0007": Text("Swedish organisation number", "Zweeds organisatienummer"),
    "0192": Text("Norwegian organisation number", "Noors organisatienummer"),
    "0184": Text("Danish CVR number", "Deens CVR-nummer"),
    "9930": Text("German VAT number (USt-IdNr.)", "Duits btw-nummer (USt-IdNr.)"),
    "0204": Text("German Leitweg-ID (government)", "Duitse Leitweg-ID (overheid)"),
    "0009": Text("French SIRET number", "Frans SIRET-nummer"),
    "0002": Text("French SIREN number", "Frans SIREN-nummer"),
    "9957": Text("French VAT number", "Frans btw-nummer"),
    "0211": Text("Italian VAT number (partita IVA)", "Italiaans btw-nummer (partita IVA)"),
    "0210": Text("Italian tax code (codice fiscale)", "Italiaanse fiscale code (codice fiscale)"),
    "0201": Text("Italian public administration code (Codice IPA)", "Italiaanse overheidscode (Codice IPA)"),
    "0199": Text("LEI (Legal Entity Identifier)", "LEI (Legal Entity Identifier)"),
    "0151": Text("Australian Business Number", "Australisch ondernemingsnummer (ABN)"),
    "9932": Text("UK VAT number", "Brits btw-nummer"),
    "9914": Text("Austrian VAT number", "Oostenrijks btw-nummer"),
    "9920": Text("Spanish VAT number", "Spaans btw-nummer"),
    "9918": Text("IBAN", "IBAN"),
}
