import pytest
from django.urls import reverse

from portal.accounts.models import Membership
from portal.incoming_invoices.models import IncomingInvoice
from tests.portal.accounts.factories import MembershipFactory
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
Status = IncomingInvoice.Status


@pytest.fixture
def held(monkeypatch):
    monkeypatch.setattr("portal.incoming_invoices.tasks.deliver.delay", lambda pk: None)

    def make(membership, **fields):
        environment = EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))
        defaults = {"status": Status.HELD, "hold_reason": "econnect_flag_disputed", "econnect_duplicate_flag": True}
        return IncomingInvoiceFactory(environment=environment, **{**defaults, **fields})

    return make


def login(client, role):
    membership = MembershipFactory(role=role)
    client.force_login(membership.user)
    return membership


def test_a_firm_admin_marks_a_held_document_as_original_with_a_reason(client, held):
    membership = login(client, Membership.Role.FIRM_ADMIN)
    document = held(membership)

    response = client.post(reverse("web:incoming_mark_as_original", args=[document.pk]), {"reason": "Other supplier"})

    document.refresh_from_db()
    assert response.status_code == 302
    assert document.status == Status.READY
    assert document.events.get(kind="marked_original").actor == membership.user


@pytest.mark.parametrize("role", [Membership.Role.ACCOUNTANT, Membership.Role.VIEWER])
def test_other_roles_cannot_mark_as_original(client, held, role):
    document = held(login(client, role))

    response = client.post(reverse("web:incoming_mark_as_original", args=[document.pk]), {"reason": "x"})

    document.refresh_from_db()
    assert response.status_code == 403
    assert document.status == Status.HELD


def test_another_firms_document_is_not_found(client, held):
    login(client, Membership.Role.FIRM_ADMIN)
    other = held(MembershipFactory())

    response = client.post(reverse("web:incoming_mark_as_original", args=[other.pk]), {"reason": "x"})

    assert response.status_code == 404


def test_the_environment_page_shows_the_verdict_beside_econnects_flag_and_the_form_for_firm_admins(client, held):
    membership = login(client, Membership.Role.FIRM_ADMIN)
    document = held(membership, invoice_number="F-1001", supplier_name="Verpakkingen Zuid B.V.")

    page = client.get(reverse("web:environment_detail", args=[document.environment_id])).content.decode()

    assert "F-1001" in page
    assert "flagged duplicate" in page
    assert "eConnect duplicate flag likely wrong: different supplier" in page
    assert "Mark as original" in page
