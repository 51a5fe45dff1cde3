"""The identifier checks against the official material: every scheme of the Peppol code list, the examples it
gives, and the success and failure vectors of the Peppol BIS unit tests for the identifier rules."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.peppol.identifiers import (
    IdentifierStatus,
    PeppolIdentifier,
    check_identifier,
    check_number,
    parse_identifier,
)
from integrations.peppol.schemes import SCHEMES, code_list_version, markdown_table, scheme_by_letters

VECTORS = json.loads((Path(__file__).parent / "vectors" / "peppol_common_identifiers.json").read_text())["vectors"]
ACTIVE = [scheme for scheme in SCHEMES.values() if scheme.active]
REPO = Path(__file__).resolve().parents[3]


def test_the_code_list_release_has_its_84_active_schemes():
    assert code_list_version() == "9.7"
    assert len(ACTIVE) == 84
    assert {"0204", "0211", "0210", "0201", "0009", "9957", "0199", "0151"} <= {scheme.icd for scheme in ACTIVE}


@pytest.mark.parametrize(
    ("scheme", "example"),
    [(scheme.icd, example) for scheme in ACTIVE for example in scheme.example_values()],
)
def test_every_example_of_an_active_scheme_reads_the_same_in_both_notations_and_is_not_invalid(scheme, example):
    letters = SCHEMES[scheme].letters

    from_icd = parse_identifier(f"{scheme}:{example}")
    from_letters = parse_identifier(f"{letters}:{example}")

    assert from_icd == from_letters
    assert from_icd.scheme == scheme
    assert from_icd.econnect == f"{letters}:{from_icd.value}"
    assert not check_identifier(from_icd).is_invalid, check_identifier(from_icd).reason.en


@pytest.mark.parametrize("scheme", [scheme.icd for scheme in SCHEMES.values()])
def test_every_letter_code_names_exactly_its_scheme(scheme):
    assert scheme_by_letters(SCHEMES[scheme].letters.lower()) == scheme


@pytest.mark.parametrize(
    "vector", VECTORS, ids=[f"{v['rule'][-4:]}-{v['expect']}-{v['scheme']}:{v['value']}" for v in VECTORS]
)
def test_the_official_unit_test_vectors_get_the_official_verdict(vector):
    """An official error is invalid here, an official warning a warning, and what the official rule accepts is
    never invalid here (a national check may still warn)."""
    number = check_number(PeppolIdentifier(vector["scheme"], vector["value"]))

    if vector["expect"] == "error":
        assert number.status is IdentifierStatus.INVALID
    elif vector["expect"] == "warning":
        assert number.status is IdentifierStatus.WARNING
        assert "the Peppol rules warn about this but accept it" in number.reason.en
    else:
        assert number.status is not IdentifierStatus.INVALID
        if SCHEMES[vector["scheme"]].checks.official_warning is not None:
            assert number.status is IdentifierStatus.VALID


@pytest.mark.parametrize(
    ("text", "replacement"),
    [("0037:00371234567800001", "0216 (FI:OVT2)"), ("IT:VAT:IT06363391001", "0211 (IT:IVA)"), ("9954:123", "0190")],
)
def test_a_removed_scheme_is_invalid_and_names_its_replacement(text, replacement):
    result = check_identifier(parse_identifier(text))

    assert result.status is IdentifierStatus.INVALID
    assert "removed" in result.reason.en and replacement in result.reason.en
    assert "verwijderd" in result.reason.nl


def test_a_deprecated_scheme_is_a_warning_that_names_its_replacement():
    result = check_identifier(parse_identifier("UBLBE:0123456789"))

    assert result.status is IdentifierStatus.WARNING
    assert "deprecated" in result.reason.en and "0208 (BE:EN)" in result.reason.en


@pytest.mark.parametrize(
    "text",
    ["0088:9482348239847239874", "0184:DK12345678", "GLN:9482348239847239874", "DK:DIGST:12345678"],
)
def test_what_the_official_rules_accept_is_never_invalid(text):
    assert not check_identifier(parse_identifier(text)).is_invalid


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("DE:LWID:04011000-1234512345-06", IdentifierStatus.VALID),
        ("DE:LWID:04011000-1234512345-07", IdentifierStatus.WARNING),
        ("FR:SIRET:78430177200025", IdentifierStatus.VALID),
        ("FR:SIRET:78430177200026", IdentifierStatus.WARNING),
        ("AU:ABN:51824753556", IdentifierStatus.VALID),
        ("AU:ABN:51824753550", IdentifierStatus.INVALID),  # PEPPOL-COMMON-R050 is fatal
        ("IT:IVA:IT02985591201", IdentifierStatus.VALID),
        ("IT:IVA:IT02985591202", IdentifierStatus.WARNING),  # PEPPOL-COMMON-R047 is a warning
        ("LEI:5493001KJTIIGC8Y1R12", IdentifierStatus.VALID),
        ("FR:VAT:FR40303265045", IdentifierStatus.VALID),
        ("FR:VAT:FR40303265046", IdentifierStatus.WARNING),
    ],
)
def test_a_national_check_digit_the_official_rules_leave_out_is_a_warning(text, status):
    result = check_identifier(parse_identifier(text))

    assert result.status is status, result.reason.en
    if status is IdentifierStatus.WARNING:
        assert result.reason.nl and result.reason.nl != result.reason.en


def test_a_leitweg_id_keeps_its_hyphens():
    assert parse_identifier("DE:LWID:04011000-1234512345-06").value == "04011000-1234512345-06"


def test_the_readme_shows_the_scheme_table_generated_from_the_code_list():
    readme = (REPO / "README.md").read_text(encoding="utf-8")

    assert markdown_table() in readme, "regenerate it: python -m integrations.peppol.schemes"


@given(st.sampled_from(sorted(SCHEMES)), st.text(min_size=1, max_size=40))
def test_no_value_of_any_scheme_makes_a_check_fail_with_an_error(scheme, value):
    result = check_identifier(PeppolIdentifier(scheme, value))

    assert result.reason.en and result.reason.nl


@pytest.mark.parametrize(
    ("text", "blocks"),
    [
        ("0106:1234567", True),  # PEPPOL-COMMON-R054 warns: a typing error in master data
        ("0192:974760674", True),  # invalid
        ("IT:VAT:IT02985591201", True),  # removed scheme
        ("0184:DK12345678", False),  # the CVR mod 11 is national only: the number may be registered
        ("9944:NL004495446B01", False),
        ("UBLBE:0123456789", False),  # deprecated, still in use
        ("0088:9482348239847239874", False),
    ],
)
def test_master_data_refuses_what_the_official_rules_flag_and_keeps_national_warnings(text, blocks):
    assert check_identifier(parse_identifier(text)).has_problem is blocks
