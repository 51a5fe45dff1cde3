"""The pages at a laptop's 1366 px (nothing breaks in the middle of a word, nothing scrolls sideways) and at a phone's
375 px (the outbox and the inbox become cards), in English and in Dutch."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.incoming_invoices import services as receiving
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.models import Environment
from portal.outgoing_invoices import services as sending
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}

# Words (split at spaces, hyphens and slashes) that a line break cut in two; long tokens (hashes, URLs) and code may.
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest('code, pre, svg, .visually-hidden, details:not([open]) > :not(summary)')) continue;
    if (!parent.getClientRects().length) continue;
    const words = /[^\\s\\-\\/–·,;:()]+/g;
    let match;
    while ((match = words.exec(node.data))) {
      if (match[0].length > 24) continue;
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# How far the widest table sticks out of its scroll box (the dashboard's table must fit at 1366 px).
TABLE_OVERFLOW = "Math.max(0, ...Array.from(document.querySelectorAll('main .table-scroll')).map(box => box.scrollWidth - box.clientWidth))"


def _pages(world):
    environment = world.demo_environment()
    with world.exclusive():
        sending.outgoing_collect(environment=environment)
        receiving.incoming_fetch(environment=environment)
        invoice = OutgoingInvoice.objects.filter(environment=environment).exclude(invoice_number="").first()
        document = IncomingInvoice.objects.filter(environment=environment).first()
        # The environment on eConnect PSB, and a purchase invoice it received: answering the supplier, retention.
        flora = Environment.objects.get(econnect_transport=Environment.EConnectTransport.PSB)
        over_psb = IncomingInvoiceFactory(environment=flora, raw_xml=bytes(document.raw_xml), invoice_number="PSB-1")
    return [
        world.url("web:environment_detail", flora.pk),
        world.url("web:incoming_detail", over_psb.pk),
        world.url("web:home"),
        world.url("web:outbox"),
        world.url("web:inbox"),
        world.url("web:environment_detail", environment.pk),
        world.url("web:outgoing_detail", invoice.pk),
        world.url("web:incoming_detail", document.pk),
        world.url("web:environment_contacts", environment.pk),
        world.url("web:onboarding_import"),
    ]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_at_1366_px_nothing_breaks_mid_word_or_scrolls_sideways(world, context, page, shots, language):
    world.log_in(context, world.demo_user())
    context.add_cookies([{"name": "django_language", "value": language, "url": world.live_server.url}])
    page.set_viewport_size(LAPTOP)
    for url in _pages(world):
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shots.take(f"{language} {url}")
        assert page.evaluate(OVERFLOW) <= 1, f"{url} scrolls sideways at 1366 px"
        if url in (world.url("web:home"), world.url("web:outbox"), world.url("web:inbox")):
            assert page.evaluate(TABLE_OVERFLOW) <= 1, f"{url}: a table scrolls sideways at 1366 px"
        assert page.evaluate(BROKEN_WORDS) == [], f"{url}: words broken across lines at 1366 px"


@pytest.mark.parametrize("name", ["web:outbox", "web:inbox"])
def test_at_375_px_the_lists_become_cards(world, context, page, shots, name):
    world.log_in(context, world.demo_user())
    _pages(world)
    page.set_viewport_size(PHONE)

    page.goto(world.url(name))

    shots.take("phone")
    rows = page.locator("main table tbody tr")
    assert rows.count() > 1
    assert rows.first.evaluate("row => getComputedStyle(row).display") == "block"
    assert page.locator("main table thead").first.evaluate("head => head.getBoundingClientRect().height") <= 1
    assert page.evaluate(OVERFLOW) <= 1
    first_cell = rows.first.locator("td").first
    assert first_cell.evaluate("cell => getComputedStyle(cell, '::before').content") not in ("none", "normal", '""')
