"""The validator reproduces every recorded expectation of the official conformance sets and the corpus.

../shared/peppol/conformance/RESULTS.md records what the official artefacts give; a test here fails naming the file.
The five documented exceptions of the SI-UBL set are strict xfails (their verdict is still checked, and passes).
"""

from __future__ import annotations

import csv
import json

import pytest

from integrations.peppol.rules import CEN, PEPPOL, SI_UBL
from integrations.peppol.validation import Severity, ValidationResult, choose_stylesheets
from tests.shared_artefacts import SHARED_PEPPOL

pytestmark = pytest.mark.conformance

STYLESHEET_FILES = {f"{name}.xslt": name for name in (CEN, PEPPOL, SI_UBL)}


def _expectations(set_name: str) -> dict[str, dict]:
    path = SHARED_PEPPOL / "conformance" / set_name / "expectations.json" if SHARED_PEPPOL else None
    if path is None or not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _manifest() -> list[dict[str, str]]:
    path = SHARED_PEPPOL / "corpus" / "MANIFEST.tsv" if SHARED_PEPPOL else None
    if path is None or not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _params(names, marks=lambda name: ()) -> list:
    """One parameter per file (the id names it); when the artefacts are absent a single placeholder, so that the
    ``shared_peppol`` fixture skips it (or fails it in CI) instead of collecting nothing."""
    params = [pytest.param(name, id=name, marks=marks(name)) for name in names]
    return params or [pytest.param(None, id="artefacts-absent")]


CEN_UNIT = _expectations("cen-unit")
SI_UBL_SET = _expectations("si-ubl-2.0")
CORPUS = {row["file"]: row for row in _manifest()}


def _si_ubl_marks(name: str):
    exception = SI_UBL_SET[name].get("known_exception")
    return (
        (pytest.mark.xfail(reason=f"recorded exception (RESULTS.md): {exception}", strict=True),) if exception else ()
    )


def _rule_mismatches(result: ValidationResult, expectation: dict) -> list[str]:
    problems = []
    for rule in expectation.get("expect_fatal", []):
        if not result.reports(rule, Severity.FATAL):
            problems.append(f"expected fatal {rule}")
    for rule in expectation.get("expect_warning", []):
        if not result.reports(rule, Severity.WARNING):
            problems.append(f"expected warning {rule}")
    for rule in expectation.get("expect_absent", []):
        if result.reports(rule):
            problems.append(f"expected no {rule}")
    return problems


def _describe(result: ValidationResult) -> str:
    return "; ".join(f"{f.severity}:{f.rule_id}" for f in result.findings if f.source != "xsd") or "no findings"


@pytest.mark.parametrize("name", _params(CEN_UNIT))
def test_cen_unit_test_case_is_reproduced(name, shared_peppol, official_validator):
    expectation = CEN_UNIT[name]
    data = (shared_peppol / "conformance" / "cen-unit" / name).read_bytes()

    result = official_validator.validate(data, stylesheets=(CEN,))

    # The cases are fragments that fail the XSD and other rules: the verdict only concerns the rules in scope.
    valid_in_scope = not any(result.reports(rule, Severity.FATAL) for rule in expectation["scope"])
    assert not [f for f in result.findings if f.source == "validator"], _describe(result)
    assert _rule_mismatches(result, expectation) == [], f"{expectation['description']}: {_describe(result)}"
    assert valid_in_scope == expectation["expect_valid"], _describe(result)


@pytest.mark.parametrize("name", _params(SI_UBL_SET))
def test_si_ubl_test_file_gets_the_expected_verdict(name, shared_peppol, official_validator):
    expectation = SI_UBL_SET[name]
    data = (shared_peppol / "conformance" / "si-ubl-2.0" / name).read_bytes()

    result = official_validator.validate(data, stylesheets=(SI_UBL,))

    assert result.valid == expectation["expect_valid"], _describe(result)
    assert not [f for f in result.findings if f.source == "xsd"]


@pytest.mark.parametrize("name", _params(SI_UBL_SET, marks=_si_ubl_marks))
def test_si_ubl_test_file_reports_the_expected_rules(name, shared_peppol, official_validator):
    expectation = SI_UBL_SET[name]
    data = (shared_peppol / "conformance" / "si-ubl-2.0" / name).read_bytes()

    result = official_validator.validate(data, stylesheets=(SI_UBL,))

    assert _rule_mismatches(result, expectation) == [], _describe(result)


def _expected_fatal(expected_result: str) -> set[str]:
    if expected_result == "valid":
        return set()
    assert expected_result.startswith("fatal: "), expected_result
    return {rule.strip() for rule in expected_result.removeprefix("fatal: ").split(",")}


@pytest.mark.parametrize("name", _params(CORPUS))
def test_corpus_document_gets_exactly_the_recorded_result(name, shared_peppol, official_validator):
    row = CORPUS[name]
    data = (shared_peppol / "corpus" / name).read_bytes()

    result = official_validator.validate(data)

    expected = _expected_fatal(row["expected_result"])
    assert result.valid == (not expected), _describe(result)
    assert {f.rule_id for f in result.fatal} == expected, _describe(result)
    assert result.warnings == (), _describe(result)  # every corpus note says "no warnings"
    assert not result.structural_only and result.notice is None


@pytest.mark.parametrize("name", _params(CORPUS))
def test_corpus_document_is_checked_with_the_recorded_stylesheets(name, shared_peppol):
    row = CORPUS[name]
    recorded = tuple(STYLESHEET_FILES[part.strip()] for part in row["stylesheets"].split("+"))

    assert choose_stylesheets(row["customization_id"]) == recorded


def test_the_sets_have_the_documented_sizes(shared_peppol):
    assert len(CEN_UNIT) == 1131
    assert len(SI_UBL_SET) == 95
    assert sum(1 for e in SI_UBL_SET.values() if "known_exception" in e) == 5
    assert len(CORPUS) == 18
    for name in CEN_UNIT:
        assert (shared_peppol / "conformance" / "cen-unit" / name).is_file(), name
