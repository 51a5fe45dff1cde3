from decimal import Decimal

import pytest
from django.db import IntegrityError

from portal.incoming_invoices.models import IncomingInvoice
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def test_an_econnect_document_is_stored_once_per_environment():
    invoice = IncomingInvoiceFactory(econnect_document_id="DOC-1")

    with pytest.raises(IntegrityError):
        IncomingInvoiceFactory(environment=invoice.environment, econnect_document_id="DOC-1")


def test_the_same_econnect_document_id_in_another_environment_is_allowed():
    IncomingInvoiceFactory(econnect_document_id="DOC-1")

    IncomingInvoiceFactory(econnect_document_id="DOC-1", environment=EnvironmentFactory())


def test_raw_bytes_are_kept_exactly():
    raw = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<Invoice>\xe9\r\n</Invoice>  '

    invoice = IncomingInvoiceFactory(raw_xml=raw)

    assert bytes(IncomingInvoice.objects.get(pk=invoice.pk).raw_xml) == raw


@pytest.mark.parametrize("sha256", ["", "abc", "G" * 64, "A" * 64])
def test_sha256_must_be_a_lowercase_hex_digest(sha256):
    with pytest.raises(IntegrityError):
        IncomingInvoiceFactory(sha256=sha256)


def test_a_held_document_always_says_why():
    with pytest.raises(IntegrityError):
        IncomingInvoiceFactory(status=IncomingInvoice.Status.HELD, hold_reason="")


def test_a_held_document_with_a_reason_is_accepted():
    invoice = IncomingInvoiceFactory(
        status=IncomingInvoice.Status.HELD, hold_reason=IncomingInvoice.HoldReason.DUPLICATE
    )

    assert invoice.get_hold_reason_display() == "Duplicate"


def test_econnect_flag_without_a_portal_duplicate_is_a_disagreement():
    invoice = IncomingInvoiceFactory.build(
        econnect_duplicate_flag=True, duplicate_verdict=IncomingInvoice.DuplicateVerdict.ORIGINAL
    )

    assert invoice.disagrees_with_econnect


def test_the_summary_keeps_the_vat_in_the_accounting_currency(db):
    from pathlib import Path

    from integrations.peppol.parser import parse_document
    from portal.incoming_invoices.summaries import summary_fields
    from tests.portal.organisations.factories import EnvironmentFactory

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "peppol" / "edge" / "dkk_invoice_vat_in_eur.xml"
    fields = summary_fields(environment=EnvironmentFactory(), summary=parse_document(fixture.read_bytes()))

    assert (fields["currency"], fields["tax_amount"]) == ("DKK", Decimal("27.00"))
    assert (fields["tax_currency"], fields["tax_amount_in_tax_currency"]) == ("EUR", Decimal("3.62"))
