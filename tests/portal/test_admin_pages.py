"""Every admin page support staff use renders, with data in it."""

import pytest
from django.contrib import admin
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import LoginFailure, MembershipChange
from portal.events.services import event_record
from tests.portal.accounts.factories import MembershipFactory
from tests.portal.contacts.factories import ContactIdentifierFactory, ContactJobFactory
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory, SupplierResponseFactory
from tests.portal.organisations.factories import OwnPeppolIdentifierFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory
from tests.portal.reconciliation.factories import FindingFactory, RunFactory
from tests.portal.webhooks.factories import WebhookEventFactory

pytestmark = pytest.mark.django_db

PORTAL_MODELS = [model for model in admin.site._registry if model._meta.app_label not in {"auth", "django_celery_beat"}]


@pytest.fixture(autouse=True)
def data():
    own = OwnPeppolIdentifierFactory()
    member = MembershipFactory(firm=own.environment.organisation.firm)
    TOTPDevice.objects.create(user=member.user, name="phone")
    MembershipChange.objects.create(
        firm=member.firm,
        actor_name="support",
        subject=member.user,
        subject_name=member.user.username,
        action="invited",
        to_role="viewer",
    )
    LoginFailure.objects.create(kind="password", username="someone", ip_address="10.0.0.1")
    outgoing = OutgoingInvoiceFactory(environment=own.environment)
    incoming = IncomingInvoiceFactory(environment=own.environment)
    SupplierResponseFactory(incoming_invoice=incoming, actor=member.user)
    contact = ContactIdentifierFactory(contact__environment=own.environment).contact
    ContactJobFactory(environment=own.environment)
    run = RunFactory(environment=own.environment)
    FindingFactory(environment=own.environment, first_run=run, last_run=run)
    WebhookEventFactory(environment=own.environment)
    event_record(environment=own.environment, kind="settings_changed", message="environment event")
    event_record(
        environment=own.environment, kind="settings_changed", message="outgoing event", outgoing_invoice=outgoing
    )
    event_record(
        environment=own.environment, kind="settings_changed", message="incoming event", incoming_invoice=incoming
    )
    event_record(environment=own.environment, kind="settings_changed", message="contact event", contact=contact)


@pytest.mark.parametrize("model", PORTAL_MODELS, ids=lambda model: model._meta.label)
def test_changelist_and_change_page_render(support_client, model):
    opts = model._meta
    changelist = support_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200

    obj = model._default_manager.first()
    change = support_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200


@pytest.mark.parametrize(
    "changelist, query",
    [
        ("outgoing_invoices_outgoinginvoice", "q=2026"),
        ("outgoing_invoices_outgoinginvoice", "status__exact=new&is_test__exact=0"),
        ("incoming_invoices_incominginvoice", "q=INV-1"),
        ("incoming_invoices_incominginvoice", "disagreement=yes&econnect_duplicate_flag__exact=1"),
        ("events_event", "kind=settings_changed"),
    ],
)
def test_filters_and_search_work(support_client, changelist, query):
    response = support_client.get(reverse(f"admin:{changelist}_changelist") + "?" + query)

    assert response.status_code == 200
    assert "?e=1" not in response.get("Location", "")


def test_document_events_show_on_the_document(support_client):
    invoice = OutgoingInvoiceFactory()
    event_record(
        environment=invoice.environment,
        kind="settings_changed",
        message="Submitted to eConnect",
        outgoing_invoice=invoice,
    )

    page = support_client.get(reverse("admin:outgoing_invoices_outgoinginvoice_change", args=[invoice.pk]))

    assert "Submitted to eConnect" in page.content.decode()
