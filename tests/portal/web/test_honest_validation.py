"""Without an official rules pack no page claims that an invoice was checked against the Peppol rules: the invoice
page, the outbox list, the admin and a banner for staff and firm admins all say what was (not) checked."""

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.core import context_processors
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory
from tests.shared_artefacts import require_shared_peppol

pytestmark = pytest.mark.django_db
CLAIM = "Checked against the official Peppol rules"


@pytest.fixture
def no_rules_pack(settings, tmp_path):
    settings.PEPPOL_RULES_DIR = ""
    settings.PEPPOL_DATA_DIR = tmp_path / "no-pack"
    context_processors._cache.clear()


@pytest.fixture
def with_rules_pack(settings):
    settings.PEPPOL_RULES_DIR = str(require_shared_peppol())
    context_processors._cache.clear()


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))


def structure_only(environment) -> OutgoingInvoice:
    return OutgoingInvoiceFactory(
        environment=environment, invoice_number="F-1", validated_at=timezone.now(), validation_rules=""
    )


def test_an_invoice_checked_without_the_rules_says_so_and_never_claims_the_rules(accountant_client, environment):
    invoice = structure_only(environment)

    page = accountant_client.get(reverse("web:outgoing_detail", args=[invoice.pk])).content.decode()

    assert "Not checked against the Peppol rules." in page
    assert "only the structure of this invoice was checked" in page
    assert CLAIM not in page


def test_an_invoice_checked_with_the_rules_names_them(accountant_client, environment):
    invoice = OutgoingInvoiceFactory(
        environment=environment, validated_at=timezone.now(), validation_rules="CEN 1.3.16 + Peppol 3.0.21"
    )

    page = accountant_client.get(reverse("web:outgoing_detail", args=[invoice.pk])).content.decode()

    assert f"{CLAIM} (CEN 1.3.16 + Peppol 3.0.21)" in page
    assert "Not checked against the Peppol rules." not in page


def test_the_dutch_invoice_page_says_it_in_dutch(accountant_client, environment):
    invoice = structure_only(environment)
    accountant_client.cookies["django_language"] = "nl"

    page = accountant_client.get(reverse("web:outgoing_detail", args=[invoice.pk])).content.decode()

    assert "Niet gecontroleerd met de Peppol-regels." in page


def test_the_outbox_list_marks_invoices_not_checked_against_the_rules(accountant_client, environment):
    structure_only(environment)
    OutgoingInvoiceFactory(environment=environment, invoice_number="F-2", validated_at=timezone.now(),
                           validation_rules="CEN 1.3.16")  # fmt: skip

    page = accountant_client.get(reverse("web:outbox")).content.decode()

    assert page.count("not checked against the Peppol rules") == 1


def test_the_admin_says_which_rules_or_that_none_were_used(support_client, environment):
    invoice = structure_only(environment)

    page = support_client.get(
        reverse("admin:outgoing_invoices_outgoinginvoice_change", args=[invoice.pk])
    ).content.decode()

    assert "NOT checked: structure only (no rules pack)" in page


def test_firm_admins_and_staff_see_a_banner_without_a_rules_pack(
    no_rules_pack, firm_admin_client, viewer_client, support_client
):
    banner = "The official Peppol rules are not installed."

    assert banner in firm_admin_client.get(reverse("web:home")).content.decode()
    assert banner in support_client.get(reverse("admin:index")).content.decode()
    assert banner not in viewer_client.get(reverse("web:home")).content.decode()


def test_no_banner_with_a_rules_pack(with_rules_pack, firm_admin_client):
    assert (
        "The official Peppol rules are not installed."
        not in firm_admin_client.get(reverse("web:home")).content.decode()
    )
