"""Hostile JSON from AFAS that used to crash the Profit client with an untyped error (found by the campaign)."""

from datetime import datetime

import httpx
import pytest

from integrations.afas.profit import ProfitClient
from integrations.afas.rows import AFAS_TIME_ZONE
from integrations.http import MalformedResponse


def client_answering(body: bytes, *, status: int = 200) -> ProfitClient:
    """Every first page (and every write) is ``body``; later pages are empty."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.params.get("skip", "0") != "0":
            return httpx.Response(200, json={"rows": []})
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    return ProfitClient(
        participant="12345",
        environment_type="production",
        token="<token><version>1</version><data>x</data></token>",
        base_url_template="http://afas.invalid/{participant}/{rest_host}/ProfitRestServices",
        transport=httpx.MockTransport(answer),
        sleep=lambda seconds: None,
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 10_000 + b"]" * 10_000, id="nested 10,000 deep"),
        pytest.param(b'{"rows": [' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]}", id="rows nested 100,000 deep"),
        pytest.param(b'{"rows": [], "skip": ' + b"9" * 5_000 + b"}", id="a 5,000-digit integer"),
    ],
)
def test_json_python_cannot_read_is_a_malformed_answer(body):
    with client_answering(body) as client, pytest.raises(MalformedResponse, match="could not be read"):
        client.debtors()


def test_an_unreadable_update_answer_is_a_malformed_answer():
    with client_answering(b"[" * 10_000, status=201) as client, pytest.raises(MalformedResponse):
        client.deliver_purchase_invoice(ubl=b"<Invoice/>")


@pytest.mark.parametrize("echo", [b'"abc"', b"NaN", b"Infinity", b"1e400", b"-5", b"null", b"true", b"[]"])
def test_a_page_that_echoes_an_odd_skip_or_take_keeps_the_requested_ones(echo):
    with client_answering(b'{"rows": [], "skip": ' + echo + b', "take": ' + echo + b"}") as client:
        page = client.get_page("Peppol_Debtors", order_by=("DebtorId",), skip=0, take=100)

    assert (page.skip, page.take, page.rows) == (0, 100, ())


def test_a_cursor_field_with_values_of_mixed_types_takes_the_latest_date_time():
    rows = (
        b'{"rows": [{"DebtorId": "1", "ModifiedDate": "2026-01-02T10:00:00"}, {"DebtorId": "2", "ModifiedDate": 5},'
        b' {"DebtorId": "3", "ModifiedDate": {"a": 1}}, {"DebtorId": "4", "ModifiedDate": [1]}]}'
    )
    with client_answering(rows) as client:
        changed = client.debtors()

    assert [d.number for d in changed.rows] == ["1", "2", "3", "4"]
    assert changed.cursor == datetime(2026, 1, 2, 10, 0, tzinfo=AFAS_TIME_ZONE)


def test_an_infinite_number_where_an_id_belongs_is_no_id():
    body = b'{"rows": [{"SubjectId": 1e400, "TypeId": -Infinity, "SalesInvoiceNumber": "x", "SbId": 1e400}]}'
    with client_answering(body) as client:
        items = client.sales_invoice_items()

    assert items == []  # a link without a usable dossier item id leads nowhere
