"""`manage.py peppol validate FILE...`: validate UBL invoices and credit notes with the official rules.

Uses the active rules pack (PEPPOL_RULES_DIR, else the installed pack, else structural checks only, which every
result then says: never "valid"). Exit status 0 when every file is valid, 1 when any is invalid, 2 on usage errors (a
file that does not exist or cannot be read; nothing is validated then), 3 when no file is invalid but the official
rules were not run (no rules pack): a script must not take that for "valid".
"""

from __future__ import annotations

import json
from pathlib import Path

from integrations.peppol.i18n import Text
from integrations.peppol.validation import Finding, ValidationResult
from portal.core.peppol import get_validator

LANGUAGES = ("en", "nl")

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_NOT_CHECKED = 3

VALID = Text("VALID", "GELDIG")
NOT_CHECKED = Text(
    "STRUCTURE OK, NOT CHECKED AGAINST THE PEPPOL RULES", "OPBOUW IN ORDE, NIET GECONTROLEERD MET DE PEPPOL-REGELS"
)
INVALID = Text("INVALID", "ONGELDIG")
RULES = Text("rules", "regels")
STRUCTURAL_ONLY = Text("structural checks only", "alleen structurele controles")
AT = Text("at", "bij")
HINT = Text("hint", "tip")
SEVERITY_WORDS = {"fatal": Text("fatal", "fout"), "warning": Text("warning", "waarschuwing")}
SUMMARY = Text("{valid} valid, {invalid} invalid", "{valid} geldig, {invalid} ongeldig")
SUMMARY_NOT_CHECKED = Text(
    ", {count} not checked against the Peppol rules (no rules pack)",
    ", {count} niet gecontroleerd met de Peppol-regels (geen regelpakket)",
)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="Validate UBL invoices/credit notes (XSD + official EN 16931, Peppol and NLCIUS rules).",
        description=(
            "Validate UBL 2.1 invoices and credit notes: hardened XML parse, UBL 2.1 XSD, then the official rules "
            "chosen by CustomizationID (CEN EN 16931; + Peppol BIS 3 for Peppol documents; SI-UBL 2.0 for NLCIUS). "
            "Exit status 0 when all are valid, 1 when any is invalid, 2 on usage errors, 3 when none is invalid but "
            "the official rules were not run (no rules pack)."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a UBL XML file")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--language", choices=LANGUAGES, default="en", help="language of hints and notices")
    parser.set_defaults(run=run)


def _read_arguments(paths: list[str], err) -> list[tuple[str, bytes]] | None:
    """Every file's bytes, or None (after saying which) when any cannot be read."""
    validator = get_validator()
    documents = []
    problems = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            problems.append(f"{name}: no such file")
        elif not path.is_file():
            problems.append(f"{name}: not a file")
        else:
            try:
                with open(path, "rb") as handle:
                    # One byte over the limit is enough for the validator to refuse it as too large.
                    documents.append((name, handle.read(validator.max_bytes + 1)))
            except OSError as exc:
                problems.append(f"{name}: cannot be read ({exc.strerror})")
    for problem in problems:
        err.write(f"peppol validate: {problem}\n")
    return None if problems else documents


def run(options, out, err) -> int:
    language = options["language"]
    documents = _read_arguments(options["files"], err)
    if documents is None:
        return EXIT_USAGE
    validator = get_validator()
    results = [(name, validator.validate(data)) for name, data in documents]
    if options["json"]:
        _write_json(results, language, out)
    else:
        _write_human(results, language, out)
    if not all(result.valid for _, result in results):
        return EXIT_INVALID
    return EXIT_NOT_CHECKED if any(result.structural_only for _, result in results) else EXIT_VALID


def _write_json(results: list[tuple[str, ValidationResult]], language: str, out) -> None:
    report = {
        "valid": all(result.valid for _, result in results),
        "checked_against_official_rules": not any(result.structural_only for _, result in results),
        "files": [{"file": name, **result.to_dict(language)} for name, result in results],
    }
    out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def _write_human(results: list[tuple[str, ValidationResult]], language: str, out) -> None:
    def say(text: Text) -> str:
        return text.in_language(language)

    for name, result in results:
        verdict = say(INVALID if not result.valid else NOT_CHECKED if result.structural_only else VALID)
        rules = result.rules_version if not result.structural_only else say(STRUCTURAL_ONLY)
        counts = f"{len(result.fatal)} {say(SEVERITY_WORDS['fatal'])}, {len(result.warnings)} {say(SEVERITY_WORDS['warning'])}"
        out.write(f"{verdict}  {name}  ({say(RULES)}: {rules or '-'}; {counts})\n")
        if result.notice:
            out.write(f"  ! {say(result.notice)}\n")
        for finding in result.findings:
            out.write(_format_finding(finding, say))
    valid = sum(1 for _, result in results if result.valid and not result.structural_only)
    unchecked = sum(1 for _, result in results if result.valid and result.structural_only)
    invalid = len(results) - valid - unchecked
    if len(results) > 1:
        summary = say(SUMMARY).format(valid=valid, invalid=invalid)
        out.write(summary + (say(SUMMARY_NOT_CHECKED).format(count=unchecked) if unchecked else "") + "\n")


def _format_finding(finding: Finding, say) -> str:
    lines = [f"  {say(SEVERITY_WORDS[str(finding.severity)]):<12} {finding.rule_id}  [{finding.source}]"]
    lines.append(f"      {finding.message}")
    if finding.location:
        lines.append(f"      {say(AT)} {finding.location}")
    if finding.hint:
        lines.append(f"      {say(HINT)}: {say(finding.hint)}")
    return "\n".join(lines) + "\n"
