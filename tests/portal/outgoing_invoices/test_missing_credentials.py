"""Every missing or refused credential stops an invoice in "needs attention" with the reason and the fix; none leaves
it in "new" for ever (the first-time user's test invoice did, when the environment had no eConnect keys)."""

from datetime import timedelta

from django.utils import timezone, translation

from integrations.http import RemoteUnavailable
from portal.organisations.models import OwnPeppolIdentifier
from portal.organisations.services import environment_set_credentials
from portal.outgoing_invoices import round_trip, services
from portal.outgoing_invoices.models import OutgoingInvoice

Status = OutgoingInvoice.Status


def collected(world, django_capture_on_commit_callbacks) -> OutgoingInvoice:
    """One newly issued sales invoice, collected but not prepared yet."""
    issued = world.issue_sales_invoice("10001")
    with django_capture_on_commit_callbacks(execute=False):
        services.outgoing_collect(environment=world.environment)
    return world.environment.outgoing_invoices.get(afas_identity=f"dossier:{issued['subject_id']}")


def test_a_test_invoice_without_econnect_keys_needs_attention_with_the_fix(world, django_capture_on_commit_callbacks):
    environment_set_credentials(environment=world.environment, actor=None, econnect_app_key="", econnect_app_secret="")
    world.environment.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        invoice = round_trip.outgoing_send_test_invoice(environment=world.environment, actor=None)

    invoice.refresh_from_db()
    assert invoice.status == Status.NEEDS_ATTENTION
    assert invoice.last_error_kind == "credentials"
    assert "no eConnect connection keys" in invoice.last_error_message
    assert "Settings and connection keys" in invoice.last_error_message
    with translation.override("nl"):
        assert "verbindingssleutels" in invoice.last_error_text


def test_keys_removed_after_preparing_stop_the_submit_without_sending(world, django_capture_on_commit_callbacks):
    invoice = collected(world, django_capture_on_commit_callbacks)
    services.outgoing_prepare(invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == Status.READY, invoice.last_error_message
    environment_set_credentials(environment=world.environment, actor=None, econnect_app_key="", econnect_app_secret="")
    invoice.environment.refresh_from_db()

    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(minutes=1))

    invoice.refresh_from_db()
    assert invoice.status == Status.NEEDS_ATTENTION
    assert invoice.attempts == 0 and not invoice.submission_reference
    assert world.sent_counts() == {}


def test_an_environment_without_an_own_identifier_needs_attention_instead_of_a_stuck_submit(
    world, django_capture_on_commit_callbacks
):
    OwnPeppolIdentifier.objects.filter(environment=world.environment).delete()
    invoice = collected(world, django_capture_on_commit_callbacks)

    services.outgoing_prepare(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Status.NEEDS_ATTENTION
    assert "no own Peppol identifier" in invoice.last_error_message


def test_a_directory_outage_while_preparing_keeps_the_invoice_new_with_the_reason(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    invoice = collected(world, django_capture_on_commit_callbacks)

    def unavailable(**kwargs):
        raise RemoteUnavailable("The directory is down for maintenance.", service="eConnect")

    monkeypatch.setattr(services, "resolve_recipient", unavailable)
    services.outgoing_prepare(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Status.NEW  # tried again by the stalled-preparation sweep
    assert invoice.last_error_kind == "transient"
    assert "The directory is down for maintenance." in invoice.last_error_message
