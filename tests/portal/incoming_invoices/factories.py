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


def processed_document(environment, xml: bytes, *, flagged: bool = False) -> IncomingInvoice:
    """A received document run through ``incoming_process``, addressed to the environment: the customer endpoint of
    the edge fixtures (9944:NL009876543B01) is made one of its own identifiers."""
    from portal.incoming_invoices.services import incoming_process
    from portal.organisations.models import OwnPeppolIdentifier

    OwnPeppolIdentifier.objects.get_or_create(environment=environment, scheme="9944", value="NL009876543B01")
    invoice = IncomingInvoiceFactory(environment=environment, raw_xml=xml, econnect_duplicate_flag=flagged)
    incoming_process(invoice=invoice)
    invoice.refresh_from_db()
    return invoice


class SupplierResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "incoming_invoices.SupplierResponse"

    incoming_invoice = factory.SubFactory(IncomingInvoiceFactory)
    code = "RE"
    reason = "PRI"
    response_document_id = factory.Faker("uuid4")
    actor = factory.SubFactory("tests.portal.accounts.factories.UserFactory")
