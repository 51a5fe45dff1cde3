"""Reading back what Profit received through FiElectronicInvoicePurchase (the reconciliation's AFAS side)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from integrations.afas.simulator.documents import build_sales_invoice
from integrations.http import AuthenticationError
from tests.integrations.afas.conftest import DEMO, fault


def purchase_ubl(number: str, issued: date = date(2026, 3, 3)) -> bytes:
    return build_sales_invoice(
        organisation={"name": "Groothandel Meelfabriek Holland B.V.", "kvk": "33445566"},
        debtor={"DebtorId": "1", "DebtorName": DEMO.organisation_name, "CcNr": DEMO.organisation_kvk},
        number=number,
        issue_date=issued,
        lines=[{"description": "Meel", "quantity": "10", "price": "31.10", "vat": "9"}],
    ).ubl


def test_delivered_invoices_are_read_back_with_the_number_and_date_profit_read_from_the_ubl(profit):
    profit.deliver_purchase_invoice(ubl=purchase_ubl("GM-1", date(2026, 3, 3)), filename="GM-1.xml")
    profit.deliver_purchase_invoice(ubl=purchase_ubl("GM-2", date(2026, 3, 4)), filename="GM-2.xml")

    first, second = profit.delivered_purchase_invoices()

    assert (first.entry_id, first.file_name, first.invoice_number, first.invoice_date) == (
        1,
        "GM-1.xml",
        "GM-1",
        "2026-03-03",
    )
    assert (second.invoice_number, second.invoice_date) == ("GM-2", "2026-03-04")
    assert first.received_at is not None
    assert abs(first.received_at - datetime.now(UTC)) < timedelta(minutes=1)  # Amsterdam time, read as such


def test_only_invoices_received_since_are_read_and_at_most_the_limit(profit):
    for number in ("GM-3", "GM-4", "GM-5"):
        profit.deliver_purchase_invoice(ubl=purchase_ubl(number))

    assert profit.delivered_purchase_invoices(received_since=datetime.now(UTC) + timedelta(minutes=5)) == []
    since = datetime.now(UTC) - timedelta(minutes=5)
    assert [i.invoice_number for i in profit.delivered_purchase_invoices(received_since=since, page_size=1)] == [
        "GM-3",
        "GM-4",
        "GM-5",
    ]
    assert len(profit.delivered_purchase_invoices(limit=2, page_size=1)) == 2


def test_a_delivery_someone_removed_in_afas_is_no_longer_listed(profit, control):
    profit.deliver_purchase_invoice(ubl=purchase_ubl("GM-6"))
    profit.deliver_purchase_invoice(ubl=purchase_ubl("GM-7"))

    response = control.request("DELETE", f"/_sim/environments/{DEMO.key}/delivered/purchase-invoices/1")

    assert response.status_code == 200
    assert [i.invoice_number for i in profit.delivered_purchase_invoices()] == ["GM-7"]
    missing = control.request("DELETE", f"/_sim/environments/{DEMO.key}/delivered/purchase-invoices/1")
    assert missing.status_code == 404


def test_the_app_connector_lists_the_read_back_connector(profit):
    assert profit.connectors.delivered_purchase_invoices in profit.metainfo().get_connectors
    # ... but the connection test does not require it: environments without it keep working.
    assert profit.connectors.delivered_purchase_invoices not in profit.connectors.required_get_connectors


def test_a_refusal_is_a_typed_error(profit, control):
    fault(control, operation="GET /connectors/Peppol_PurchaseEInvoices", status=401, count=1)

    with pytest.raises(AuthenticationError):
        profit.delivered_purchase_invoices()
