from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.rules import CEN, PEPPOL, SI_UBL
from integrations.peppol.validation import (
    NOTICE_STRUCTURAL_ONLY,
    Finding,
    Severity,
    ValidationResult,
    Validator,
    choose_stylesheets,
    load_validator,
    parse_svrl,
    stylesheet_compilations,
)

MINIMAL_INVOICE = f'<Invoice xmlns="{ns.INVOICE}"/>'.encode()
MINIMAL_CREDIT_NOTE = f'<CreditNote xmlns="{ns.CREDIT_NOTE}"/>'.encode()
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol2;</Invoice>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><x>&xxe;</x></Invoice>"""


def corpus(shared_peppol: Path, name: str) -> bytes:
    return (shared_peppol / "corpus" / name).read_bytes()


PEPPOL_INVOICE = "valid/01_cen_BIS3_Invoice_positive.xml"
NLCIUS_INVOICE = "valid/05_si_SI-UBL-2.0_ok_full.xml"
NLCIUS_CREDIT_NOTE = "valid/13_si_SI-UBL-2.0_BR-NL-8_ok_381.xml"


def with_second_registration_name(data: bytes, party: str = "AccountingSupplierParty") -> bytes:
    """Two cac:PartyLegalEntity/cbc:RegistrationName for one party: the CEN rules stop with XPTY0004."""
    root = etree.fromstring(data)
    entity = root.find(f"cac:{party}/cac:Party/cac:PartyLegalEntity", ns.XPATH_NS)
    entity.addnext(etree.fromstring(etree.tostring(entity)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- stylesheet choice ----------------------------------------------------------------------------------------------


def test_a_peppol_bis3_document_gets_the_cen_and_the_peppol_rules():
    assert choose_stylesheets(ns.PEPPOL_BIS3_CUSTOMIZATION) == (CEN, PEPPOL)


def test_the_customization_id_is_whitespace_normalised_before_the_choice():
    assert choose_stylesheets(f"\n   {ns.PEPPOL_BIS3_CUSTOMIZATION}  \n") == (CEN, PEPPOL)


def test_an_nlcius_document_gets_only_si_ubl_which_contains_the_cen_rules():
    assert choose_stylesheets(ns.NLCIUS_CUSTOMIZATION) == (SI_UBL,)


def test_a_plain_en16931_document_gets_only_the_cen_rules():
    assert choose_stylesheets("urn:cen.eu:en16931:2017") == (CEN,)


@pytest.mark.parametrize(
    "customization_id", [None, "", "urn:something:else", "urn:fdc:peppol.eu:2017:poacc:billing:3.0"]
)
def test_an_unknown_or_missing_customization_id_gets_the_cen_rules(customization_id):
    assert choose_stylesheets(customization_id) == (CEN,)


# --- SVRL -----------------------------------------------------------------------------------------------------------

SVRL = f"""<?xml version="1.0" encoding="UTF-8"?>
<svrl:schematron-output xmlns:svrl="{ns.SVRL}">
  <svrl:fired-rule context="ubl:Invoice"/>
  <svrl:failed-assert test="cbc:StreetName" id="BR-NL-3" flag="fatal"
      location="/*:Invoice[namespace-uri()='{ns.INVOICE}'][1]/*:AccountingSupplierParty[namespace-uri()='{ns.CAC}'][1]">
    <svrl:text>[BR-NL-3] For suppliers in the Netherlands the supplier's address
       MUST contain street name</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert test="cbc:CustomizationID" flag="fatal" location="/*:Invoice[namespace-uri()='{ns.INVOICE}'][1]">
    <svrl:text>[BII2-T10-R001] An invoice MUST have a customization identifier</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert test="false" id="BR-NL-27-2" flag="warning" location="/">
    <svrl:text>[BR-NL-27] The use of the customer address line 3 is not recommended</svrl:text>
  </svrl:failed-assert>
</svrl:schematron-output>"""


def test_svrl_failed_asserts_become_findings_with_id_flag_message_and_a_readable_location():
    findings = parse_svrl(SVRL, SI_UBL)

    assert findings[0].rule_id == "BR-NL-3"
    assert findings[0].severity is Severity.FATAL
    assert findings[0].message.startswith("[BR-NL-3] For suppliers in the Netherlands the supplier's address MUST")
    assert findings[0].location == "/Invoice[1]/cac:AccountingSupplierParty[1]"
    assert findings[0].source == SI_UBL
    assert findings[0].hint is not None and "AFAS" in findings[0].hint.en


def test_an_assert_without_id_takes_the_rule_id_from_its_message_prefix():
    findings = parse_svrl(SVRL, SI_UBL)

    assert findings[1].rule_id == "BII2-T10-R001"
    assert findings[1].severity is Severity.FATAL


def test_a_sub_rule_keeps_its_id_and_also_reports_the_rule_of_its_message():
    sub_rule = parse_svrl(SVRL, SI_UBL)[2]

    assert sub_rule.rule_id == "BR-NL-27-2"
    assert sub_rule.severity is Severity.WARNING
    assert sub_rule.reports("BR-NL-27") and sub_rule.reports("BR-NL-27-2")
    assert not sub_rule.reports("BR-NL-2")


def test_an_empty_report_has_no_findings():
    assert parse_svrl(f'<svrl:schematron-output xmlns:svrl="{ns.SVRL}"/>', CEN) == ()


# --- verdict --------------------------------------------------------------------------------------------------------


def result_with(*severities: Severity) -> ValidationResult:
    findings = tuple(Finding(f"R{i}", s, "m", "/", CEN) for i, s in enumerate(severities))
    return ValidationResult(not any(s is Severity.FATAL for s in severities), findings, False, "CEN 1.3.16", None)


def test_fatal_and_warnings_split_the_findings():
    result = result_with(Severity.WARNING, Severity.FATAL, Severity.WARNING)

    assert [f.rule_id for f in result.fatal] == ["R1"]
    assert [f.rule_id for f in result.warnings] == ["R0", "R2"]


def test_official_valid_documents_are_valid_without_findings(shared_peppol, official_validator):
    for name in (PEPPOL_INVOICE, NLCIUS_INVOICE, NLCIUS_CREDIT_NOTE):
        result = official_validator.validate(corpus(shared_peppol, name))

        assert result.valid, result.findings
        assert result.findings == ()
        assert result.structural_only is False and result.notice is None


def test_warnings_do_not_make_a_document_invalid(shared_peppol, official_validator):
    data = (shared_peppol / "conformance/si-ubl-2.0/SI-UBL-2.0_BR-NL-27_warning_addressline_seller.xml").read_bytes()

    result = official_validator.validate(data)

    assert result.valid
    assert result.fatal == ()
    assert result.reports("BR-NL-27", Severity.WARNING)


def test_a_fatal_rule_makes_the_document_invalid_and_names_rule_location_and_hint(shared_peppol, official_validator):
    result = official_validator.validate(
        corpus(shared_peppol, "negative/02_si_SI-UBL-2.0_BR-NL-3_error_no_streetname.xml")
    )

    assert not result.valid
    (finding,) = result.fatal
    assert (finding.rule_id, finding.source) == ("BR-NL-3", SI_UBL)
    assert finding.location == "/Invoice[1]/cac:AccountingSupplierParty[1]/cac:Party[1]/cac:PostalAddress[1]"
    assert "straat" in finding.hint.nl


def test_the_rules_version_names_the_stylesheets_applied(shared_peppol, official_validator):
    assert (
        official_validator.validate(corpus(shared_peppol, PEPPOL_INVOICE)).rules_version == "CEN 1.3.16 + Peppol 3.0.21"
    )
    assert official_validator.validate(corpus(shared_peppol, NLCIUS_INVOICE)).rules_version == "SI-UBL 2.0.3.13"


def test_a_peppol_document_runs_the_peppol_rules_too(shared_peppol, official_validator):
    root = etree.fromstring(corpus(shared_peppol, PEPPOL_INVOICE))
    for reference in root.xpath("cbc:BuyerReference | cac:OrderReference", namespaces=ns.XPATH_NS):
        root.remove(reference)

    result = official_validator.validate(etree.tostring(root))

    assert not result.valid
    assert [(f.rule_id, f.source) for f in result.fatal] == [("PEPPOL-EN16931-R003", PEPPOL)]
    assert "order" in result.fatal[0].hint.en


def test_an_xsd_error_makes_the_document_invalid(shared_peppol, official_validator):
    root = etree.fromstring(corpus(shared_peppol, NLCIUS_INVOICE))
    etree.SubElement(root, f"{{{ns.CBC}}}NoSuchElement").text = "x"

    result = official_validator.validate(etree.tostring(root))

    assert not result.valid
    xsd = [f for f in result.fatal if f.source == "xsd"]
    assert xsd and xsd[0].rule_id == "XSD" and "NoSuchElement" in xsd[0].message
    assert xsd[0].location.startswith("line ")


def test_an_sbdh_wrapped_document_is_validated_as_its_invoice(shared_peppol, official_validator):
    invoice = corpus(shared_peppol, "negative/02_si_SI-UBL-2.0_BR-NL-3_error_no_streetname.xml")
    envelope = etree.Element(ns.SBDH_ROOT, nsmap={None: ns.SBDH})
    etree.SubElement(envelope, f"{{{ns.SBDH}}}StandardBusinessDocumentHeader")
    envelope.append(etree.fromstring(invoice))

    result = official_validator.validate(etree.tostring(envelope))

    assert [f.rule_id for f in result.findings] == ["BR-NL-3"]
    assert result.fatal[0].location.startswith("/Invoice[1]/")


# --- runtime errors of the official rules ---------------------------------------------------------------------------


def test_a_stylesheet_runtime_error_is_an_invalid_validator_error_finding_not_a_crash(
    shared_peppol, official_validator
):
    data = with_second_registration_name(corpus(shared_peppol, NLCIUS_INVOICE))

    result = official_validator.validate(data)

    assert not result.valid
    (finding,) = result.findings
    assert (finding.source, finding.severity, finding.rule_id) == ("validator", Severity.FATAL, "VALIDATOR-ERROR")
    assert "validator error" in finding.message and "normalize-space" in finding.message
    assert "RegistrationName" in finding.hint.en


def test_after_a_cen_runtime_error_the_peppol_rules_still_run_and_the_validator_keeps_working(
    shared_peppol, official_validator
):
    data = with_second_registration_name(corpus(shared_peppol, PEPPOL_INVOICE), party="AccountingCustomerParty")

    result = official_validator.validate(data)

    assert not result.valid
    errors = [f.message for f in result.fatal if f.rule_id == "VALIDATOR-ERROR"]
    assert len(errors) == 2  # each stylesheet ran, and each stopped on the duplicated party data
    assert "CEN-EN16931-UBL" in errors[0] and "PEPPOL-EN16931-UBL" in errors[1]
    assert official_validator.validate(corpus(shared_peppol, PEPPOL_INVOICE)).valid  # the validator still works


def test_saxon_does_not_print_its_runtime_errors_to_stderr(shared_peppol, official_validator, capfd):
    official_validator.validate(corpus(shared_peppol, NLCIUS_INVOICE))  # compiled before capturing
    capfd.readouterr()

    official_validator.validate(with_second_registration_name(corpus(shared_peppol, NLCIUS_INVOICE)))

    assert "XPTY0004" not in capfd.readouterr().err


# --- hostile and non-UBL input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "rule_id"),
    [
        (BILLION_LAUGHS, "XML-DTD-FORBIDDEN"),
        (EXTERNAL_ENTITY, "XML-DTD-FORBIDDEN"),
        (b"", "XML-EMPTY"),
        (b"not xml at all", "XML-NOT-XML"),
        (MINIMAL_INVOICE[:-5], "XML-TRUNCATED"),
        (b"<order/>", "XML-NOT-UBL"),
    ],
)
def test_hostile_or_non_ubl_input_is_an_invalid_result_with_an_xml_finding(official_validator, data, rule_id):
    result = official_validator.validate(data)

    assert not result.valid
    (finding,) = result.findings
    assert (finding.rule_id, finding.source, finding.severity) == (rule_id, "xml", Severity.FATAL)
    assert finding.hint is not None and finding.hint.nl


def test_a_document_over_the_size_limit_is_refused_before_parsing(shared_peppol):
    validator = Validator(shared_peppol, max_bytes=1000)

    result = validator.validate(corpus(shared_peppol, NLCIUS_INVOICE))

    assert [f.rule_id for f in result.findings] == ["XML-TOO-LARGE"]
    assert validator.compile_count == 0


# --- without a rules pack -------------------------------------------------------------------------------------------


def test_without_a_pack_a_ubl_document_is_structurally_valid_and_the_result_says_so():
    result = Validator(None).validate(MINIMAL_INVOICE)

    assert result.valid
    assert result.structural_only is True
    assert result.rules_version == ""
    assert result.notice == NOTICE_STRUCTURAL_ONLY
    assert "XSD" in result.notice.en and "structural checks only" in result.notice.en


def test_without_a_pack_every_result_carries_the_notice_even_a_rejected_one():
    for data in (MINIMAL_CREDIT_NOTE, b"<order/>", BILLION_LAUGHS):
        result = Validator(None).validate(data)

        assert result.structural_only and result.notice is not None


def test_without_a_pack_a_non_ubl_document_is_still_invalid():
    result = Validator(None).validate(b"<order/>")

    assert not result.valid
    assert [f.source for f in result.findings] == ["xml"]


def test_when_rules_are_required_but_missing_every_result_is_invalid():
    validator = Validator(None, require_rules=True, missing_reason="PEPPOL_RULES_DIR is empty")

    result = validator.validate(MINIMAL_INVOICE)

    assert not result.valid
    (finding,) = result.findings
    assert (finding.rule_id, finding.source, finding.severity) == ("RULES-MISSING", "validator", Severity.FATAL)
    assert "PEPPOL_RULES_DIR is empty" in finding.message
    assert result.structural_only and "PEPPOL_RULES_DIR is empty" in result.notice.en


def test_a_pack_whose_files_do_not_match_their_sha256_refuses_every_document(shared_peppol, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(shared_peppol / "rules", pack / "rules")
    shutil.copytree(shared_peppol / "xsd", pack / "xsd")
    tampered = pack / "rules" / "PEPPOL-EN16931-UBL.xslt"
    tampered.chmod(0o644)
    tampered.write_bytes(tampered.read_bytes() + b"\n")

    result = Validator(pack).validate(corpus(shared_peppol, PEPPOL_INVOICE))

    assert not result.valid
    (finding,) = result.findings
    assert finding.rule_id == "RULES-PACK-INVALID"
    assert "rules/PEPPOL-EN16931-UBL.xslt" in finding.message


# --- compiled once per process --------------------------------------------------------------------------------------


def test_load_validator_returns_one_validator_per_directory_and_compiles_nothing(shared_peppol):
    before = stylesheet_compilations()

    first = load_validator(shared_peppol)
    second = load_validator(str(shared_peppol) + "/")

    assert first is second
    assert stylesheet_compilations() == before


def test_the_stylesheets_are_compiled_once_not_per_document(shared_peppol):
    validator = Validator(shared_peppol)
    assert validator.compile_count == 0

    for _ in range(3):
        validator.validate(corpus(shared_peppol, PEPPOL_INVOICE))
        validator.validate(corpus(shared_peppol, NLCIUS_INVOICE))

    assert validator.compile_count == 3  # CEN, Peppol, SI-UBL: once each


def test_importing_the_validator_creates_no_saxon_processor_so_celery_can_fork_safely():
    code = "import sys, integrations.peppol.validation as v; v.load_validator(None); print('saxonche' in sys.modules)"

    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert completed.stdout.strip() == "False"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_builds_its_own_engine_and_validates(shared_peppol, official_validator):
    data = corpus(shared_peppol, "negative/02_si_SI-UBL-2.0_BR-NL-3_error_no_streetname.xml")
    official_validator.validate(data)  # the parent has compiled
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child, as in a Celery prefork worker
        try:
            result = official_validator.validate(data)
            os.write(write_end, pickle.dumps(([f.rule_id for f in result.findings], official_validator.compile_count)))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)

    rule_ids, child_compilations = pickle.loads(payload)
    assert rule_ids == ["BR-NL-3"]
    assert child_compilations == 1
