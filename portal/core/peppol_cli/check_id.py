"""`manage.py peppol check-id ID...`: read Peppol participant identifiers and say whether they are valid.

For each argument: the canonical ICD form, the eConnect/AFAS form (or that there is none), the scheme,
and valid / invalid / format unknown with the reason. Exit status 1 when any argument is invalid or not
an identifier at all; "format unknown" is not a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.peppol.i18n import Text
from integrations.peppol.identifiers import (
    IdentifierCheck,
    IdentifierStatus,
    IdentifierSyntaxError,
    check_identifier,
    parse_identifier,
)

LANGUAGES = ("en", "nl")

ICD_FORM = Text("ICD form", "ICD-notatie")
ECONNECT_FORM = Text("eConnect form", "eConnect-notatie")
SCHEME = Text("Scheme", "Schema")
RESULT = Text("Result", "Uitkomst")
NO_ECONNECT_FORM = Text(
    "(none: eConnect has no letter code for this scheme)", "(geen: eConnect kent geen lettercode voor dit schema)"
)
NOT_AN_IDENTIFIER = Text("NOT AN IDENTIFIER", "GEEN IDENTIFICATIE")
STATUS_WORDS = {
    IdentifierStatus.VALID: Text("VALID", "GELDIG"),
    IdentifierStatus.WARNING: Text("VALID, WITH A WARNING", "GELDIG, MET EEN WAARSCHUWING"),
    IdentifierStatus.INVALID: Text("INVALID", "ONGELDIG"),
    IdentifierStatus.FORMAT_UNKNOWN: Text("FORMAT UNKNOWN", "OPBOUW ONBEKEND"),
}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "check-id",
        help="Check Peppol participant identifiers, e.g. 0106:12345678 or NL:KVK:12345678.",
        description=(
            "Read Peppol participant identifiers in ICD form (0106:12345678, iso6523-actorid-upis::0106:12345678) "
            "or eConnect/AFAS form (NL:KVK:12345678) and check them against the official Peppol rules and the schemes' "
            "own check digits (a warning). Exit status 1 if any is invalid or unreadable."
        ),
    )
    parser.add_argument("identifiers", nargs="+", metavar="ID", help="an identifier, e.g. 0106:12345678")
    parser.add_argument("--language", choices=LANGUAGES, default="en", help="language of the report (default: en)")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Outcome:
    argument: str
    check: IdentifierCheck | None
    syntax_error: IdentifierSyntaxError | None

    @property
    def fails(self) -> bool:
        return self.check is None or self.check.is_invalid


def check_argument(argument: str) -> Outcome:
    try:
        identifier = parse_identifier(argument)
    except IdentifierSyntaxError as error:
        return Outcome(argument, None, error)
    return Outcome(argument, check_identifier(identifier), None)


def run(options, out, err) -> int:
    language: str = options["language"]
    outcomes = [check_argument(argument) for argument in options["identifiers"]]
    out.write("\n\n".join(_report(outcome, language) for outcome in outcomes) + "\n")
    if len(outcomes) > 1:
        out.write("\n" + _summary(outcomes, language) + "\n")
    return 1 if any(outcome.fails for outcome in outcomes) else 0


def _report(outcome: Outcome, language: str) -> str:
    labels = [ICD_FORM, ECONNECT_FORM, SCHEME, RESULT]
    width = max(len(label.in_language(language)) for label in labels) + 1

    def line(label: Text, value: str) -> str:
        return f"  {(label.in_language(language) + ':').ljust(width)} {value}"

    lines = [_shown(outcome.argument)]
    if outcome.check is None:
        assert outcome.syntax_error is not None
        lines.append(line(RESULT, f"{NOT_AN_IDENTIFIER.in_language(language)}: {_message(outcome, language)}"))
        return "\n".join(lines)
    check = outcome.check
    identifier = check.identifier
    lines += [
        line(ICD_FORM, identifier.icd),
        line(ECONNECT_FORM, identifier.econnect or NO_ECONNECT_FORM.in_language(language)),
        line(SCHEME, f"{identifier.scheme} {check.scheme_name.in_language(language)}"),
        line(RESULT, f"{STATUS_WORDS[check.status].in_language(language)}: {check.reason.in_language(language)}"),
    ]
    return "\n".join(lines)


def _message(outcome: Outcome, language: str) -> str:
    assert outcome.syntax_error is not None
    return outcome.syntax_error.message.in_language(language)


def _summary(outcomes: list[Outcome], language: str) -> str:
    counts = {status: 0 for status in IdentifierStatus}
    unreadable = 0
    for outcome in outcomes:
        if outcome.check is None:
            unreadable += 1
        else:
            counts[outcome.check.status] += 1
    return Text(
        f"{len(outcomes)} identifiers: {counts[IdentifierStatus.VALID]} valid, "
        f"{counts[IdentifierStatus.WARNING]} with a warning, {counts[IdentifierStatus.INVALID]} invalid, {counts[IdentifierStatus.FORMAT_UNKNOWN]} format unknown, "
        f"{unreadable} not an identifier.",
        f"{len(outcomes)} identificaties: {counts[IdentifierStatus.VALID]} geldig, "
        f"{counts[IdentifierStatus.WARNING]} met een waarschuwing, {counts[IdentifierStatus.INVALID]} ongeldig, {counts[IdentifierStatus.FORMAT_UNKNOWN]} opbouw onbekend, "
        f"{unreadable} geen identificatie.",
    ).in_language(language)


def _shown(argument: str) -> str:
    """The argument as typed, escaped when it holds characters a terminal would act on."""
    stripped = argument.strip()
    return stripped if stripped.isprintable() and stripped else repr(argument)
