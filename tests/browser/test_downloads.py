"""Downloads from the invoice pages, in both languages: the UBL as sent with its PDF, and a purchase invoice exactly
as eConnect delivered it. The browser saves what the links give; the bytes and names are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.services import incoming_fetch
from portal.outgoing_invoices import services as sending
from portal.outgoing_invoices.models import OutgoingInvoice

LABELS = {
    "en": {
        "sent": "Download the UBL as sent",
        "pdf": "Download {name}",
        "received": "Download the document exactly as received",
    },
    "nl": {
        "sent": "De UBL downloaden zoals verzonden",
        "pdf": "{name} downloaden",
        "received": "Het document downloaden precies zoals ontvangen",
    },
}


def save(page, link):
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None
    return download.suggested_filename, Path(download.path()).read_bytes()


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_invoice_pages_download_the_ubl_its_pdf_and_the_document_as_received(world, context, page, shots, language):
    environment = world.demo_environment()
    with world.exclusive():  # what beat does: collect AFAS's sales invoices and receive eConnect's inbox
        sending.outgoing_collect(environment=environment)
        incoming_fetch(environment=environment)
        sent = OutgoingInvoice.objects.filter(environment=environment, is_test=False).exclude(ubl=b"").first()
        received = IncomingInvoice.objects.filter(environment=environment).order_by("pk").first()
    assert sent is not None and received is not None
    labels = LABELS[language]
    world.log_in(context, world.demo_user())
    context.add_cookies([{"name": "django_language", "value": language, "url": world.live_server.url}])

    page.goto(world.url("web:outgoing_detail", sent.pk))
    expect(page.locator("html")).to_have_attribute("lang", language)
    shots.take(f"{language} outgoing downloads", both=True)
    filename, content = save(page, page.get_by_role("link", name=labels["sent"]))
    assert filename == f"{sent.invoice_number}.xml"
    assert content == bytes(sent.ubl)

    pdf_name = f"{sent.invoice_number}.pdf"  # the AFAS simulator attaches the invoice's PDF under this name
    filename, content = save(page, page.get_by_role("link", name=labels["pdf"].format(name=pdf_name)))
    assert filename == pdf_name
    assert content.startswith(b"%PDF-")

    page.goto(world.url("web:incoming_detail", received.pk))
    shots.take(f"{language} incoming downloads", both=True)
    filename, content = save(page, page.get_by_role("link", name=labels["received"]))
    assert filename.endswith(".xml")
    assert content == bytes(received.raw_xml)  # exactly as received, byte for byte
