"""The inbox: a held duplicate, opened from the list and released by a firm admin with a reason."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.incoming_invoices import services
from portal.incoming_invoices.models import IncomingInvoice

HELD_DUPLICATE = "2025-0042"  # the demo inbox holds a resend of this invoice (integrations/econnect/simulator/seed.py)


def test_a_firm_admin_releases_a_held_duplicate_with_a_reason(world, context, page, shots):
    environment = world.demo_environment()
    with world.exclusive():  # what beat does: fetch the inbox (tasks are eager: processed and delivered at once)
        services.incoming_fetch(environment=environment)
        held = IncomingInvoice.objects.get(
            environment=environment, invoice_number=HELD_DUPLICATE, status=IncomingInvoice.Status.HELD
        )
    world.log_in(context, world.demo_user())  # the demo accountant is a firm admin

    page.goto(world.url("web:inbox"))
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    shots.take("inbox", both=True)
    row = page.get_by_role("row").filter(has_text=HELD_DUPLICATE).filter(has_text="Held")
    expect(row).to_have_count(1)
    row.get_by_role("link", name=HELD_DUPLICATE).click()

    expect(page).to_have_url(re.compile(re.escape(world.url("web:incoming_detail", held.pk)) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(HELD_DUPLICATE)
    status = page.locator("[aria-live]").filter(has_text="Delivered to AFAS")
    expect(status).to_contain_text("Held")
    shots.take("held duplicate", both=True)

    page.get_by_label("Why is this an original?").fill("Checked with the supplier: a second delivery, ordered twice.")
    page.get_by_role("button", name="Mark as original").click()
    if held.duplicate_verdict == IncomingInvoice.DuplicateVerdict.CERTAIN_DUPLICATE:
        # The very same file as an earlier document: a second confirmation that names that document.
        earlier = held.duplicate_of
        expect(page.get_by_role("heading", level=1)).to_have_text("Deliver an identical file again?")
        expect(page.get_by_role("main")).to_contain_text(f"It has the same SHA-256 as {earlier}")
        shots.take("identical file: confirm", both=True)
        page.get_by_role("button", name=f"Yes: deliver it although it is identical to {earlier}").click()

    expect(page.get_by_role("status").filter(has_text="marked as original")).to_be_visible()
    expect(status).to_contain_text("In AFAS and acknowledged")
    expect(page.get_by_role("button", name="Mark as original")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("Checked with the supplier")  # the reason is on the timeline
    shots.take("released", both=True)
    with world.exclusive():
        held.refresh_from_db()
    assert held.status == IncomingInvoice.Status.ACKNOWLEDGED
    assert held.released_at is not None
