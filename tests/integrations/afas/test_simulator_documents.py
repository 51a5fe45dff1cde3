"""The sales invoices the AFAS simulator files in the dossier are what AFAS would produce: valid Peppol UBL."""

from integrations.demo_data import ENVIRONMENTS

DEMO = ENVIRONMENTS[0]  # 12345 production, Profit


def test_every_seeded_sales_invoice_passes_the_official_rules(profit, official_validator):
    items = profit.sales_invoice_items()

    assert items, "the demo seed files sales invoices in the dossier"
    for item in items:
        ubl = profit.download_attachment(item.subject_id, item.ubl_attachment.file_id).content
        result = official_validator.validate(ubl)
        assert result.valid, (item.subject_id, [(f.rule_id, f.message) for f in result.fatal])


def test_a_newly_issued_sales_invoice_passes_the_official_rules(profit, control, official_validator):
    response = control.request(
        "POST",
        f"/_sim/environments/{DEMO.key}/sales-invoices",
        json={
            "debtor": "10012",
            "lines": [
                {"description": "Installatie", "quantity": "3", "price": "125.50", "vat": "21"},
                {"description": "Onderdelen", "quantity": "2.5", "price": "19.99", "vat": "9"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    newest = profit.sales_invoice_items()[-1]

    ubl = profit.download_attachment(newest.subject_id, newest.ubl_attachment.file_id).content
    result = official_validator.validate(ubl)

    assert result.valid, [(f.rule_id, f.message) for f in result.fatal]
