"""The AFAS simulator's control API and simulated endpoints answer hostile bodies with a 400 (or Profit's error), never
an exception."""

import base64
import json

import pytest

from integrations.demo_data import ENVIRONMENTS
from tests.integrations.afas.conftest import DEMO

KEY = DEMO.key
PROFIT = f"/{DEMO.participant}/rest/ProfitRestServices"
CONTROL_POSTS = [
    "/_sim/faults",
    "/_sim/fixtures",
    f"/_sim/environments/{KEY}/settings",
    f"/_sim/environments/{KEY}/rows/Peppol_Debtors",
    f"/_sim/environments/{KEY}/debtors/10001",
    f"/_sim/environments/{KEY}/sales-invoices",
]
HOSTILE = {
    "null": b"null",
    "list": b'[{"rows": []}]',
    "scalar": b"42",
    "truncated": b'{"rows": [{"DebtorId": "1"',
    "invalid UTF-8": b'{"rows": [{"DebtorId": "\xff\xfe\xc3\x28"}]}',
    "deep": b"[" * 10_000 + b"]" * 10_000,
    "5,000 digits": b'{"rows": [], "skip": ' + b"9" * 5_000 + b"}",
    "NaN": b'{"rows": [{"DebtorId": NaN}]}',
    "1e400": b'{"rows": [{"DebtorId": 1e400}]}',
}


def auth() -> dict:
    return {"Authorization": "AfasToken " + base64.b64encode(DEMO.afas_token.encode()).decode()}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("path", CONTROL_POSTS)
def test_every_control_endpoint_refuses_a_hostile_body_with_400(control, path, body):
    response = control.request("POST", path, content=body)

    assert response.status_code == 400
    assert response.json()["error"]


def test_a_wrong_setting_type_is_refused_by_name_and_changes_nothing(control):
    before = control.request("GET", "/_sim/environments").json()[KEY]["settings"]

    response = control.request("POST", f"/_sim/environments/{KEY}/settings", json={"ip_blocked": "yes"})

    assert response.status_code == 400 and "ip_blocked" in response.json()["error"]
    assert control.request("GET", "/_sim/environments").json()[KEY]["settings"] == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"maintenance_retry_after": "60"}, "maintenance_retry_after"),
        ({"maintenance_retry_after": -1}, "maintenance_retry_after"),
        ({"maintenance_retry_after": 10**30}, "maintenance_retry_after"),
        ({"update_response_shape": "weird"}, "update_response_shape"),
        ({"profit_version": ["1"]}, "profit_version"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_settings_are_checked_field_by_field(control, changes, field):
    response = control.request("POST", f"/_sim/environments/{KEY}/settings", json=changes)

    assert response.status_code == 400 and field in response.json()["error"]


def test_rows_that_are_not_objects_of_plain_values_are_refused_and_none_is_added(control, make_client):
    count = len(make_client().debtors().rows)

    for rows in ([1, "x", None], [{"DebtorId": {"a": 1}}], {"DebtorId": "1"}):
        response = control.request("POST", f"/_sim/environments/{KEY}/rows/Peppol_Debtors", json={"rows": rows})
        assert response.status_code == 400 and "rows" in response.json()["error"]

    assert len(make_client().debtors().rows) == count


def test_a_relation_change_with_a_nested_value_is_refused_by_field(control):
    response = control.request("POST", f"/_sim/environments/{KEY}/debtors/10001", json={"DebtorName": ["x"]})

    assert response.status_code == 400 and "DebtorName" in response.json()["error"]


def test_a_refused_fixtures_request_loads_nothing(control):
    good = {"participant": "77777", "tokens": [{"token": "t"}]}
    bad = {"participant": "77778", "tokens": [{"token": 5}]}

    response = control.request("POST", "/_sim/fixtures", json={"environments": [good, bad]})

    assert response.status_code == 400
    assert "environments[1].tokens[0].token" in response.json()["error"]
    assert "77777-production" not in control.request("GET", "/_sim/environments").json()


@pytest.mark.parametrize(
    ("environment", "field"),
    [
        ({"participant": "1/2"}, "participant"),
        ({"participant": True}, "participant"),
        ({"participant": "1", "environment_type": "staging"}, "environment_type"),
        ({"participant": "1", "organisation": {"name": "X", "kvk": "abc"}}, "organisation.kvk"),
        ({"participant": "1", "debtors": [["DebtorId", "1"]]}, "debtors[0]"),
        ({"participant": "1", "rows": {"Nope": []}}, "rows.Nope"),
        ({"participant": "1", "get_connectors": {"C": {"fields": [{"label": "x"}]}}}, "fields[0].id"),
        ({"participant": "1", "tokens": [{"token": "t", "connectors": "all"}]}, "connectors"),
    ],
)
def test_fixtures_are_checked_field_by_field(control, environment, field):
    response = control.request("POST", "/_sim/fixtures", json={"environments": [environment]})

    assert response.status_code == 400 and field in response.json()["error"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"debtor": {"id": 1}}, "debtor"),
        ({"debtor": "10001", "lines": [1]}, "lines[0]"),
        ({"debtor": "10001", "lines": [{"price": "abc"}]}, "lines[0].price"),
        ({"debtor": "10001", "lines": [{"price": "1e400"}]}, "lines[0].price"),
        ({"debtor": "10001", "lines": [{"price": "1", "vat": "42"}]}, "lines[0].vat"),
        ({"debtor": "10001", "issue_date": "tomorrow"}, "issue_date"),
        ({"debtor": "10001", "number": 7}, "number"),
    ],
)
def test_a_sales_invoice_is_checked_field_by_field_and_uses_no_number_when_refused(simulator, control, spec, field):
    following = simulator.environments[KEY]["next"]["invoice"]

    response = control.request("POST", f"/_sim/environments/{KEY}/sales-invoices", json=spec)

    assert response.status_code == 400 and field in response.json()["error"]
    assert simulator.environments[KEY]["next"]["invoice"] == following


def test_an_update_connector_body_nested_too_deeply_is_a_400_not_a_crash(control):
    body = b'{"KnSalesRelationOrg": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"

    response = control.request("POST", f"{PROFIT}/connectors/KnSalesRelationOrg", content=body, headers=auth())

    assert response.status_code == 400


def test_an_update_connector_field_with_a_nested_value_gets_profit_s_error(control):
    body = {"KnSalesRelationOrg": {"Element": {"@DbId": "10001", "Fields": {"EnId": {"a": [1]}}}}}

    response = control.request("PUT", f"{PROFIT}/connectors/KnSalesRelationOrg", json=body, headers=auth())

    assert response.status_code == 500
    assert "EnId" in response.json()["externalMessage"]


@pytest.fixture
def small_business(control):
    spec = next(e for e in ENVIRONMENTS if e.edition == "small_business")
    base = f"/sb/demo/{spec.sb_environment}"
    answer = control.request("POST", f"{base}/authentication/getaccesstoken", json={"apptoken": spec.afas_token})
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}", "Accept-Version": "1.1"}
    return base, headers


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"InvoiceLine": [{"AmountExcludingVat": 1e300}]}', "AmountExcludingVat"),
        (b'{"Attachments": {"AttachmentId": "x"}}', "Attachments"),
        (b'{"Attachments": [1]}', "Attachments"),
        (b"[" * 5_000 + b"]" * 5_000, "body"),
    ],
)
def test_a_small_business_journal_entry_with_hostile_values_gets_the_field_error(small_business, control, body, field):
    base, headers = small_business
    valid = {
        "AdministrationId": "6f1c8f3e-0000-4000-8000-000000000001",
        "InvoiceNumber": "F-1",
        "RelationType": "organisation",
        "RelationId": "6f1c8f3e-0000-4000-8000-000000000002",
        "InvoiceDate": "2025-01-01",
        "DueDate": "2025-02-01",
        "InvoiceLine": [
            {"LedgerAccountId": "6f1c8f3e-0000-4000-8000-000000000003", "AmountExcludingVat": 1, "VatType": "high"}
        ],
    }
    if body.startswith(b"{"):
        overrides = json.loads(body)
        if "InvoiceLine" in overrides:
            valid["InvoiceLine"][0].update(overrides.pop("InvoiceLine")[0])
        body = json.dumps(valid | overrides).encode()

    response = control.request("POST", f"{base}/api/purchasejournalentry", content=body, headers=headers)

    assert response.status_code == 400
    assert field in str(response.json()["errors"])


def test_a_sales_invoice_that_cannot_be_built_uses_no_invoice_number(simulator, control):
    control.request("POST", f"/_sim/environments/{KEY}/debtors/29999", json={"DebtorName": "Zonder nummers B.V."})
    following = simulator.environments[KEY]["next"]["invoice"]

    response = control.request("POST", f"/_sim/environments/{KEY}/sales-invoices", json={"debtor": "29999"})

    assert response.status_code == 400 and "no valid identifier" in response.json()["error"]
    assert simulator.environments[KEY]["next"]["invoice"] == following
