from __future__ import annotations

import re

import pytest

from integrations.peppol.hints import HINTS, XML_HINTS, hint_for, rule_prefix, xml_hint, xsd_hint
from integrations.peppol.i18n import Text
from integrations.peppol.xml import XmlRejected

COMMON_RULES = [
    "PEPPOL-EN16931-R003",
    "PEPPOL-EN16931-R010",
    "PEPPOL-EN16931-R020",
    "BR-CO-09",
    "BR-CO-10",
    "BR-CO-13",
    "BR-CO-15",
    "BR-S-08",
    "BR-CO-17",
    "BR-NL-1",
    "BR-NL-3",
    "BR-NL-10",
    "BR-NL-29",
    "BR-E-10",
    "BR-AE-10",
    "BR-16",
    "BR-25",
    "BR-61",
    "BR-NL-11",
    "BR-NL-2",
]


@pytest.mark.parametrize("rule_id", COMMON_RULES)
def test_the_common_rules_have_a_hint_in_english_and_dutch(rule_id):
    hint = HINTS[rule_id]

    assert hint.en.strip() and hint.nl.strip()
    assert hint.en != hint.nl


def test_there_are_hints_for_at_least_twenty_rules():
    assert len(HINTS) >= 20


@pytest.mark.parametrize("rule_id", sorted(HINTS))
def test_every_hint_key_is_a_rule_id(rule_id):
    assert re.fullmatch(r"[A-Z]+(-[A-Z0-9]+)+", rule_id)


def test_hints_name_what_to_change_in_afas():
    assert "debtor" in HINTS["BR-NL-10"].en and "debiteur" in HINTS["BR-NL-10"].nl
    assert "KvK" in HINTS["BR-NL-1"].en
    assert "VAT code" in HINTS["BR-CO-15"].en and "btw-code" in HINTS["BR-CO-15"].nl
    assert "IBAN" in HINTS["BR-61"].en


def test_a_sub_rule_gets_the_hint_of_its_message_prefix():
    assert hint_for("BR-NL-29-1", "[BR-NL-29] The use of a payment means text") is HINTS["BR-NL-29"]


def test_an_unknown_rule_has_no_hint():
    assert hint_for("XX-R-999", "[XX-R-999] something") is None


def test_rule_prefix_reads_the_bracketed_id():
    assert rule_prefix("[BR-NL-27] The use of ...") == "BR-NL-27"
    assert rule_prefix("[PEPPOL-EN16931-R003]-A buyer reference") == "PEPPOL-EN16931-R003"
    assert rule_prefix("no prefix") is None


@pytest.mark.parametrize("kind", XmlRejected.KINDS)
def test_every_kind_of_rejected_xml_has_advice(kind):
    hint = xml_hint(kind, Text("reason", "reden"))

    assert hint.en.startswith("reason ") and hint.nl.startswith("reden ")


def test_xsd_value_errors_get_the_format_hint():
    assert "YYYY-MM-DD" in xsd_hint("Element 'IssueDate': '24-11-2026' is not a valid value of the atomic type").en
    assert "UBL 2.1 structure" in xsd_hint("Element 'Foo': This element is not expected.").en
    assert set(XmlRejected.KINDS) <= set(XML_HINTS)
