import base64
from datetime import datetime

import pytest

from integrations.afas.models import Condition, ConnectorNames, Filter, Operator
from integrations.afas.profit import ProfitClient
from integrations.afas.rows import AFAS_TIME_ZONE
from integrations.demo_data import CUSTOMERS
from integrations.peppol.parser import parse_document
from tests.integrations.afas.conftest import DEMO


def add_rows(control, connector, rows, key=DEMO.key):
    assert control.request("POST", f"/_sim/environments/{key}/rows/{connector}", json={"rows": rows}).status_code == 201


def test_the_base_url_follows_participant_and_environment_type():
    for environment_type, host in (("production", "rest"), ("test", "resttest"), ("accept", "restaccept")):
        with ProfitClient(participant="12345", environment_type=environment_type, token="<token/>") as client:
            assert client.base_url == f"https://12345.{host}.afas.online/ProfitRestServices"


def test_the_token_is_sent_as_base64_of_the_whole_xml_token(simulator, profit):
    seen = []
    original = simulator.handle
    simulator.handle = lambda request: seen.append(request.headers["authorization"]) or original(request)

    profit.profit_version()

    assert seen == ["AfasToken " + base64.b64encode(DEMO.afas_token.encode()).decode()]


def test_debtors_come_back_typed_with_their_e_invoice_fields(profit):
    debtors = {d.number: d for d in profit.debtors().rows}

    assert set(debtors) == {c.number for c in CUSTOMERS}
    gemeente = debtors["10003"]
    assert (gemeente.oin, gemeente.econnect_id, gemeente.issue_method) == (
        "00000001001234567000",
        "NL:OINO:00000001001234567000",
        "R",
    )
    assert debtors["10001"].kvk == "30123456"
    assert debtors["10001"].modified_at.tzinfo == AFAS_TIME_ZONE


def test_paging_reads_every_row_across_many_pages_in_order(control, profit):
    rows = [{"CreditorId": f"9{n:04d}", "CreditorName": f"Leverancier {n}", "BcCo": f"B{n}"} for n in range(250, 0, -1)]
    add_rows(control, "Profit_Creditor", rows)

    creditors = [
        row["CreditorId"] for row in profit.iter_rows("Profit_Creditor", order_by=("CreditorId",), page_size=7)
    ]

    assert len(creditors) == 253  # 3 demo creditors + 250
    assert creditors == sorted(creditors)
    assert len(set(creditors)) == len(creditors)


def test_a_page_is_always_asked_with_an_order(profit):
    with pytest.raises(ValueError, match="orderbyfieldids"):
        profit.get_page("Profit_Creditor", order_by=())


def test_descending_and_multi_field_order_is_honoured(control, profit):
    add_rows(
        control, "Profit_Creditor", [{"CreditorId": "80001", "CreditorName": "Groothandel Meelfabriek Holland B.V."}]
    )

    page = profit.get_page("Profit_Creditor", order_by=("-CreditorName", "CreditorId"))

    names = [(r["CreditorName"], r["CreditorId"]) for r in page.rows]
    assert names == [
        ("Verpakkingen Noord B.V.", "70003"),
        ("Groothandel Meelfabriek Holland B.V.", "70001"),
        ("Groothandel Meelfabriek Holland B.V.", "80001"),
        ("Energieleverancier Stroomvrij B.V.", "70002"),
    ]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (Filter.equals("DebtorId", "10003"), {"10003"}),
        (Filter.where(Condition("DebtorName", Operator.CONTAINS, "hotel")), {"10002"}),
        (Filter.where(Condition("DebtorName", Operator.STARTS_WITH, "Ca")), {"10006", "10010"}),
        (Filter.where(Condition("OINr", Operator.NOT_EMPTY)), {"10003", "10009", "10014"}),
        (
            Filter.where(Condition("InPv", Operator.NOT_EQUAL, "R"), Condition("DebtorId", Operator.GREATER, "10010")),
            {"10015"},
        ),
        (Filter.any_of("DebtorId", ["10001", "10013"]), {"10001", "10013"}),
    ],
)
def test_filters_select_rows_with_and_or_and_operators(profit, filter_, expected):
    rows = profit.iter_rows("Peppol_Debtors", order_by=("DebtorId",), filter=filter_)

    assert {row["DebtorId"] for row in rows} == expected


def test_incremental_reads_return_only_rows_changed_since_the_cursor(profit):
    first = profit.debtors()
    cursor = datetime(2025, 1, 22, 9, 0, tzinfo=AFAS_TIME_ZONE)

    changed = profit.debtors(changed_since=cursor)

    assert [d.number for d in changed.rows] == ["10013", "10014", "10015"]
    assert changed.cursor == first.cursor == datetime(2025, 1, 24, 9, 0, tzinfo=AFAS_TIME_ZONE)


def test_a_long_filter_is_split_over_several_requests_and_never_sent_too_long(control, profit, simulator):
    rows = [{"CreditorId": f"8{n:04d}", "CreditorName": f"Leverancier {n}"} for n in range(400)]
    add_rows(control, "Profit_Creditor", rows)
    wanted = [f"8{n:04d}" for n in range(0, 400, 2)]  # 200 ORed values: far beyond 2049 characters
    seen_queries = []
    original = simulator.handle

    def spy(request):
        seen_queries.append(request.query_string)
        return original(request)

    simulator.handle = spy

    found = list(
        profit.iter_rows("Profit_Creditor", order_by=("CreditorId",), filter=Filter.any_of("CreditorId", wanted))
    )

    assert sorted(r["CreditorId"] for r in found) == wanted
    assert len(seen_queries) > 1
    assert max(len(q) for q in seen_queries) <= 2049


def test_sales_invoices_in_the_dossier_come_with_their_ubl_and_pdf(profit):
    items = profit.sales_invoice_items()

    assert [i.subject for i in items] == [f"Factuur 2025{n:05d}" for n in range(1, 6)]
    first = items[0]
    ubl = profit.download_attachment(first.subject_id, first.ubl_attachment.file_id)
    pdf = profit.download_attachment(first.subject_id, first.pdf_attachment.file_id)
    summary = parse_document(ubl.content)
    assert summary.number == "202500001"
    assert summary.supplier.kvk_numbers == (DEMO.organisation_kvk,)
    assert pdf.content.startswith(b"%PDF") and pdf.mimetype == "application/pdf"


def test_the_dossier_cursor_returns_only_newer_items(control, profit):
    last = profit.sales_invoice_items()[-1].subject_id
    response = control.request("POST", f"/_sim/environments/{DEMO.key}/sales-invoices", json={"debtor": "10001"})
    assert response.status_code == 201

    newer = profit.sales_invoice_items(after_subject_id=last)

    assert [i.subject_id for i in newer] == [response.json()["subject_id"]]
    assert newer[0].ubl_attachment is not None


def test_the_invoice_vat_cases_are_all_in_the_demo(profit):
    categories = set()
    for item in profit.sales_invoice_items():
        ubl = profit.download_attachment(item.subject_id, item.ubl_attachment.file_id).content
        categories |= {(b.category, b.rate) for b in parse_document(ubl).vat_breakdown}

    assert {c for c, _ in categories} >= {"S", "Z", "AE"}
    assert {r for c, r in categories if c == "S"} == {21, 9}


def test_connector_names_are_configuration(control, make_client):
    fixture = {
        "participant": "55555",
        "environment_type": "accept",
        "tokens": [{"token": "<token><version>1</version><data>x</data></token>"}],
        "get_connectors": {
            "Klanten_Peppol": {"fields": [{"id": "DebtorId"}, {"id": "DebtorName"}, {"id": "ModifiedDate"}], "rows": [
                {"DebtorId": "1", "DebtorName": "Een", "ModifiedDate": "2025-01-01T00:00:00Z"}
            ]}
        },
    }  # fmt: skip
    assert control.request("POST", "/_sim/fixtures", json={"environments": [fixture]}).status_code == 201
    client = make_client(
        participant="55555",
        environment_type="accept",
        token="<token><version>1</version><data>x</data></token>",
        connectors=ConnectorNames(debtors="Klanten_Peppol"),
    )

    assert [d.name for d in client.debtors().rows] == ["Een"]
