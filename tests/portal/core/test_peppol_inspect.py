"""`manage.py peppol inspect`: a summary on stdout (exit 0), a bilingual refusal (exit 1), usage errors (exit 2)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "peppol"
INVOICE = FIXTURES / "edge" / "nlcius_invoice.xml"
HOSTILE = FIXTURES / "hostile"


def inspect(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("peppol", "inspect", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_a_valid_invoice_is_summarised_for_people():
    status, out, err = inspect(str(INVOICE))
    assert status == 0 and err == ""
    assert out.startswith("Invoice F-2024-0042 (type code 380, NLCIUS / SI-UBL 2.0)")
    assert "Supplier: Bakkerij Één (NL)" in out
    assert "0106:12345678" in out and "NL001234567B01" in out
    assert "Payable         227.00" in out
    assert "S 6%  taxable 100.00  VAT 6.00" in out
    assert "[0] specificatie.pdf (application/pdf) 52 bytes" in out


def test_json_output_has_decimals_as_strings_and_iso_dates():
    status, out, _ = inspect(str(INVOICE), "--json")
    assert status == 0
    summary = json.loads(out)
    assert summary["number"] == "F-2024-0042"
    assert summary["totals"]["payable"] == "227.00"
    assert summary["issue_date"] == "2024-03-01"
    assert summary["supplier"]["endpoint_id"] == {"value": "12345678", "scheme": "0106"}
    assert summary["attachments"][0]["size"] == 52


def test_a_hostile_file_is_refused_with_exit_status_1_and_an_english_reason():
    status, out, err = inspect(str(HOSTILE / "billion_laughs.xml"))
    assert status == 1 and out == ""
    assert "Refused (dtd_forbidden): The XML declares a DTD" in err


def test_the_reason_is_given_in_dutch_on_request():
    status, _, err = inspect(str(HOSTILE / "order.xml"), "--language", "nl")
    assert status == 1
    assert "Geweigerd (not_ubl): Het hoofdelement is" in err


def test_a_refusal_in_json_mode_is_json_on_stdout():
    status, out, _ = inspect(str(HOSTILE / "truncated_invoice.xml"), "--json")
    assert status == 1
    refusal = json.loads(out)
    assert refusal["refused"] is True and refusal["kind"] == "truncated"
    assert refusal["message"]["nl"].startswith("De XML houdt te vroeg op")


def test_a_file_over_the_size_limit_is_refused_without_being_parsed():
    status, _, err = inspect(str(INVOICE), "--max-bytes", "1000")
    assert status == 1
    assert "Refused (too_large)" in err and "limit is 1,000 bytes" in err


def test_a_missing_file_is_a_usage_error(tmp_path):
    status, out, err = inspect(str(tmp_path / "nope.xml"))
    assert status == 2 and out == ""
    assert "No such file" in err and "nope.xml" in err


def test_a_directory_is_a_usage_error(tmp_path):
    status, _, err = inspect(str(tmp_path))
    assert status == 2 and "Not a file" in err


def test_a_missing_file_argument_is_a_usage_error():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="file"):
        call_command("peppol", "inspect", stdout=io.StringIO(), stderr=io.StringIO())


def test_warnings_are_shown_in_the_chosen_language(tmp_path):
    path = tmp_path / "comma.xml"
    path.write_text(
        INVOICE.read_text(encoding="utf-8").replace(
            '<cbc:PayableAmount currencyID="EUR">227.00', '<cbc:PayableAmount currencyID="EUR">227,00'
        ),
        encoding="utf-8",
    )
    status, out, _ = inspect(str(path), "--language", "nl")
    assert status == 0
    assert "Waarschuwingen" in out and "PayableAmount is geen decimaal getal ('227,00')" in out
    assert "Payable " not in out  # an amount that could not be read is left out, not shown as 0


def test_control_characters_from_the_document_are_shown_escaped(tmp_path):
    path = tmp_path / "escape.xml"
    path.write_text(
        INVOICE.read_text(encoding="utf-8").replace("Bakkerij Één</cbc:Name>", "Evil\u009b31m\u202eName</cbc:Name>"),
        encoding="utf-8",
    )
    status, out, _ = inspect(str(path))
    assert status == 0
    assert "\u009b" not in out and "\u202e" not in out
    assert "Supplier: Evil\\x9b31m\\u202eName (NL)" in out


def test_a_foreign_currency_invoice_shows_its_vat_in_the_accounting_currency():
    status, out, _ = inspect(str(FIXTURES / "edge" / "dkk_invoice_vat_in_eur.xml"))

    assert status == 0
    assert "VAT currency     EUR" in out
    assert "  VAT in EUR (BT-111)  3.62" in out
