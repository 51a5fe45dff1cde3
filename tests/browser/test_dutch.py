"""The Dutch pages say everything in Dutch: no English sentence of the timeline, the lookup explanations or the test
invoice's round trip slips through, however it was recorded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.contacts.lookups import contacts_look_up_due
from portal.contacts.services import contacts_sync
from portal.events.catalogue import CATALOGUE
from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.services import incoming_fetch
from portal.outgoing_invoices import services as sending
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.round_trip import outgoing_send_test_invoice


def english_fragments() -> set[str]:
    """The fixed English words of every stored message: what a Dutch page must never show."""
    fragments = set()
    for template in CATALOGUE.values():
        for part in re.split(r"%\(\w+\)s", str(template)):
            words = part.strip(" .,:;()'“”")
            if len(words.split()) >= 3:  # three words or more: a sentence, not a name like "eConnect App Key"
                fragments.add(words)
    return fragments


@pytest.fixture
def activity(world):
    """Sales invoices sent, a test invoice back, purchase invoices received, customers looked up."""
    environment = world.demo_environment()
    with world.exclusive():
        sending.outgoing_collect(environment=environment)
        test_invoice = outgoing_send_test_invoice(environment=environment, actor=world.demo_user())
    assert world.econnect_control("POST", "/_sim/clock", json={"advance": 120}).status_code == 200
    with world.exclusive():
        for invoice in OutgoingInvoice.objects.filter(environment=environment, status="submitted"):
            sending.outgoing_follow_status(invoice=invoice)
        incoming_fetch(environment=environment)
        contacts_sync(environment=environment, full=True)
        contacts_look_up_due()
        received = IncomingInvoice.objects.filter(environment=environment).order_by("pk").first()
    return environment, OutgoingInvoice.objects.get(pk=test_invoice.pk), received


def test_the_dutch_pages_show_no_english_message(world, context, page, shots, activity):
    environment, test_invoice, received = activity
    world.log_in(context, world.demo_user())
    context.add_cookies([{"name": "django_language", "value": "nl", "url": world.live_server.url}])
    english = english_fragments()
    assert len(english) > 100

    for name, args in (
        ("web:environment_detail", [environment.pk]),
        ("web:outgoing_detail", [test_invoice.pk]),
        ("web:incoming_detail", [received.pk]),
        ("web:environment_contacts", [environment.pk]),
        ("web:home", []),
    ):
        page.goto(world.url(name, *args))
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        text = page.locator("main").inner_text()
        found = sorted(fragment for fragment in english if fragment in text)
        shots.take(f"nl {name}")
        assert found == [], f"{name} shows English: {found}"

    page.goto(world.url("web:outgoing_detail", test_invoice.pk))
    expect(page.get_by_role("main")).to_contain_text("de verbinding werkt in beide richtingen")
    expect(page.get_by_role("main")).to_contain_text("systeem (")  # the system actors, named in Dutch
