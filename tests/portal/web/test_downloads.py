"""The invoice pages offer the document as sent or exactly as received, and each embedded attachment, with the right
content type and a safe file name."""

import base64
import hashlib
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.web.downloads import safe_filename
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db
WITH_PDF = (Path(__file__).parents[2] / "fixtures" / "peppol" / "edge" / "nlcius_invoice.xml").read_bytes()
PDF = base64.b64decode("JVBERi0xLjQKJSBhdXRob3JlZCB0ZXN0IGF0dGFjaG1lbnQsIG5vdCBhIHJlYWwgUERGCg==")


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))


@pytest.fixture
def received(environment):
    return IncomingInvoiceFactory(
        environment=environment,
        raw_xml=WITH_PDF,
        sha256=hashlib.sha256(WITH_PDF).hexdigest(),
        invoice_number="INK/2026/7",
        attachments=[{"index": 0, "filename": "specificatie.pdf", "mime_code": "application/pdf", "size": len(PDF)}],
    )


def test_the_received_document_downloads_byte_for_byte(accountant_client, received):
    response = accountant_client.get(reverse("web:incoming_download", args=[received.pk]))

    assert response.content == WITH_PDF
    assert hashlib.sha256(response.content).hexdigest() == received.sha256
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == 'attachment; filename="INK_2026_7.xml"'


def test_the_embedded_pdf_downloads_as_a_pdf(accountant_client, received):
    response = accountant_client.get(reverse("web:incoming_attachment", args=[received.pk, 0]))

    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="specificatie.pdf"'


def test_the_invoice_pages_link_the_downloads(accountant_client, received, environment):
    sent = OutgoingInvoiceFactory(environment=environment, ubl=WITH_PDF, invoice_number="F-9")

    incoming = accountant_client.get(reverse("web:incoming_detail", args=[received.pk])).content.decode()
    outgoing = accountant_client.get(reverse("web:outgoing_detail", args=[sent.pk])).content.decode()

    assert reverse("web:incoming_download", args=[received.pk]) in incoming
    assert reverse("web:incoming_attachment", args=[received.pk, 0]) in incoming
    assert reverse("web:outgoing_download", args=[sent.pk]) in outgoing
    assert reverse("web:outgoing_attachment", args=[sent.pk, 0]) in outgoing and "Download specificatie.pdf" in outgoing


def test_the_sent_ubl_and_its_attachment_download(accountant_client, environment):
    sent = OutgoingInvoiceFactory(environment=environment, ubl=WITH_PDF, invoice_number="F-9")

    ubl = accountant_client.get(reverse("web:outgoing_download", args=[sent.pk]))
    pdf = accountant_client.get(reverse("web:outgoing_attachment", args=[sent.pk, 0]))

    assert ubl.content == WITH_PDF and ubl["Content-Disposition"] == 'attachment; filename="F-9.xml"'
    assert pdf.content == PDF and pdf["Content-Type"] == "application/pdf"


def test_a_missing_attachment_or_removed_document_is_not_found(accountant_client, environment, received):
    removed = IncomingInvoiceFactory(environment=environment, raw_xml=b"", document_removed_at=timezone.now())

    assert accountant_client.get(reverse("web:incoming_attachment", args=[received.pk, 5])).status_code == 404
    assert accountant_client.get(reverse("web:incoming_download", args=[removed.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\evil\\run.exe", "run.exe"),
        ('a"b\r\nc.pdf', "a_b_c.pdf"),
        ("", "fallback.pdf"),
        ("....", "fallback.pdf"),
    ],
)
def test_file_names_from_outside_are_made_safe(name, safe):
    assert safe_filename(name, "fallback.pdf") == safe
