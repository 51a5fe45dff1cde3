import datetime
import hashlib
from decimal import Decimal

import factory

from portal.incoming_invoices.models import IncomingInvoice
from tests.portal.organisations.factories import EnvironmentFactory


class IncomingInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncomingInvoice

    environment = factory.SubFactory(EnvironmentFactory)
    econnect_document_id = factory.Sequence(lambda n: f"XCNL-DOC-{n:06d}")
    raw_xml = factory.Sequence(lambda n: f"<Invoice><ID>INV-{n}</ID></Invoice>".encode())
    sha256 = factory.LazyAttribute(lambda invoice: hashlib.sha256(invoice.raw_xml).hexdigest())
    invoice_number = factory.Sequence(lambda n: f"INV-{n}")
    issue_date = datetime.date(2026, 11, 2)
    currency = "EUR"
    payable_amount = Decimal("60.50")
