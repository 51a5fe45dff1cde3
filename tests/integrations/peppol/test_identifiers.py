from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import ean, luhn
from stdnum.de import vat as de_vat
from stdnum.dk import cvr as dk_cvr
from stdnum.iso7064 import mod_97_10
from stdnum.nl import bsn
from stdnum.no import orgnr as no_orgnr

from integrations.peppol.i18n import Text
from integrations.peppol.identifiers import (
    SCHEMES,
    IdentifierCheck,
    IdentifierStatus,
    IdentifierSyntaxError,
    PeppolIdentifier,
    check_identifier,
    identifier_from_gln,
    identifier_from_kvk,
    identifier_from_oin,
    identifier_from_vat,
    parse_identifier,
)


def check(text: str) -> IdentifierCheck:
    return check_identifier(parse_identifier(text))


# --- valid examples, one or more per scheme -------------------------------------------------------------

VALID_EXAMPLES = [
    pytest.param("0106:34151384", id="KvK"),
    pytest.param("0190:00000001003214345000", id="OIN"),
    pytest.param("9944:NL004495445B01", id="NL VAT, mod 11"),
    pytest.param("9944:NL002455799B11", id="NL VAT, mod 97 (sole proprietor)"),
    pytest.param("0088:5790000435975", id="GLN"),
    pytest.param("0208:0403170701", id="BE enterprise number"),
    pytest.param("0208:1000000021", id="BE enterprise number starting with 1"),
    pytest.param("9925:BE0403170701", id="BE VAT"),
    pytest.param("0007:5560360793", id="SE organisation number"),
    pytest.param("0007:2120000787", id="SE organisation number, code list example"),
    pytest.param("0192:974760673", id="NO organisation number"),
    pytest.param("0192:745707327", id="NO organisation number, code list example"),
    pytest.param("0184:13585628", id="DK CVR"),
    pytest.param("0184:DK13585628", id="DK CVR with DK prefix"),
    pytest.param("9930:DE136695976", id="DE VAT"),
]


@pytest.mark.parametrize("text", VALID_EXAMPLES)
def test_genuine_numbers_of_every_scheme_are_valid(text):
    result = check(text)

    assert result.status is IdentifierStatus.VALID, result.reason.en
    assert result.is_valid
    assert not result.is_invalid


def test_a_valid_number_with_a_check_digit_says_which_check_it_passed():
    result = check("0088:5790000435975")

    assert result.reason == Text(
        "well-formed, and the check digit matches (GS1 mod 10)",
        "juist opgebouwd, en het controlecijfer klopt (GS1 mod 10)",
    )


def test_a_valid_kvk_number_says_only_its_format_could_be_checked():
    result = check("0106:34151384")

    assert "no check digit" in result.reason.en
    assert "geen controlecijfer" in result.reason.nl


def test_a_valid_dutch_vat_number_names_the_rule_it_passes():
    assert "(mod 11)" in check("9944:NL004495445B01").reason.en
    assert "mod 97" in check("9944:NL002455799B11").reason.en
    assert "eenmanszaken" in check("9944:NL002455799B11").reason.nl


@pytest.mark.parametrize(
    ("text", "scheme_name"),
    [
        ("0106:34151384", "KvK number (NL Chamber of Commerce)"),
        ("0190:00000001003214345000", "OIN (NL government organisation number)"),
        ("9944:NL004495445B01", "NL VAT number"),
        ("0208:0403170701", "Belgian enterprise number (KBO/BCE)"),
    ],
)
def test_the_check_names_the_scheme(text, scheme_name):
    assert check(text).scheme_name.en == scheme_name


def test_the_scheme_name_is_also_given_in_dutch():
    assert check("0106:34151384").scheme_name.in_language("nl") == "KvK-nummer (Kamer van Koophandel)"


# --- invalid examples: the reason says exactly what is wrong ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status", "reason"),
    [
        ("0106:1234567", IdentifierStatus.WARNING, "has 7 digits; a KvK number has 8 (perhaps a leading 0 was lost)"),
        ("0106:123456789", IdentifierStatus.WARNING, "has 9 digits; a KvK number has 8"),
        ("0106:1234567A", IdentifierStatus.WARNING, "contains 'A'; a KvK number has only digits"),
        ("0106:00000000", IdentifierStatus.WARNING, "has only zeros, which a KvK number never has"),
        ("0190:0000000100321434500", IdentifierStatus.WARNING, "has 19 digits; an OIN has 20"),
        ("0190:0000000100321434500X", IdentifierStatus.WARNING, "contains 'X'; an OIN has only digits"),
        (
            "9944:004495445B01",
            IdentifierStatus.WARNING,
            "does not start with NL; a Dutch VAT number is NL, 9 digits, B and 2 digits (NL123456789B01)",
        ),
        ("9944:NL04495445B01", IdentifierStatus.WARNING, "has 8 digits after NL; a Dutch VAT number has 9"),
        ("9944:NL004495445B1", IdentifierStatus.WARNING, "has 1 digit after B; a Dutch VAT number has 2"),
        (
            "9944:NL004495445C01",
            IdentifierStatus.WARNING,
            "is not NL, 9 digits, B and 2 digits; a Dutch VAT number looks like NL123456789B01",
        ),
        ("9944:NL004495445B00", IdentifierStatus.WARNING, "has only zeros after B, which a Dutch VAT number never has"),
        (
            "9944:NL004495446B01",
            IdentifierStatus.WARNING,
            "the check digits do not match (neither the mod 11 rule nor the mod 97 rule for sole proprietors); "
            "probably a typing error",
        ),
        (
            "0088:5790000435976",
            IdentifierStatus.INVALID,
            "the check digit does not match (GS1 mod 10); probably a typing error",
        ),
        ("0088:579000043597", IdentifierStatus.INVALID, "the check digit does not match (GS1 mod 10)"),
        ("0088:579000043597O", IdentifierStatus.INVALID, "contains 'O'; a GLN has only digits"),
        (
            "0208:0403170702",
            IdentifierStatus.INVALID,
            "the check digit does not match (mod 97); probably a typing error",
        ),
        ("0208:2000000042", IdentifierStatus.WARNING, "starts with 2; a Belgian enterprise number starts with 0 or 1"),
        (
            "0208:403170701",
            IdentifierStatus.INVALID,
            "has 9 digits; a Belgian enterprise number has 10 (an old 9-digit number takes a leading 0)",
        ),
        (
            "9925:0403170701",
            IdentifierStatus.WARNING,
            "does not start with BE; a Belgian VAT number is BE followed by 10 digits",
        ),
        (
            "9925:BE0403170702",
            IdentifierStatus.WARNING,
            "the check digit does not match (mod 97); probably a typing error",
        ),
        ("9925:BE04031707011", IdentifierStatus.WARNING, "has 11 digits after BE; a Belgian VAT number has 10"),
        ("0007:5560360794", IdentifierStatus.INVALID, "the check digit does not match (Luhn); probably a typing error"),
        ("0007:556036079", IdentifierStatus.INVALID, "has 9 digits; a Swedish organisation number has 10"),
        (
            "0192:974760674",
            IdentifierStatus.INVALID,
            "the check digit does not match (mod 11); probably a typing error",
        ),
        ("0192:97476067", IdentifierStatus.INVALID, "has 8 digits; a Norwegian organisation number has 9"),
        ("0184:13585627", IdentifierStatus.WARNING, "the check digit does not match (mod 11); probably a typing error"),
        ("0184:DK1358562", IdentifierStatus.INVALID, "has 7 digits; a CVR number has 8"),
        ("0184:03585628", IdentifierStatus.WARNING, "starts with 0; a CVR number never does"),
        ("0184:SE13585628", IdentifierStatus.INVALID, "contains 'S'; a CVR number has only digits"),
        (
            "9930:DE136695978",
            IdentifierStatus.WARNING,
            "the check digit does not match (ISO 7064 mod 11,10); probably a typing error",
        ),
        (
            "9930:136695976",
            IdentifierStatus.WARNING,
            "does not start with DE; a German VAT number is DE followed by 9 digits",
        ),
        (
            "9930:DE036695976",
            IdentifierStatus.WARNING,
            "starts with DE0; a German VAT number never has 0 as its first digit",
        ),
        (
            "9930:DE13669597X",
            IdentifierStatus.WARNING,
            "contains 'X' after DE; a German VAT number has only digits there",
        ),
    ],
)
def test_a_wrong_number_gets_a_precise_reason_and_only_the_official_rules_make_it_invalid(text, status, reason):
    result = check(text)

    assert result.status is status
    assert result.is_invalid is (status is IdentifierStatus.INVALID)
    assert result.reason.en.startswith(reason)


@pytest.mark.parametrize(
    ("text", "official"),
    [
        ("0106:1234567", "the Peppol rules warn about this but accept it"),  # PEPPOL-COMMON-R054 is a warning
        ("9944:NL004495446B01", "the Peppol rules do not check this, so it may still be registered"),
    ],
)
def test_a_warning_says_how_the_official_rules_see_it(text, official):
    assert check(text).reason.en.endswith(official)


@pytest.mark.parametrize(
    ("text", "dutch_reason"),
    [
        ("0106:1234567", "heeft 7 cijfers; een KvK-nummer heeft er 8 (misschien is een 0 aan het begin weggevallen)"),
        ("0106:1234567A", "bevat 'A'; een KvK-nummer heeft alleen cijfers"),
        ("0190:123", "heeft 3 cijfers; een OIN heeft er 20"),
        ("9944:NL04495445B01", "heeft 8 cijfers na NL; een Nederlands btw-nummer heeft er 9"),
        ("0088:5790000435976", "het controlecijfer klopt niet (GS1 mod 10); waarschijnlijk een tikfout"),
        ("9925:0403170701", "begint niet met BE; een Belgisch btw-nummer is BE gevolgd door 10 cijfers"),
        ("0184:03585628", "begint met 0; een CVR-nummer begint daar nooit mee"),
    ],
)
def test_the_reason_is_also_given_in_dutch(text, dutch_reason):
    assert check(text).reason.in_language("nl").startswith(dutch_reason)


def test_a_digit_from_another_script_is_not_taken_for_a_digit():
    result = check("0106:１２３４５６７８")

    assert result.status is IdentifierStatus.WARNING  # R054 warns only
    assert result.reason.en.startswith("contains '１'; a KvK number has only digits")
    assert check("0088:５７９００００４３５９７５").is_invalid


# --- unknown schemes ---------------------------------------------------------------------------------------


def test_a_scheme_we_have_no_rules_for_is_format_unknown_not_invalid():
    result = check("9999:anything-at-all")

    assert result.status is IdentifierStatus.FORMAT_UNKNOWN
    assert not result.is_valid
    assert not result.is_invalid
    assert result.scheme_name.en == "unrecognised scheme"
    assert result.reason.en == "no format rules are known for scheme 9999, so the value was not checked"
    assert result.reason.nl == "voor schema 9999 zijn geen opbouwregels bekend, dus de waarde is niet gecontroleerd"


def test_a_scheme_with_a_known_notation_but_no_rules_keeps_its_name():
    result = check("DUNS:812810734")

    assert result.identifier == PeppolIdentifier("0060", "812810734")
    assert result.status is IdentifierStatus.FORMAT_UNKNOWN
    assert result.scheme_name.en == "Data Universal Numbering System (D-U-N-S Number)"


def test_the_value_of_an_unknown_scheme_keeps_its_case():
    assert parse_identifier("9999:AbC").value == "AbC"


# --- notations ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("icd", "econnect"),
    [
        ("0106:12345678", "NL:KVK:12345678"),
        ("0190:00000001003214345000", "NL:OINO:00000001003214345000"),
        ("9944:NL004495445B01", "NL:VAT:NL004495445B01"),
        ("0088:5790000435975", "GLN:5790000435975"),
        ("9925:BE0403170701", "BE:VAT:BE0403170701"),
        ("0208:0403170701", "BE:EN:0403170701"),
        ("0007:5560360793", "SE:ORGNR:5560360793"),
        ("0192:974760673", "NO:ORG:974760673"),
        ("0184:13585628", "DK:DIGST:13585628"),
        ("9930:DE136695976", "DE:VAT:DE136695976"),
    ],
)
def test_both_notations_read_as_the_same_identifier_and_format_back(icd, econnect):
    from_icd = parse_identifier(icd)
    from_econnect = parse_identifier(econnect)

    assert from_icd == from_econnect
    assert from_icd.icd == icd
    assert from_icd.econnect == econnect
    assert str(from_icd) == icd


def test_an_identifier_whose_scheme_has_no_econnect_notation_has_no_econnect_form():
    identifier = parse_identifier("9999:12345")

    assert identifier.econnect is None
    assert identifier.icd == "9999:12345"


def test_every_econnect_prefix_belongs_to_one_scheme():
    prefixes = [scheme.letters.upper() for scheme in SCHEMES.values()]

    assert len(prefixes) == len(set(prefixes))


# --- normalisation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0106:12345678",
        "  0106:12345678\n",
        "nl:kvk:12345678",
        "Nl:KvK:12345678",
        " NL:KVK: 1234 5678 ",
        "0106 : 12345678",
        "iso6523-actorid-upis::0106:12345678",
        "ISO6523-ACTORID-UPIS::0106:12345678",
        "iso6523-actorid-upis::NL:KVK:12345678",
        "0106:1234.5678",
    ],
)
def test_spacing_case_and_the_upis_prefix_do_not_matter(text):
    assert parse_identifier(text) == PeppolIdentifier("0106", "12345678")


def test_vat_letters_are_upper_cased():
    assert parse_identifier("9944:nl004495445b01").value == "NL004495445B01"
    assert parse_identifier("nl:vat:nl004495445b01").icd == "9944:NL004495445B01"
    assert parse_identifier("9925:be 0403.170.701").value == "BE0403170701"


def test_swedish_and_norwegian_numbers_written_with_separators_are_compacted():
    assert parse_identifier("0007:556036-0793").value == "5560360793"
    assert parse_identifier("0192:974 760 673").value == "974760673"


# --- not an identifier at all -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The identifier is empty."),
        ("   ", "The identifier is empty."),
        ("12345678", "'12345678' has no scheme; write it as scheme and number, e.g. 0106:12345678 / NL:KVK:12345678."),
        ("106:12345678", "The scheme '106' is not 4 digits; a Peppol scheme is an ICD code like 0106."),
        ("01060:12345678", "The scheme '01060' is not 4 digits; a Peppol scheme is an ICD code like 0106."),
        ("0106:", "There is no number after scheme 0106."),
        ("NL:KVK:", "There is no number after scheme 0106."),
        ("NL:KVK", "There is no number after scheme 0106."),
        ("0106:   ", "There is no number after scheme 0106."),
        (
            ":12345678",
            "':12345678' has no scheme; write it as scheme and number, e.g. 0106:12345678 / NL:KVK:12345678.",
        ),
        (
            "foo\x1b[2J",
            "'foo\\x1b[2J' has no scheme; write it as scheme and number, e.g. 0106:12345678 / NL:KVK:12345678.",
        ),
        ("0106:1234\x005678", "The value for scheme 0106 contains an invisible or control character."),
        ("9999:" + "x" * 131, "The value for scheme 9999 is 131 characters long; Peppol allows at most 130."),
    ],
)
def test_text_that_is_not_an_identifier_raises_a_syntax_error_with_a_clear_message(text, message):
    with pytest.raises(IdentifierSyntaxError) as raised:
        parse_identifier(text)

    assert raised.value.message.en == message
    assert str(raised.value) == message


def test_an_unknown_econnect_prefix_is_named_in_the_message_in_both_languages():
    with pytest.raises(IdentifierSyntaxError) as raised:
        parse_identifier("XX:KVK:12345678")

    assert raised.value.message.en.startswith("'XX:KVK' is not a scheme of the Peppol code list")
    assert raised.value.message.nl.startswith("'XX:KVK' is geen schema van de Peppol-codelijst")


def test_an_identifier_cannot_be_built_with_a_malformed_scheme():
    with pytest.raises(IdentifierSyntaxError):
        PeppolIdentifier("106", "12345678")
    with pytest.raises(IdentifierSyntaxError):
        PeppolIdentifier("0106", "")


# --- constructors for AFAS contact fields --------------------------------------------------------------------


def test_a_kvk_number_from_afas_is_cleaned_of_spaces_and_dots():
    assert identifier_from_kvk(" 3415 1384 ").icd == "0106:34151384"
    assert identifier_from_kvk("34.15.13.84").icd == "0106:34151384"


def test_a_kvk_field_that_is_empty_is_a_syntax_error():
    with pytest.raises(IdentifierSyntaxError):
        identifier_from_kvk("  ")


def test_an_oin_from_afas_becomes_scheme_0190():
    assert identifier_from_oin("0000 0001 0032 1434 5000").icd == "0190:00000001003214345000"


def test_a_gln_becomes_scheme_0088():
    assert identifier_from_gln("579 0000 43597 5").icd == "0088:5790000435975"


@pytest.mark.parametrize(
    ("typed", "icd"),
    [
        ("NL004495445B01", "9944:NL004495445B01"),
        ("nl 0044.95.445.b01", "9944:NL004495445B01"),
        ("004495445B01", "9944:NL004495445B01"),
        ("BE 0403.170.701", "9925:BE0403170701"),
        ("de136695976", "9930:DE136695976"),
    ],
)
def test_a_vat_number_from_afas_picks_its_scheme_from_the_country_prefix(typed, icd):
    assert identifier_from_vat(typed).icd == icd


def test_a_vat_number_from_a_country_without_a_scheme_is_refused_with_a_reason():
    with pytest.raises(IdentifierSyntaxError) as raised:
        identifier_from_vat("US123456789")

    assert "does not start with a country the Peppol code list has a VAT scheme for" in raised.value.message.en
    assert "begint niet met een land waarvoor de Peppol-codelijst een btw-schema heeft" in raised.value.message.nl


@pytest.mark.parametrize(
    ("typed", "identifier"),
    [
        ("FR 40 303 265 045", "9957:FR40303265045"),
        ("GB980780684", "9932:GB980780684"),
        ("EL094014201", "9933:EL094014201"),
        ("ATU13585627", "9914:ATU13585627"),
        ("CHE-116.281.710 MWST", "9927:CHE116281710MWST"),
        ("NO 923 609 016 MVA", "0192:923609016"),  # NO:VAT is deprecated for the organisation number in it
        ("ESA13585625", "9920:ESA13585625"),
    ],
)
def test_a_vat_number_of_every_country_with_a_scheme_becomes_its_identifier(typed, identifier):
    assert identifier_from_vat(typed).icd == identifier


def test_a_derived_identifier_is_still_checked_like_any_other():
    assert check_identifier(identifier_from_vat("NL004495446B01")).status is IdentifierStatus.WARNING


# --- properties ----------------------------------------------------------------------------------------------

PREFIXES = [
    "",
    "0106:",
    "9944:",
    "9999:",
    "NL:KVK:",
    "nl:vat:",
    "GLN:",
    "iso6523-actorid-upis::",
    "DK:DIGST:",
    ":",
    "0210:",
    "IT:IVA:IT",
    "DE:LWID:",
    "0009:",
    "FR:VAT:FR",
    "0151:",
    "0208:",
    "9906:",
    "0201:",
    "LEI:",
    "IBAN:",
]


@given(st.one_of(st.text(), st.builds(str.__add__, st.sampled_from(PREFIXES), st.text())))
def test_any_text_either_parses_or_raises_a_syntax_error_and_what_parses_is_stable(text):
    try:
        identifier = parse_identifier(text)
    except IdentifierSyntaxError as error:
        assert isinstance(error.message, Text)
        return
    assert parse_identifier(identifier.icd) == identifier
    if identifier.econnect is not None:
        assert parse_identifier(identifier.econnect) == identifier
    assert isinstance(check_identifier(identifier).reason, Text)


def digits(count: int) -> st.SearchStrategy[str]:
    """``count`` digits, not all zero (no scheme issues an all-zero number)."""
    return st.text(alphabet="0123456789", min_size=count, max_size=count).filter(lambda v: set(v) != {"0"})


def with_last_digit(body: str, is_valid) -> str:
    candidates = [body + digit for digit in "0123456789" if is_valid(body + digit)]
    assume(candidates)
    return candidates[0]


def belgian(first: str, middle: str) -> str:
    base = int(first + middle)
    return f"{first}{middle}{97 - base % 97:02d}"


# Built with python-stdnum's algorithms, not with the module under test.
valid_identifiers = st.one_of(
    digits(8).map(lambda v: PeppolIdentifier("0106", v)),
    digits(20).map(lambda v: PeppolIdentifier("0190", v)),
    digits(12).map(lambda v: PeppolIdentifier("0088", v + ean.calc_check_digit(v))),
    st.builds(belgian, st.sampled_from("01"), digits(7)).map(lambda v: PeppolIdentifier("0208", v)),
    st.builds(belgian, st.sampled_from("01"), digits(7)).map(lambda v: PeppolIdentifier("9925", "BE" + v)),
    digits(9).map(lambda v: PeppolIdentifier("0007", v + luhn.calc_check_digit(v))),
    digits(8).map(lambda v: PeppolIdentifier("0192", with_last_digit(v, no_orgnr.is_valid))),
    st.builds(str.__add__, st.sampled_from("123456789"), digits(6)).map(
        lambda v: PeppolIdentifier("0184", with_last_digit(v, dk_cvr.is_valid))
    ),
    st.builds(str.__add__, st.sampled_from("123456789"), digits(7)).map(
        lambda v: PeppolIdentifier("9930", "DE" + with_last_digit(v, de_vat.is_valid))
    ),
    st.builds(
        lambda number, suffix: PeppolIdentifier("9944", f"NL{number}B{suffix:02d}"),
        digits(8).map(lambda v: with_last_digit(v, bsn.is_valid)),
        st.integers(min_value=1, max_value=99),
    ),
    digits(9).map(lambda v: PeppolIdentifier("9944", f"NL{v}B{mod_97_10.calc_check_digits(f'NL{v}B')}")),
)


@given(valid_identifiers)
def test_every_valid_identifier_is_checked_valid_and_formats_and_reparses_to_itself(identifier):
    assert check_identifier(identifier).status is IdentifierStatus.VALID, check_identifier(identifier).reason.en
    assert parse_identifier(identifier.icd) == identifier
    assert parse_identifier(identifier.econnect) == identifier
    assert parse_identifier(f"  iso6523-actorid-upis::{identifier.icd.lower()} ") == identifier
    assert parse_identifier(identifier.econnect.lower()) == identifier
