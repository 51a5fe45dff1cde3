import base64
import hashlib
from datetime import date

import pytest

from integrations.afas.errors import AfasFunctionalError
from integrations.afas.simulator.documents import build_sales_invoice
from tests.integrations.afas.conftest import DEMO, settings

TINY_PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\ntrailer<<>>\n%%EOF\n"


def supplier_ubl() -> bytes:
    """A purchase invoice from a demo creditor, with a byte-order mark and odd whitespace that must survive."""
    files = build_sales_invoice(
        organisation={"name": "Groothandel Meelfabriek Holland B.V.", "kvk": "33445566"},
        debtor={"DebtorId": "1", "DebtorName": DEMO.organisation_name, "CcNr": DEMO.organisation_kvk},
        number="GM-2025-77",
        issue_date=date(2025, 3, 3),
        lines=[{"description": "Meel", "quantity": "10", "price": "31.10", "vat": "9"}],
    )
    return b"\xef\xbb\xbf" + files.ubl.replace(b"\n", b"\r\n")


def delivered(control, key=DEMO.key):
    return control.request("GET", f"/_sim/environments/{key}/delivered").json()


def test_a_purchase_invoice_is_delivered_with_its_bytes_unchanged(control, profit):
    ubl = supplier_ubl()

    result = profit.deliver_purchase_invoice(ubl=ubl, filename="GM-2025-77.xml", pdf=TINY_PDF, administration=1)

    assert result.status == 201 and result.keys == {}  # documented: no body
    [received] = delivered(control)["purchase_invoices"]
    assert base64.b64decode(received["xml_b64"]) == ubl
    assert received["xml_sha256"] == hashlib.sha256(ubl).hexdigest()
    assert base64.b64decode(received["pdf_b64"]) == TINY_PDF
    assert received["matched_creditor"] == "70001"
    assert received["process_directly"] is False


def test_a_purchase_invoice_that_is_not_ubl_is_refused_permanently(control, profit):
    with pytest.raises(AfasFunctionalError, match="not a valid e-invoice"):
        profit.deliver_purchase_invoice(ubl=b"<html>not an invoice</html>")

    assert delivered(control)["purchase_invoices"] == []


def test_an_unknown_administration_is_refused(profit):
    with pytest.raises(AfasFunctionalError, match="Administration"):
        profit.deliver_purchase_invoice(ubl=supplier_ubl(), administration=99)


def test_a_verified_peppol_id_is_written_back_to_the_debtor(profit):
    result = profit.set_debtor_econnect_id("10002", "0106:30123457")

    assert result.keys == {"DbId": "10002", "BcCo": "ORG10002"}
    assert profit.debtor("10002").econnect_id == "0106:30123457"


def test_writing_back_to_an_unknown_debtor_is_a_functional_error(profit):
    with pytest.raises(AfasFunctionalError, match="Debtor"):
        profit.set_debtor_econnect_id("99999", "0106:30123457")


@pytest.mark.parametrize(
    ("shape", "keys"),
    [
        ("results", {"DbId": "10002", "BcCo": "ORG10002"}),
        ("bare", {"DbId": "10002", "BcCo": "ORG10002"}),
        ("empty", {}),
    ],
)
def test_the_three_update_connector_success_shapes_are_all_success(control, profit, shape, keys):
    settings(control, update_response_shape=shape)

    result = profit.set_debtor_econnect_id("10002", "0106:30123457")

    assert (result.status, dict(result.keys)) == (201, keys)


def test_update_connector_envelope_accepts_element_and_objects_as_arrays(control, profit):
    element = [
        {"Fields": {"InPv": "R"}, "Objects": [{"KnOrganisation": {"Element": {"Fields": {"Nm": "Nieuw B.V."}}}}]}
    ]
    response = profit.http.request(
        "POST", "/connectors/KnSalesRelationOrg", json={"KnSalesRelationOrg": {"Element": element}}
    )

    assert response.status_code == 201
    assert response.json()["results"]["KnSalesRelationOrg"]["DbId"] == "20001"


def test_a_write_is_not_retried_on_a_transient_error(control, profit):
    control.request("POST", "/_sim/faults", json={"operation": "POST /connectors/FiElectronicInvoicePurchase",
                                                  "status": 503, "headers": {"Retry-After": "1"}})  # fmt: skip
    with pytest.raises(Exception) as caught:
        profit.deliver_purchase_invoice(ubl=supplier_ubl())

    assert caught.value.transient
    assert delivered(control)["purchase_invoices"] == []
