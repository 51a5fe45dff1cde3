import datetime
import hashlib
from decimal import Decimal

import factory

from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.organisations.factories import EnvironmentFactory


class OutgoingInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutgoingInvoice

    environment = factory.SubFactory(EnvironmentFactory)
    afas_identity = factory.Sequence(lambda n: f"dossier-{n}")
    invoice_number = factory.Sequence(lambda n: f"2026{n:05d}")
    issue_date = datetime.date(2026, 11, 2)
    customer_name = "Customer B.V."
    currency = "EUR"
    payable_amount = Decimal("121.00")
    ubl = b"<Invoice/>"
    sha256 = factory.LazyAttribute(lambda invoice: hashlib.sha256(bytes(invoice.ubl)).hexdigest())
