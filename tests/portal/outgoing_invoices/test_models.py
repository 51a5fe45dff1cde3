import pytest
from django.db import IntegrityError

from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.organisations.factories import EnvironmentFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db


def test_an_afas_invoice_is_collected_once_per_environment():
    invoice = OutgoingInvoiceFactory(afas_identity="dossier-42")

    with pytest.raises(IntegrityError):
        OutgoingInvoiceFactory(environment=invoice.environment, afas_identity="dossier-42")


def test_the_same_afas_identity_in_another_environment_is_another_invoice():
    OutgoingInvoiceFactory(afas_identity="dossier-42")

    OutgoingInvoiceFactory(afas_identity="dossier-42", environment=EnvironmentFactory())

    assert OutgoingInvoice.objects.filter(afas_identity="dossier-42").count() == 2


@pytest.mark.parametrize(
    "status",
    [OutgoingInvoice.Status.SUBMITTING, OutgoingInvoice.Status.SUBMITTED, OutgoingInvoice.Status.DELIVERED],
)
def test_nothing_is_submitted_without_a_saved_submission_reference(status):
    with pytest.raises(IntegrityError):
        OutgoingInvoiceFactory(status=status, submission_reference="")


def test_a_submission_reference_is_never_reused():
    OutgoingInvoiceFactory(status=OutgoingInvoice.Status.SUBMITTING, submission_reference="a1b2c3d4e5f6")

    with pytest.raises(IntegrityError):
        OutgoingInvoiceFactory(status=OutgoingInvoice.Status.SUBMITTING, submission_reference="a1b2c3d4e5f6")


def test_many_invoices_may_wait_without_a_submission_reference():
    environment = EnvironmentFactory()

    OutgoingInvoiceFactory.create_batch(3, environment=environment, status=OutgoingInvoice.Status.READY)

    assert environment.outgoing_invoices.count() == 3


def test_an_econnect_document_id_belongs_to_one_invoice_of_an_environment():
    invoice = OutgoingInvoiceFactory(
        econnect_document_id="XCNL-1", submission_reference="ref-000001", status="submitted"
    )

    with pytest.raises(IntegrityError):
        OutgoingInvoiceFactory(
            environment=invoice.environment,
            econnect_document_id="XCNL-1",
            submission_reference="ref-000002",
            status="submitted",
        )


@pytest.mark.parametrize("field, value", [("status", "sent"), ("document_type", "order"), ("currency", "eur")])
def test_unknown_values_are_refused_by_the_database(field, value):
    with pytest.raises(IntegrityError):
        OutgoingInvoiceFactory(**{field: value})
