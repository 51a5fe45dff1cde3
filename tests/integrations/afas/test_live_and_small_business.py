import base64
import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest

from integrations.afas.profit import ProfitClient
from integrations.afas.simulator.demo import SB_ADMINISTRATION_ID, SB_LEDGER_ACCOUNTS
from integrations.afas.small_business import (
    JournalLine,
    PurchaseJournalEntry,
    SmallBusinessClient,
    VatCalculation,
    VatType,
    journal_lines_from_vat_breakdown,
)
from integrations.demo_data import ENVIRONMENTS
from integrations.http import AuthenticationError, PermanentError
from integrations.peppol.parser import parse_document
from integrations.simulators.transport import SimulatorTransport
from tests.integrations.afas.conftest import DEMO
from tests.integrations.afas.test_profit_writes import supplier_ubl

SB_DEMO = ENVIRONMENTS[2]
LEDGER = SB_LEDGER_ACCOUNTS[0]["Id"]


def test_the_client_works_against_the_live_simulator_over_a_socket(live_simulator, simulator):
    with ProfitClient(
        participant=DEMO.participant, environment_type="test", token=ENVIRONMENTS[1].afas_token,
        base_url_template=live_simulator, timeout=httpx.Timeout(2.0),
    ) as client:  # fmt: skip
        assert client.test_connection().ok
        items = client.sales_invoice_items()
        ubl = client.download_attachment(items[0].subject_id, items[0].ubl_attachment.file_id).content
        client.deliver_purchase_invoice(ubl=supplier_ubl())

    assert parse_document(ubl).number == "202500001"
    assert len(simulator.environments["12345-test"]["delivered"]["purchase_invoices"]) == 1


@pytest.fixture
def small_business(simulator):
    with SmallBusinessClient(
        domain="demo", environment=SB_DEMO.sb_environment, app_token=SB_DEMO.afas_token,
        base_url_template="http://sim/sb/{domain}/{environment}", transport=SimulatorTransport(simulator),
    ) as client:  # fmt: skip
        yield client


def entry(lines, attachments=()):
    return PurchaseJournalEntry(
        administration_id=SB_ADMINISTRATION_ID,
        invoice_number="GM-2025-77",
        relation_id=str(uuid.uuid4()),
        invoice_date=date(2025, 3, 3),
        due_date=date(2025, 4, 2),
        lines=lines,
        attachment_ids=tuple(attachments),
    )


def test_a_ubl_vat_breakdown_becomes_one_journal_line_per_rate():
    ubl = supplier_ubl().replace(b"\r\n", b"\n")
    summary = parse_document(ubl)

    lines = journal_lines_from_vat_breakdown(summary.vat_breakdown, ledger_account_id=LEDGER)

    assert [(line.vat_type, line.amount_excluding_vat, line.amount_vat) for line in lines] == [
        (VatType.LOW, summary.vat_breakdown[0].taxable_amount, summary.vat_breakdown[0].tax_amount)
    ]


def test_the_dutch_vat_cases_map_to_sb_vat_types(simulator):
    env = simulator.environments[DEMO.key]
    found = {}
    for stored in env["files"].values():
        if stored["filename"].endswith(".xml"):
            breakdown = parse_document(base64.b64decode(stored["data"])).vat_breakdown
            for line in journal_lines_from_vat_breakdown(breakdown, ledger_account_id=LEDGER):
                found[line.description] = (line.vat_type, line.vat_calculation)

    assert found == {
        "Btw S 21%": (VatType.HIGH, VatCalculation.NORMAL),
        "Btw S 9%": (VatType.LOW, VatCalculation.NORMAL),
        "Btw Z 0%": (VatType.ZERO, VatCalculation.NORMAL),
        "Btw AE 0%": (VatType.ZERO, VatCalculation.REVERSE_CHARGED),
    }


def test_a_journal_entry_with_lines_and_a_pdf_reaches_sb_unchanged(simulator, small_business):
    pdf = b"%PDF-1.4 invoice\n%%EOF\n"
    blob = small_business.upload_blob(pdf, filename="GM-2025-77.pdf", content_type="application/pdf")
    summary = parse_document(supplier_ubl())
    lines = journal_lines_from_vat_breakdown(summary.vat_breakdown, ledger_account_id=LEDGER)

    result = small_business.create_purchase_journal_entry(entry(lines, [blob]), tracking_id=str(uuid.uuid4()))

    [booked] = simulator.environments[SB_DEMO.key]["delivered"]["journal_entries"]
    assert booked["number"] == result.invoice_number
    assert booked["entry"]["InvoiceLine"][0]["VatType"] == "low"
    assert base64.b64decode(booked["attachments"][0]["data_b64"]) == pdf


def test_a_repeated_tracking_identifier_books_once(simulator, small_business):
    tracking = str(uuid.uuid4())
    lines = journal_lines_from_vat_breakdown(parse_document(supplier_ubl()).vat_breakdown, ledger_account_id=LEDGER)

    first = small_business.create_purchase_journal_entry(entry(lines), tracking_id=tracking)
    again = small_business.create_purchase_journal_entry(entry(lines), tracking_id=tracking)

    assert first == again
    assert len(simulator.environments[SB_DEMO.key]["delivered"]["journal_entries"]) == 1


def test_an_invalid_journal_entry_is_refused_with_the_field(small_business):
    with pytest.raises(PermanentError, match="LedgerAccountId"):
        small_business.create_purchase_journal_entry(
            entry((JournalLine("not-a-uuid", Decimal("10.00"), Decimal("2.10"), VatType.HIGH),)),
            tracking_id=str(uuid.uuid4()),
        )


def test_a_wrong_app_token_is_an_authentication_error(simulator):
    with SmallBusinessClient(
        domain="demo", environment=SB_DEMO.sb_environment, app_token="wrong",
        base_url_template="http://sim/sb/{domain}/{environment}", transport=SimulatorTransport(simulator),
    ) as client, pytest.raises(AuthenticationError):  # fmt: skip
        client.access_token()


def test_the_access_token_is_reused_until_it_nearly_expires(simulator):
    now = [0.0]
    with SmallBusinessClient(
        domain="demo", environment=SB_DEMO.sb_environment, app_token=SB_DEMO.afas_token,
        base_url_template="http://sim/sb/{domain}/{environment}", transport=SimulatorTransport(simulator),
        clock=lambda: now[0],
    ) as client:  # fmt: skip
        first = client.access_token()
        now[0] = 500
        assert client.access_token() == first
        now[0] = 590
        assert client.access_token() != first


def test_the_customer_environment_must_be_the_name_from_the_sb_address(simulator):
    for environment in ("", "Noordhoek/../x", "enyoi?x=1"):
        with pytest.raises(PermanentError, match="customer environment"):
            SmallBusinessClient(domain="demo", environment=environment, app_token=SB_DEMO.afas_token)
    with SmallBusinessClient(
        domain="demo", environment=SB_DEMO.sb_environment, app_token=SB_DEMO.afas_token,
        base_url_template="http://sim/sb/{domain}/{environment}", transport=SimulatorTransport(simulator),
    ) as client:  # fmt: skip
        assert client.base_url.endswith("/sb/demo/noordhoek")
        assert client.access_token()


def test_diverse_creditors_is_booked_as_an_unknown_relation_and_sb_refuses_it_as_an_organisation(
    simulator, small_business
):
    [creditors] = [r for r in small_business.unknown_relations() if r.purchase_relation]
    lines = journal_lines_from_vat_breakdown(parse_document(supplier_ubl()).vat_breakdown, ledger_account_id=LEDGER)
    as_unknown = PurchaseJournalEntry(
        **{**entry(lines).__dict__, "relation_id": creditors.id, "relation_type": "unknown"}
    )
    as_organisation = PurchaseJournalEntry(**{**as_unknown.__dict__, "relation_type": "organisation"})

    with pytest.raises(PermanentError, match="RelationType"):
        small_business.create_purchase_journal_entry(as_organisation, tracking_id=str(uuid.uuid4()))
    small_business.create_purchase_journal_entry(as_unknown, tracking_id=str(uuid.uuid4()))

    assert creditors.name == "Diverse creditors"
    [booked] = simulator.environments[SB_DEMO.key]["delivered"]["journal_entries"]
    assert (booked["entry"]["RelationType"], booked["entry"]["RelationId"]) == ("unknown", creditors.id)
