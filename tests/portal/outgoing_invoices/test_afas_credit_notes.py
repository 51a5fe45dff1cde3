"""AFAS writes a credit note as a BIS 3 ``CreditNote`` (381) or as an NLCIUS ``Invoice`` with type 384, depending on
the customer's e-invoice format: both are collected, validated and sent exactly as AFAS wrote them."""

import pytest

from integrations.peppol.parser import parse_document
from portal.core.choices import DocumentType
from portal.outgoing_invoices import services
from portal.outgoing_invoices.models import OutgoingInvoice

Status = OutgoingInvoice.Status
HOTEL = "10002"  # Hotel Zeezicht B.V.: reachable at eConnect for invoices and credit notes


@pytest.mark.parametrize(
    ("style", "root", "type_code", "document_type"),
    [
        ("bis3", "CreditNote", "381", DocumentType.CREDIT_NOTE),
        ("nlcius", "Invoice", "384", DocumentType.INVOICE),
    ],
)
def test_both_ways_afas_writes_a_credit_note_are_sent_unchanged(
    world, django_capture_on_commit_callbacks, style, root, type_code, document_type
):
    issued = world.issue_sales_invoice(HOTEL, number=f"CN-{style}", credit_note=style, credits="202500001")

    with django_capture_on_commit_callbacks(execute=True):
        services.outgoing_collect(environment=world.environment)

    invoice = OutgoingInvoice.objects.get(environment=world.environment, invoice_number=issued["number"])
    summary = parse_document(bytes(invoice.ubl))
    assert invoice.status == Status.SUBMITTED, invoice.last_error_text
    assert (summary.document_type.value, summary.type_code) == (document_type, type_code)
    assert summary.billing_references == ("202500001",)
    assert invoice.document_type == document_type
    [sent] = [
        d for d in world.econnect.request("GET", "/_sim/sent").json()["documents"] if d["number"] == issued["number"]
    ]
    assert world.sent_counts()[sent["reference"]] == 1  # sent once, read by eConnect as the same document
    assert bytes(invoice.ubl).lstrip().startswith(b"<?xml") and f"<{root} ".encode() in bytes(invoice.ubl)[:600]
