from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def check_id(*arguments: str) -> tuple[int, str]:
    """Run `manage.py peppol check-id` and return its exit status and output."""
    out = io.StringIO()
    try:
        call_command("peppol", "check-id", *arguments, stdout=out, stderr=io.StringIO())
    except SystemExit as stopped:
        return stopped.code, out.getvalue()
    return 0, out.getvalue()


def test_a_valid_identifier_is_shown_in_both_notations_and_exits_zero():
    status, output = check_id("NL:KVK:34151384")

    assert status == 0
    assert output.splitlines() == [
        "NL:KVK:34151384",
        "  ICD form:      0106:34151384",
        "  eConnect form: NL:KVK:34151384",
        "  Scheme:        0106 KvK number (NL Chamber of Commerce)",
        "  Result:        VALID: well-formed; this scheme has no check digit, so only the format was checked",
    ]


def test_an_invalid_identifier_exits_one_and_says_why():
    status, output = check_id("0192:97476067")

    assert status == 1
    assert "  eConnect form: NO:ORG:97476067" in output
    assert "  Result:        INVALID: has 8 digits; a Norwegian organisation number has 9" in output


def test_what_the_official_rules_only_warn_about_is_valid_with_the_reason():
    status, output = check_id("0106:1234567")

    assert status == 0
    assert ("  Result:        VALID, WITH A WARNING: has 7 digits; a KvK number has 8 (perhaps a leading 0 was lost); "
            "the Peppol rules warn about this but accept it") in output  # fmt: skip


def test_a_wrong_check_digit_is_reported_as_invalid():
    status, output = check_id("GLN:5790000435976")

    assert status == 1
    assert "INVALID: the check digit does not match (GS1 mod 10)" in output


def test_text_that_is_not_an_identifier_exits_one_with_the_syntax_message():
    status, output = check_id("12345678")

    assert status == 1
    assert output.splitlines() == [
        "12345678",
        "  Result:        NOT AN IDENTIFIER: '12345678' has no scheme; write it as scheme and number, "
        "e.g. 0106:12345678 / NL:KVK:12345678.",
    ]


def test_an_unknown_scheme_is_format_unknown_and_does_not_fail_the_run():
    status, output = check_id("9999:ABC123")

    assert status == 0
    assert "  ICD form:      9999:ABC123" in output
    assert "  eConnect form: (none: eConnect has no letter code for this scheme)" in output
    assert "FORMAT UNKNOWN: no format rules are known for scheme 9999" in output


def test_several_identifiers_get_one_block_each_and_a_summary():
    status, output = check_id("0106:34151384", "0190:00000001003214345000", "9999:x")

    assert status == 0
    blocks = output.strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks[:3]] == ["0106:34151384", "0190:00000001003214345000", "9999:x"]
    assert blocks[3] == "3 identifiers: 2 valid, 0 with a warning, 0 invalid, 1 format unknown, 0 not an identifier."


def test_one_bad_identifier_among_good_ones_makes_the_run_fail():
    status, output = check_id("0106:34151384", "9944:NL004495446B01", "0088:5790000435976")

    assert status == 1
    assert "3 identifiers: 1 valid, 1 with a warning, 1 invalid, 0 format unknown, 0 not an identifier." in output


def test_the_report_can_be_in_dutch():
    status, output = check_id("--language", "nl", "nl:vat:nl004495445b01", "0192:974760674", "foo")

    assert status == 1
    assert "  ICD-notatie:      9944:NL004495445B01" in output
    assert "  eConnect-notatie: NL:VAT:NL004495445B01" in output
    assert "  Schema:           9944 Nederlands btw-nummer" in output
    assert "  Uitkomst:         GELDIG: juist opgebouwd, en het controlecijfer klopt (mod 11)" in output
    assert "  Uitkomst:         ONGELDIG: het controlecijfer klopt niet (mod 11); waarschijnlijk een tikfout" in output
    assert "GEEN IDENTIFICATIE: 'foo' heeft geen schema" in output
    assert (
        "3 identificaties: 1 geldig, 0 met een waarschuwing, 1 ongeldig, 0 opbouw onbekend, 1 geen identificatie."
        in output
    )


def test_the_upis_form_and_surrounding_spaces_are_accepted_on_the_command_line():
    status, output = check_id("  iso6523-actorid-upis::0208:0403.170.701 ")

    assert status == 0
    assert "  ICD form:      0208:0403170701" in output
    assert "  eConnect form: BE:EN:0403170701" in output


def test_a_control_character_in_the_argument_is_shown_escaped():
    status, output = check_id("0106:1234\x1b[2J")

    assert status == 1
    assert "\x1b" not in output
    assert "'0106:1234\\x1b[2J'" in output


def test_at_least_one_identifier_is_required():
    with pytest.raises(CommandError):
        call_command("peppol", "check-id", stdout=io.StringIO())


def test_an_unsupported_language_is_refused():
    with pytest.raises(CommandError):
        call_command("peppol", "check-id", "--language", "de", "0106:34151384", stdout=io.StringIO())
