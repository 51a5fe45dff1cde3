"""The environment page: "send test invoice", its status followed live until it comes back through the inbox (never
booked in AFAS), and the setup checklist that records the round trip."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.incoming_invoices.services import incoming_fetch
from portal.outgoing_invoices import services
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.browser.conftest import NoReload


def test_a_test_invoice_makes_the_round_trip_on_the_environment_page_without_a_reload(world, context, page, shots):
    environment = world.demo_environment()
    world.log_in(context, world.demo_user())
    page.goto(world.url("web:environment_detail", environment.pk))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shots.take("environment page", both=True)
    same_page = NoReload(page)

    page.get_by_role("button", name="Send test invoice").click()

    test_invoice = page.get_by_role("region", name="Test invoice", exact=True)
    status = test_invoice.get_by_role("status")  # a live region that polls its own fragment
    expect(status).to_contain_text("Submitted")  # prepared, validated and handed to eConnect (eager tasks)
    with world.exclusive():
        invoice = OutgoingInvoice.objects.get(environment=environment, is_test=True)
    expect(test_invoice).to_contain_text(invoice.invoice_number)
    shots.take("test invoice submitted", both=True)

    # What beat does a little later: eConnect has delivered it by now, and the status poll asks.
    assert world.econnect_control("POST", "/_sim/clock", json={"advance": 120}).status_code == 200
    with world.exclusive():
        services.outgoing_follow_status(invoice=invoice)
        invoice.refresh_from_db()
    assert invoice.status == OutgoingInvoice.Status.DELIVERED

    expect(status).to_contain_text("Delivered")
    expect(test_invoice).to_contain_text("waiting for it to come back through the inbox")  # receiving is on
    shots.take("test invoice delivered", both=True)

    # What beat does next: the inbox fetch finds the test invoice back; it is acknowledged, never booked in AFAS.
    with world.exclusive():
        incoming_fetch(environment=environment)
    expect(test_invoice).to_contain_text("the connection works both ways")
    expect(test_invoice.locator("[hx-trigger]")).to_have_count(0)  # the round trip is over: no more polling
    same_page.check()
    shots.take("test invoice back", both=True)
    booked = world.afas_control("GET", "/_sim/environments/12345-production/delivered").json()["purchase_invoices"]
    assert f"{invoice.invoice_number}.xml" not in {entry["xml_filename"] for entry in booked}
    page.reload()
    setup = page.get_by_role("region", name=re.compile("^Setup"))
    expect(setup.get_by_role("listitem").filter(has_text="A test invoice made the round trip")).to_contain_text("done")

    # The invoice's own page tells the same, with its timeline.
    test_invoice.get_by_role("link", name=invoice.invoice_number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(invoice.invoice_number)
    expect(page.get_by_role("main")).to_contain_text("Delivered")
    shots.take("test invoice page", both=True)
