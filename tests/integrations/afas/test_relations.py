"""Debtors and creditors changing in the simulator as a person in Profit would change them, read incrementally."""

from datetime import date

from tests.integrations.afas.conftest import DEMO

KEY = DEMO.key


def test_a_changed_creditor_is_read_from_its_modification_date(control, make_client):
    client = make_client()
    first = client.creditors_changed()
    assert len(first.rows) == 3 and first.cursor.date() == date(2024, 6, 1)

    assert (
        control.request(
            "POST", f"/_sim/environments/{KEY}/creditors/70002", json={"ChOfCommNr": "33445599"}
        ).status_code
        == 200
    )
    changed = client.creditors_changed(changed_since=first.cursor)

    # At-or-after the cursor: the unchanged rows sharing the old cursor's exact second are read again (harmless).
    assert {c.number: c.kvk for c in changed.rows}["70002"] == "33445599"
    assert changed.cursor > first.cursor
    assert [c.number for c in client.creditors_changed(changed_since=changed.cursor).rows] == ["70002"]


def test_a_debtor_can_be_added_changed_and_deleted_through_the_control_api(control, make_client):
    client = make_client()

    added = control.request(
        "POST", f"/_sim/environments/{KEY}/debtors/29999", json={"DebtorName": "Nieuw B.V.", "CcNr": "30111111"}
    )
    assert added.status_code == 201 and added.json()["ModifiedDate"].endswith("Z")
    assert client.debtor("29999").kvk == "30111111"

    assert control.request("DELETE", f"/_sim/environments/{KEY}/debtors/29999").status_code == 200
    assert client.debtor("29999") is None
    assert control.request("DELETE", f"/_sim/environments/{KEY}/debtors/29999").status_code == 404
    assert control.request("POST", "/_sim/environments/nope-production/debtors/1", json={}).status_code == 404
    assert control.request("POST", f"/_sim/environments/{KEY}/debtors/1", json=[1]).status_code == 400


def test_the_econnect_id_written_back_is_what_the_next_read_returns(make_client):
    client = make_client()

    client.set_debtor_econnect_id("10002", "NL:KVK:30123457")

    debtor = client.debtor("10002")
    assert debtor.econnect_id == "NL:KVK:30123457" and debtor.modified_at.year >= 2026
