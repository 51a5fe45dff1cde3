"""Every main page, as Chromium renders it: named form controls, one main heading, headed tables, and no sideways
scrolling at phone width. In English and in Dutch."""

from __future__ import annotations

import pytest

from portal.incoming_invoices import services as incoming
from portal.incoming_invoices.models import IncomingInvoice
from portal.outgoing_invoices.round_trip import outgoing_send_test_invoice

# What the browser reports as wrong on the page; an empty list is a pass.
PROBLEMS_JS = """
() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = (el) => (el.labels && el.labels.length) || el.getAttribute('aria-label')
    || el.getAttribute('aria-labelledby') || el.getAttribute('title');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset'].includes(el.type) || !visible(el)) continue;
    if (!named(el)) problems.push(`no label: <${el.tagName.toLowerCase()} name="${el.name}">`);
  }
  for (const button of document.querySelectorAll('button')) {
    if (visible(button) && !button.textContent.trim() && !button.getAttribute('aria-label'))
      problems.push('a button without text');
  }
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} main headings`);
  for (const table of document.querySelectorAll('table')) {
    if (!table.querySelector('th')) problems.push('a table without header cells');
  }
  for (const svg of document.querySelectorAll('main svg')) {
    if (!svg.querySelector('title') && !svg.getAttribute('aria-label') && svg.getAttribute('aria-hidden') !== 'true')
      problems.push('an image (svg) without a title');
  }
  if (!document.documentElement.lang) problems.push('no page language');
  return problems;
}
"""

PHONE = {"width": 375, "height": 800}


def _pages(world) -> list[tuple[str, str]]:
    environment = world.demo_environment()
    with world.exclusive():  # a sent test invoice and the fetched demo inbox (with a held duplicate)
        sent = outgoing_send_test_invoice(environment=environment, actor=None)
        incoming.incoming_fetch(environment=environment)
        held = IncomingInvoice.objects.filter(environment=environment, status=IncomingInvoice.Status.HELD).first()
    return [
        ("outgoing invoice", world.url("web:outgoing_detail", sent.pk)),
        ("held document", world.url("web:incoming_detail", held.pk)),
        ("dashboard", world.url("web:home")),
        ("outbox", world.url("web:outbox")),
        ("inbox", world.url("web:inbox")),
        ("readiness", world.url("web:readiness")),
        ("team", world.url("web:team")),
        ("account", world.url("web:account")),
        ("organisation", world.url("web:organisation_detail", environment.organisation_id)),
        ("environment", world.url("web:environment_detail", environment.pk)),
        ("environment settings", world.url("web:environment_settings", environment.pk)),
        ("customers", world.url("web:environment_contacts", environment.pk)),
    ]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_main_pages_are_usable_with_assistive_technology_and_on_a_phone(world, context, page, language):
    world.log_in(context, world.demo_user())
    context.add_cookies([{"name": "django_language", "value": language, "url": world.live_server.url}])
    found = {}
    for name, path in _pages(world):
        for size in ({"width": 1280, "height": 900}, PHONE):
            page.set_viewport_size(size)
            response = page.goto(world.live_server.url + path)
            assert response.status == 200, (name, response.status)
            problems = page.evaluate(PROBLEMS_JS)
            if size == PHONE and page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1"):
                problems.append("scrolls sideways at phone width")
            if problems:
                found[f"{name} at {size['width']}px"] = problems
    assert page.locator("html").get_attribute("lang") == language
    assert found == {}
