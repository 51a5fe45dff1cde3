"""A firm admin onboards a new client in the browser alone: organisation, environment, token and keys, connection test,
own identifier, switches and a test invoice that makes the round trip. The setup checklist goes green step by step,
and nothing reaches the AFAS simulator's purchase side."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from integrations.demo_data import NEW_CLIENT
from portal.incoming_invoices.services import incoming_fetch
from portal.organisations.models import Environment
from portal.outgoing_invoices import services as sending
from portal.outgoing_invoices.models import OutgoingInvoice


def _step(page, title: str):
    return page.locator("#setup li.step").filter(has_text=title)


def test_a_firm_admin_onboards_a_new_client_and_the_checklist_goes_green(world, context, page, shots):
    world.log_in(context, world.demo_user())  # the demo accountant is a firm admin
    page.goto(world.url("web:home"))

    page.get_by_role("link", name="Add a client organisation").click()
    page.get_by_label("Name").fill(NEW_CLIENT.organisation_name)
    page.get_by_label("KvK number").fill(NEW_CLIENT.organisation_kvk)
    page.get_by_role("button", name="Add organisation").click()
    expect(page.get_by_role("status")).to_contain_text(f"{NEW_CLIENT.organisation_name} is added")

    page.get_by_label("AFAS participant number").fill(NEW_CLIENT.participant)
    page.get_by_label("New AFAS token").fill(NEW_CLIENT.afas_token)
    page.get_by_label("New eConnect App Key").fill(NEW_CLIENT.econnect_app_key)
    page.get_by_label("New eConnect Secret").fill(NEW_CLIENT.econnect_app_secret)
    shots.take("environment form")
    page.get_by_role("button", name="Add environment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Production ({NEW_CLIENT.participant})")
    setup = page.locator("#setup")
    expect(setup).to_contain_text("0 of 7 done")
    expect(_step(page, "AFAS token accepted")).to_contain_text("not tested yet")
    shots.take("new environment: what is missing", both=True)

    page.get_by_role("button", name="Test connection").click()  # htmx: the checklist follows without a reload
    expect(_step(page, "AFAS token accepted")).to_contain_text("done")
    expect(_step(page, "The AFAS connectors the portal needs are there")).to_contain_text("done")
    expect(_step(page, "eConnect connection keys accepted")).to_contain_text("done")
    expect(setup).to_contain_text("3 of 7 done")

    identifier = page.get_by_role("textbox", name="Peppol identifier")
    expect(identifier).to_have_value(f"0106:{NEW_CLIENT.organisation_kvk}")  # suggested from the KvK number
    identifier.fill(f"NL:KVK:{NEW_CLIENT.organisation_kvk}")
    page.get_by_role("button", name="Add and look it up").click()
    expect(page.get_by_role("status")).to_contain_text("is registered at eConnect")
    expect(_step(page, "Own Peppol identifier registered at eConnect")).to_contain_text("done")

    page.get_by_role("button", name="Switch sending on").click()
    expect(_step(page, "Sending switched on")).to_contain_text("done")
    page.get_by_role("button", name="Switch receiving on").click()
    expect(_step(page, "Receiving switched on")).to_contain_text("done")
    expect(setup).to_contain_text("6 of 7 done")
    shots.take("six of seven", both=True)

    page.get_by_role("button", name="Send test invoice").click()
    with world.exclusive():
        environment = Environment.objects.get(afas_participant_number=NEW_CLIENT.participant)
        invoice = OutgoingInvoice.objects.get(environment=environment, is_test=True)
    expect(page.get_by_role("region", name="Test invoice", exact=True)).to_contain_text(invoice.invoice_number)
    # What beat does a little later: eConnect delivers it, the status poll sees it, the inbox fetch gets it back.
    assert world.econnect_control("POST", "/_sim/clock", json={"advance": 120}).status_code == 200
    with world.exclusive():
        sending.outgoing_follow_status(invoice=invoice)
        incoming_fetch(environment=environment)
    expect(_step(page, "A test invoice made the round trip")).to_contain_text("done")
    expect(setup).to_contain_text("7 of 7 done")
    expect(setup).to_contain_text("Everything is set up")
    shots.take("set up", both=True)

    key = f"{NEW_CLIENT.participant}-{NEW_CLIENT.environment_type}"
    booked = world.afas_control("GET", f"/_sim/environments/{key}/delivered").json()
    assert f"{invoice.invoice_number}.xml" not in {entry["xml_filename"] for entry in booked["purchase_invoices"]}
    assert booked["journal_entries"] == []

    page.goto(world.url("web:home"))
    expect(page.get_by_role("row").filter(has_text=NEW_CLIENT.organisation_name)).not_to_contain_text(
        re.compile(r"Setup \d/7")
    )
