"""The environment page: "send test invoice", and its status followed live until eConnect reports it delivered."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.outgoing_invoices import services
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.browser.conftest import NoReload


def test_a_test_invoice_becomes_delivered_on_the_environment_page_without_a_reload(world, context, page, shots):
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
    expect(test_invoice.locator("[hx-trigger]")).to_have_count(0)  # the final status no longer polls
    same_page.check()
    shots.take("test invoice delivered", both=True)

    # The invoice's own page tells the same, with its timeline.
    test_invoice.get_by_role("link", name=invoice.invoice_number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(invoice.invoice_number)
    expect(page.get_by_role("main")).to_contain_text("Delivered")
    shots.take("test invoice page", both=True)
