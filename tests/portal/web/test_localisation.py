"""Dutch pages write amounts and counts the Dutch way, but never group the digits of an id."""

import pytest
from django.urls import reverse

from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def large_ids(membership):
    environment = EnvironmentFactory(pk=12345, organisation=OrganisationFactory(firm=membership.firm))
    invoice = OutgoingInvoiceFactory(pk=67890, environment=environment, payable_amount="1234.50", currency="EUR")
    return environment, invoice


def test_an_id_in_a_dutch_page_keeps_its_digits_together(accountant_client, large_ids):
    environment, _invoice = large_ids

    page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk]), HTTP_ACCEPT_LANGUAGE="nl")

    html = page.content.decode()
    assert "environment=12345" in html
    assert "12.345" not in html


def test_the_dutch_outbox_writes_amounts_with_a_decimal_comma(accountant_client, large_ids):
    page = accountant_client.get(reverse("web:outbox"), HTTP_ACCEPT_LANGUAGE="nl")

    html = page.content.decode()
    assert "1.234,50" in html
    assert "/outbox/67890/" in html
