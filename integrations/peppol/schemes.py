"""The Peppol participant identifier schemes: OpenPeppol's code list (``participant_schemes.json``, made from its
published release by ``scheme_list_import``) joined with the checks the portal makes of each scheme's numbers
(``scheme_checks``). This is the one source of the schemes the portal knows, the letter codes it reads, the VAT
schemes it derives, and the table in the README (``python -m integrations.peppol.schemes``)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from integrations.peppol.i18n import Text
from integrations.peppol.scheme_checks import CHECKS, DUTCH_NAMES, SchemeChecks

DATA = Path(__file__).with_name("participant_schemes.json")

ACTIVE, DEPRECATED, REMOVED = "active", "deprecated", "removed"


@dataclass(frozen=True)
class Scheme:
    icd: str
    letters: str  # the code list's "scheme ID": the notation eConnect and AFAS use (NL:KVK, DE:LWID, GLN, ...)
    country: str
    official_name: str
    state: str
    deprecated_in: str
    removal_date: str
    replaced_by: str
    examples: tuple[str, ...]
    checks: SchemeChecks

    @property
    def name(self) -> Text:
        dutch = DUTCH_NAMES.get(self.icd)
        return dutch if dutch is not None else Text(self.official_name, self.official_name)

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    def example_values(self) -> list[str]:
        """The code list's examples as values (some are written with their ICD code in front)."""
        return [
            example.split(":", 1)[1] if example.startswith(f"{self.icd}:") else example for example in self.examples
        ]


def _load() -> tuple[str, dict[str, Scheme]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    schemes = {}
    for row in data["schemes"]:
        schemes[row["icd"]] = Scheme(
            icd=row["icd"], letters=row["letters"], country=row["country"], official_name=row["name"],
            state=row["state"], deprecated_in=row["deprecated_in"], removal_date=row["removal_date"],
            replaced_by=row["replaced_by"], examples=tuple(row["examples"]), checks=CHECKS.get(row["icd"], SchemeChecks()),
        )  # fmt: skip
    return data["code_list_version"], schemes


CODE_LIST_VERSION, SCHEMES = _load()


def code_list_version() -> str:
    return CODE_LIST_VERSION


# Longest first, so NO:ORGNR is not read as NO:ORG followed by "NR:".
LETTERS_LONGEST_FIRST: tuple[tuple[str, str], ...] = tuple(
    sorted(((scheme.letters.upper(), scheme.icd) for scheme in SCHEMES.values()), key=lambda p: len(p[0]), reverse=True)
)

# VAT numbers by their country prefix: the code list's active "<country>:VAT" schemes. Greece writes EL in its VAT
# numbers, kept in the value [GUESS G-PEPPOL-1]; Norway's VAT scheme is deprecated in favour of the organisation
# number, which is the number's digits.
VAT_SCHEME_BY_PREFIX: dict[str, str] = {
    scheme.letters.split(":")[0]: scheme.icd
    for scheme in SCHEMES.values()
    if scheme.letters.endswith(":VAT") and scheme.active and scheme.letters.count(":") == 1
}
if "GR" in VAT_SCHEME_BY_PREFIX:
    VAT_SCHEME_BY_PREFIX["EL"] = VAT_SCHEME_BY_PREFIX["GR"]


def scheme_by_letters(letters: str) -> str | None:
    """The ICD code of a letter code (``NL:KVK`` → ``0106``), any case; None when the code list has none."""
    wanted = letters.strip().upper()
    return next((icd for code, icd in LETTERS_LONGEST_FIRST if code == wanted), None)


# --- the README's table ------------------------------------------------------------------------------------------


def markdown_table() -> str:
    """Every scheme of the code list: code, both notations, country, what the portal checks, state."""
    lines = [
        f"Peppol participant identifier schemes (code list {code_list_version()}; "
        f"{sum(s.active for s in SCHEMES.values())} active):",
        "",
        "| ICD | Letters | Example | Country | Name | Check | State |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scheme in SCHEMES.values():
        example = scheme.example_values()[0] if scheme.examples else "…"
        state = scheme.state
        if scheme.state != ACTIVE:
            when = f" {scheme.removal_date}" if scheme.removal_date else ""
            state += when + (f", use {scheme.replaced_by}" if scheme.replaced_by else "")
        name = scheme.official_name.replace("|", "/")[:60]
        lines.append(
            f"| {scheme.icd} | {scheme.letters} | `{scheme.icd}:{example}` | {scheme.country} | {name} | "
            f"{scheme.checks.summary} | {state} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
