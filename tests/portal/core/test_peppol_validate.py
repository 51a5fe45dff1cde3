from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.shared_artefacts import require_shared_peppol

MINIMAL_INVOICE = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'


@pytest.fixture
def shared_peppol(settings) -> Path:
    path = require_shared_peppol()
    settings.PEPPOL_RULES_DIR = str(path)
    return path


@pytest.fixture
def no_rules_pack(settings, tmp_path):
    settings.PEPPOL_RULES_DIR = ""
    settings.PEPPOL_DATA_DIR = tmp_path / "peppol-data"
    settings.PEPPOL_REQUIRE_RULES = False


def validate(*arguments: str) -> tuple[int, str, str]:
    """Run `manage.py peppol validate` and return its exit status, output and error output."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("peppol", "validate", *map(str, arguments), stdout=out, stderr=err)
    except SystemExit as stopped:
        return stopped.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_valid_documents_exit_zero(shared_peppol):
    status, output, _ = validate(
        shared_peppol / "corpus/valid/01_cen_BIS3_Invoice_positive.xml",
        shared_peppol / "corpus/valid/05_si_SI-UBL-2.0_ok_full.xml",
    )

    assert status == 0
    assert output.count("VALID  ") == 2 and "INVALID" not in output
    assert "rules: CEN 1.3.16 + Peppol 3.0.21; 0 fatal, 0 warning" in output
    assert "2 valid, 0 invalid" in output


def test_an_invalid_document_exits_one_with_rule_location_and_hint(shared_peppol):
    invalid = shared_peppol / "corpus/negative/02_si_SI-UBL-2.0_BR-NL-3_error_no_streetname.xml"

    status, output, _ = validate(shared_peppol / "corpus/valid/05_si_SI-UBL-2.0_ok_full.xml", invalid)

    assert status == 1
    assert f"INVALID  {invalid}" in output
    assert "  fatal        BR-NL-3  [SI-UBL-2.0]" in output
    assert "      at /Invoice[1]/cac:AccountingSupplierParty[1]/cac:Party[1]/cac:PostalAddress[1]" in output
    assert "      hint: Complete the address of your own administration in AFAS" in output
    assert "1 valid, 1 invalid" in output


def test_the_report_can_be_in_dutch(shared_peppol):
    invalid = shared_peppol / "corpus/negative/02_si_SI-UBL-2.0_BR-NL-3_error_no_streetname.xml"

    status, output, _ = validate("--language", "nl", invalid)

    assert status == 1
    assert f"ONGELDIG  {invalid}" in output
    assert "tip: Vul het adres van uw eigen administratie in AFAS volledig in" in output


def test_json_output_is_machine_readable(shared_peppol):
    invalid = shared_peppol / "corpus/negative/01_si_SI-UBL-2.0_BR-NL-11_error_no_paymentmeans.xml"

    status, output, _ = validate("--json", invalid)

    report = json.loads(output)
    assert status == 1
    assert report["valid"] is False
    (document,) = report["files"]
    assert document["file"] == str(invalid)
    assert document["rules_version"] == "SI-UBL 2.0.3.13"
    assert document["structural_only"] is False
    (finding,) = document["findings"]
    assert finding["rule_id"] == "BR-NL-11"
    assert finding["severity"] == "fatal"
    assert finding["source"] == "SI-UBL-2.0"
    assert finding["location"] == "/Invoice[1]/cac:LegalMonetaryTotal[1]"
    assert finding["hint"].startswith("A payment method is required")


def test_a_missing_file_is_a_usage_error_and_nothing_is_validated(shared_peppol, tmp_path):
    status, output, errors = validate(
        shared_peppol / "corpus/valid/05_si_SI-UBL-2.0_ok_full.xml", tmp_path / "nope.xml"
    )

    assert status == 2
    assert output == ""
    assert f"{tmp_path / 'nope.xml'}: no such file" in errors


def test_a_directory_is_a_usage_error(tmp_path, no_rules_pack):
    status, _, errors = validate(tmp_path)

    assert status == 2
    assert "not a file" in errors


def test_a_hostile_file_is_invalid_not_a_crash(tmp_path, no_rules_pack):
    hostile = tmp_path / "lol.xml"
    hostile.write_bytes(
        b'<!DOCTYPE x [<!ENTITY a "a">]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&a;</Invoice>'
    )

    status, output, _ = validate(hostile)

    assert status == 1
    assert "XML-DTD-FORBIDDEN  [xml]" in output


def test_without_a_rules_pack_the_output_says_structural_checks_only(tmp_path, no_rules_pack):
    document = tmp_path / "invoice.xml"
    document.write_bytes(MINIMAL_INVOICE)

    status, output, _ = validate(document)

    assert status == 3  # not "valid": the official rules did not run
    assert output.startswith("STRUCTURE OK, NOT CHECKED AGAINST THE PEPPOL RULES  ")
    assert "VALID " not in output
    assert "(rules: structural checks only; 0 fatal, 0 warning)" in output
    assert "Official rules not installed: structural checks only" in output


def test_without_a_rules_pack_but_required_every_document_is_invalid(tmp_path, no_rules_pack, settings):
    settings.PEPPOL_REQUIRE_RULES = True
    document = tmp_path / "invoice.xml"
    document.write_bytes(MINIMAL_INVOICE)

    status, output, _ = validate("--json", document)

    assert status == 1
    (finding,) = json.loads(output)["files"][0]["findings"]
    assert finding["rule_id"] == "RULES-MISSING"
