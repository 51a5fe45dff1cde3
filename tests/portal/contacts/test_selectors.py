"""The readiness report's numbers on seeded data, and its CSV exports."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.contacts.models import Contact
from portal.contacts.selectors import (
    CONTACT_CSV_HEADER,
    contacts_csv_rows,
    contacts_page,
    firm_csv_rows,
    readiness_by_environment,
    readiness_for_firm,
)
from tests.portal.contacts.factories import ContactFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db
Outcome = Contact.LookupOutcome
TODAY = date(2026, 11, 24)


@pytest.fixture
def seeded():
    environment = EnvironmentFactory()
    made = {}
    for name, outcome, state in (
        ("reachable-1", Outcome.REACHABLE, "active"),
        ("reachable-2", Outcome.REACHABLE, "active"),
        ("not-on-peppol", Outcome.NOT_ON_PEPPOL, "active"),
        ("cannot-receive", Outcome.CANNOT_RECEIVE, "active"),
        ("invalid", Outcome.IDENTIFIER_INVALID, "active"),
        ("unchecked", Outcome.NOT_CHECKED, "active"),
        ("blocked", Outcome.REACHABLE, "blocked"),
        ("deleted", Outcome.NOT_ON_PEPPOL, "deleted"),
    ):
        made[name] = ContactFactory(environment=environment, name=name, lookup_outcome=outcome, afas_state=state)
    ContactFactory(environment=environment, kind=Contact.Kind.CREDITOR)  # suppliers are not customers

    def invoice(contact, amount, **extra):
        OutgoingInvoiceFactory(environment=environment, contact=made.get(contact), payable_amount=Decimal(amount),
                               issue_date=extra.pop("issue_date", TODAY - timedelta(days=30)), **extra)  # fmt: skip

    invoice("reachable-1", "600.00")
    invoice("reachable-2", "150.00")
    invoice("not-on-peppol", "250.00")
    invoice(None, "0.00")  # no contact known
    invoice("reachable-1", "999.00", issue_date=TODAY - timedelta(days=400))  # more than a year ago
    invoice("reachable-1", "999.00", is_test=True)
    invoice("reachable-1", "999.00", document_type="credit_note")
    invoice("reachable-1", "999.00", currency="USD")
    return environment


def test_the_report_counts_customers_by_outcome_and_the_share_of_last_years_amount(seeded):
    readiness = readiness_by_environment([seeded.pk], today=TODAY)[seeded.pk]

    assert (readiness.customers, readiness.reachable, readiness.not_reachable, readiness.invalid, readiness.unchecked) == (
        6, 2, 2, 1, 1,
    )  # fmt: skip
    assert readiness.blocked_or_deleted == 2
    assert readiness.invoiced == Decimal("1000.00") and readiness.invoiced_reachable == Decimal("750.00")
    assert readiness.reachable_share == Decimal("75.0")
    assert readiness.invoices_other_currency == 1
    assert readiness.reachable_percent == 33


def test_without_amounts_the_same_counts_come_from_one_query(seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        readiness = readiness_by_environment([seeded.pk], today=TODAY, with_amounts=False)[seeded.pk]

    assert (readiness.customers, readiness.reachable, readiness.not_reachable, readiness.invalid, readiness.unchecked) == (
        6, 2, 2, 1, 1,
    )  # fmt: skip
    assert readiness.invoiced == 0 and readiness.reachable_share is None


def test_the_firm_report_adds_up_its_environments_and_leaves_other_firms_out(seeded):
    second = EnvironmentFactory(organisation=OrganisationFactory(firm=seeded.organisation.firm))
    ContactFactory(environment=second, lookup_outcome=Outcome.REACHABLE)
    ContactFactory(lookup_outcome=Outcome.REACHABLE)  # another firm

    report = readiness_for_firm(firm=seeded.organisation.firm, today=TODAY)

    assert [environment for environment, _ in report.rows] == sorted(
        [seeded, second], key=lambda e: e.organisation.name
    )
    assert report.total.customers == 7 and report.total.reachable == 3


def test_an_environment_without_invoices_has_no_share(seeded):
    empty = EnvironmentFactory()

    assert readiness_by_environment([empty.pk])[empty.pk].reachable_share is None


def test_the_report_is_a_fixed_number_of_queries_however_many_environments(django_assert_max_num_queries):
    organisation = OrganisationFactory()
    for _ in range(20):
        ContactFactory(environment=EnvironmentFactory(organisation=organisation))

    with django_assert_max_num_queries(3):
        report = readiness_for_firm(firm=organisation.firm)
    assert len(report.rows) == 20


def test_the_contacts_page_filters_by_outcome_route_and_search(seeded):
    Contact.objects.filter(name="reachable-2").update(issue_method="C", kvk_number="30999999")

    assert [c.name for c in contacts_page(environment=seeded, outcome=Outcome.REACHABLE)] == [
        "reachable-1",
        "reachable-2",
    ]
    assert [c.name for c in contacts_page(environment=seeded, route="afas_peppol")] == ["reachable-2"]
    assert [c.name for c in contacts_page(environment=seeded, search="30999999")] == ["reachable-2"]
    assert "deleted" not in [c.name for c in contacts_page(environment=seeded)]
    assert "deleted" in [c.name for c in contacts_page(environment=seeded, include_inactive=True)]


def test_the_csv_exports_have_a_header_and_a_row_per_customer_or_environment(seeded):
    rows = list(contacts_csv_rows(environment=seeded))
    assert rows[0] == CONTACT_CSV_HEADER and len(rows) == 1 + 8

    firm_rows = list(firm_csv_rows(firm=seeded.organisation.firm, today=TODAY))
    assert firm_rows[1][4:9] == (6, 2, 2, 1, 1) and firm_rows[1][-1] == Decimal("75.0")  # the export formats it
    assert firm_rows[-1][0] == "Total"


def test_a_whole_identifier_in_either_notation_finds_the_customer(seeded):
    from tests.portal.contacts.factories import ContactIdentifierFactory

    ContactIdentifierFactory(contact=Contact.objects.get(name="invalid"), scheme="0106", value="30123456")

    assert [c.name for c in contacts_page(environment=seeded, search="NL:KVK:30123456")] == ["invalid"]
    assert [c.name for c in contacts_page(environment=seeded, search="0106:30123456")] == ["invalid"]


def test_names_that_a_spreadsheet_would_run_as_formulas_are_quoted(seeded):
    Contact.objects.filter(name="reachable-1").update(name='=HYPERLINK("http://evil.example","x")')

    names = [row[1] for row in contacts_csv_rows(environment=seeded)]

    assert '\'=HYPERLINK("http://evil.example","x")' in names


def test_the_report_period_is_twelve_months_up_to_today():
    from portal.contacts.selectors import report_period

    assert report_period(date(2026, 11, 24)) == (date(2025, 11, 25), date(2026, 11, 24))
    assert report_period(date(2028, 2, 29)) == (date(2027, 3, 1), date(2028, 2, 29))
