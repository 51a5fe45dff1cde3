"""The dashboard's figures per environment, its 30-day chart and its order, counted in Amsterdam days."""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.contacts.models import Contact
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.dashboard import (
    CHART_DAYS,
    daily_activity,
    dashboard_for_firm,
    dashboard_for_organisation,
    dashboard_period,
    figures_by_environment,
)
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.contacts.factories import ContactFactory
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory, FirmFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)
Out = OutgoingInvoice.Status
In = IncomingInvoice.Status
Verdict = IncomingInvoice.DuplicateVerdict
Hold = IncomingInvoice.HoldReason


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AMSTERDAM)


def outgoing(environment, status=Out.DELIVERED, *, submitted_at=None, status_changed_at=None, created_at=None):
    """An outgoing invoice with its moments set (created_at and status_changed_at are otherwise "now")."""
    invoice = OutgoingInvoiceFactory(
        environment=environment, status=status, submission_reference=uuid.uuid4().hex, submitted_at=submitted_at
    )
    moments = {"status_changed_at": status_changed_at, "created_at": created_at}
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(**{k: v for k, v in moments.items() if v is not None})
    return invoice


def incoming(environment, status=In.ACKNOWLEDGED, *, created_at, status_changed_at=None, **fields):
    invoice = IncomingInvoiceFactory(environment=environment, status=status, **fields)
    IncomingInvoice.objects.filter(pk=invoice.pk).update(
        created_at=created_at, status_changed_at=status_changed_at or created_at
    )
    return invoice


def figures_of(environment, now=NOW):
    scope = Environment.objects.filter(pk=environment.pk)
    return figures_by_environment(scope, period=dashboard_period(now))[environment.pk]


@pytest.fixture
def environment():
    return EnvironmentFactory()


# --- the period ----------------------------------------------------------------------------------------------


def test_today_and_this_month_are_amsterdam_days():
    period = dashboard_period(datetime(2026, 11, 23, 23, 30, tzinfo=ZoneInfo("UTC")))  # 00:30 on the 24th there

    assert period.today == date(2026, 11, 24)
    assert period.today_start == at(24, 0)
    assert period.month_start == at(1, 0)
    assert period.chart_days[0] == date(2026, 10, 26)
    assert period.chart_days[-1] == date(2026, 11, 24)
    assert len(period.chart_days) == CHART_DAYS


def test_on_the_31st_the_month_counts_a_day_the_chart_does_not_show(environment):
    now = datetime(2026, 12, 31, 12, 0, tzinfo=AMSTERDAM)
    outgoing(environment, submitted_at=datetime(2026, 12, 1, 9, 0, tzinfo=AMSTERDAM))

    period = dashboard_period(now)
    days = daily_activity(Environment.objects.filter(pk=environment.pk), period=period)

    assert period.month_start == datetime(2026, 12, 1, tzinfo=AMSTERDAM) < period.chart_start
    assert figures_of(environment, now=now).sent_month == 1
    assert sum(day.sent for day in days) == 0


# --- sales invoices ------------------------------------------------------------------------------------------


def test_sent_invoices_are_counted_for_today_and_this_month(environment):
    outgoing(environment, submitted_at=at(24, 9))
    outgoing(environment, Out.SUBMITTED, submitted_at=at(24, 0, 30))  # 23:30 UTC the day before: today here
    outgoing(environment, submitted_at=at(23, 23, 30))
    outgoing(environment, submitted_at=at(1, 0, 10))
    outgoing(environment, submitted_at=at(31, 23, 50, month=10))  # last month
    outgoing(environment, Out.READY)  # not sent (yet)

    figures = figures_of(environment)

    assert figures.sent_today == 2
    assert figures.sent_month == 4
    assert figures.delivered_month == 3


def test_failed_and_rejected_invoices_count_until_resolved_whenever_they_failed(environment):
    outgoing(environment, Out.FAILED, status_changed_at=at(24, 8))
    outgoing(environment, Out.REJECTED, submitted_at=at(2), status_changed_at=at(3))
    outgoing(environment, Out.FAILED, status_changed_at=at(20, month=10))  # failed last month: still waiting
    outgoing(environment, Out.RESOLVED_MANUALLY, status_changed_at=at(24, 9))  # resolved: no longer counted

    figures = figures_of(environment)

    assert figures.failed == 3
    assert figures.rejected == 1
    assert figures.failed_only == 2
    assert figures.action_count == 3


def test_invoices_needing_attention_or_stale_count_whatever_their_age(environment):
    outgoing(environment, Out.NEEDS_ATTENTION, created_at=at(1, month=3), status_changed_at=at(1, month=3))
    outgoing(environment, Out.NEEDS_ATTENTION)
    outgoing(environment, Out.STALE, submitted_at=at(5, month=6), status_changed_at=at(6, month=7))

    figures = figures_of(environment)

    assert (figures.needs_attention, figures.stale) == (2, 1)
    assert figures.action_count == 3


# --- purchase invoices ---------------------------------------------------------------------------------------


def test_received_invoices_and_those_in_afas_are_counted_for_today_and_this_month(environment):
    incoming(environment, In.ACKNOWLEDGED, created_at=at(24, 1))
    incoming(environment, In.DELIVERED, created_at=at(10))
    incoming(environment, In.READY, created_at=at(2))
    incoming(environment, In.ACKNOWLEDGED, created_at=at(30, month=10))

    figures = figures_of(environment)

    assert (figures.received_today, figures.received_month) == (1, 3)
    assert figures.delivered_to_afas_month == 2


def test_held_duplicates_and_other_holds_count_whatever_their_age(environment):
    incoming(environment, In.HELD, created_at=at(1, month=1), hold_reason=Hold.DUPLICATE)
    incoming(environment, In.HELD, created_at=at(20), hold_reason=Hold.DUPLICATE)
    incoming(environment, In.HELD, created_at=at(20), hold_reason=Hold.UNPARSEABLE)

    figures = figures_of(environment)

    assert (figures.held_duplicates, figures.held_other) == (2, 1)


def test_disagreements_with_econnects_duplicate_flag_are_counted(environment):
    disagreeing = [
        {"econnect_duplicate_flag": True, "duplicate_verdict": Verdict.ORIGINAL},
        {"econnect_duplicate_flag": True, "duplicate_verdict": Verdict.SUPPLIER_UNKNOWN},
        {
            "econnect_duplicate_flag": True,
            "duplicate_verdict": Verdict.NOT_CHECKED,
            "status": In.HELD,
            "hold_reason": Hold.ECONNECT_FLAG_DISPUTED,
        },
        {"econnect_duplicate_flag": False, "duplicate_verdict": Verdict.DUPLICATE},
        {"econnect_duplicate_flag": False, "duplicate_verdict": Verdict.CERTAIN_DUPLICATE},
    ]
    agreeing = [
        {"econnect_duplicate_flag": True, "duplicate_verdict": Verdict.DUPLICATE},
        {"econnect_duplicate_flag": False, "duplicate_verdict": Verdict.ORIGINAL},
        {"econnect_duplicate_flag": True, "duplicate_verdict": Verdict.NOT_CHECKED},
    ]
    for fields in disagreeing + agreeing:
        incoming(environment, created_at=at(15), **{"status": In.ACKNOWLEDGED, **fields})
    incoming(environment, created_at=at(15, month=10), econnect_duplicate_flag=True, duplicate_verdict=Verdict.ORIGINAL)

    assert figures_of(environment).disagreements_month == len(disagreeing)


def test_purchase_invoices_that_failed_are_counted_until_resolved(environment):
    incoming(environment, In.FAILED, created_at=at(1, month=9), status_changed_at=at(20))
    incoming(environment, In.FAILED, created_at=at(1, month=9), status_changed_at=at(20, month=10))
    incoming(environment, In.RESOLVED_MANUALLY, created_at=at(1, month=9), status_changed_at=at(21))

    assert figures_of(environment).incoming_failed == 2


# --- the chart -----------------------------------------------------------------------------------------------


def test_the_chart_counts_sent_received_and_failed_per_amsterdam_day(environment):
    outgoing(environment, submitted_at=at(24, 0, 30))
    outgoing(environment, submitted_at=at(24, 9))
    outgoing(environment, submitted_at=at(20))
    outgoing(environment, submitted_at=at(25, 12, month=10))  # before the 30 days
    incoming(environment, created_at=at(23, 23, 59))
    incoming(environment, created_at=at(23, 8))
    incoming(environment, In.FAILED, created_at=at(21), status_changed_at=at(22))
    outgoing(environment, Out.REJECTED, submitted_at=at(21), status_changed_at=at(22))

    days = daily_activity(Environment.objects.filter(pk=environment.pk), period=dashboard_period(NOW))

    by_day = {day.day: (day.sent, day.received, day.failed) for day in days}
    assert len(days) == CHART_DAYS
    assert by_day[date(2026, 11, 24)] == (2, 0, 0)
    assert by_day[date(2026, 11, 23)] == (0, 2, 0)
    assert by_day[date(2026, 11, 22)] == (0, 0, 2)
    assert by_day[date(2026, 11, 21)] == (1, 1, 0)
    assert by_day[date(2026, 11, 20)] == (1, 0, 0)
    assert sum(day.sent for day in days) == 4


# --- the firm's rows ---------------------------------------------------------------------------------------------


def test_the_firm_sees_only_its_own_environments_and_figures():
    own = EnvironmentFactory(organisation=OrganisationFactory(name="Own"))
    other = EnvironmentFactory(organisation=OrganisationFactory(name="Other"))
    outgoing(own, submitted_at=at(24, 9))
    outgoing(other, submitted_at=at(24, 9))
    outgoing(other, Out.FAILED, status_changed_at=at(24, 9))

    dashboard = dashboard_for_firm(firm=own.organisation.firm, now=NOW)

    assert [row.environment for row in dashboard.rows] == [own]
    assert dashboard.rows[0].figures.sent_today == 1
    assert sum(day.sent for day in dashboard.days) == 1
    assert sum(day.failed for day in dashboard.days) == 0
    assert dashboard.summary.failed == 0


def test_rows_needing_action_come_first_and_failing_credentials_before_the_rest():
    firm = FirmFactory()
    calm = EnvironmentFactory(organisation=OrganisationFactory(firm=firm, name="Aardvark"))
    failed = EnvironmentFactory(organisation=OrganisationFactory(firm=firm, name="Zebra"))
    refused = EnvironmentFactory(
        organisation=OrganisationFactory(firm=firm, name="Yak"),
        econnect_failing_since=NOW,
        econnect_failure="Invalid consumer key",
    )
    held = EnvironmentFactory(organisation=OrganisationFactory(firm=firm, name="Bison"))
    outgoing(failed, Out.FAILED, status_changed_at=at(23))
    incoming(held, In.HELD, created_at=at(2), hold_reason=Hold.DUPLICATE)

    dashboard = dashboard_for_firm(firm=firm, now=NOW)

    assert [row.environment for row in dashboard.rows] == [refused, held, failed, calm]
    assert [row.needs_action for row in dashboard.rows] == [True, True, True, False]
    assert [row.environment for row in dashboard.summary.failing_credentials] == [refused]
    assert (dashboard.summary.failed, dashboard.summary.held_duplicates) == (1, 1)


def test_customers_readiness_is_counted_per_environment(environment):
    ContactFactory.create_batch(2, environment=environment, lookup_outcome=Contact.LookupOutcome.REACHABLE)
    ContactFactory(environment=environment, lookup_outcome=Contact.LookupOutcome.NOT_ON_PEPPOL)
    ContactFactory(environment=environment, lookup_outcome=Contact.LookupOutcome.NOT_CHECKED)
    ContactFactory(environment=environment, afas_state=Contact.AfasState.BLOCKED)
    ContactFactory(environment=environment, kind=Contact.Kind.CREDITOR)

    (row,) = dashboard_for_organisation(organisation=environment.organisation, now=NOW)

    assert (row.readiness.customers, row.readiness.reachable, row.readiness.unchecked) == (4, 2, 1)
    assert row.readiness.blocked_or_deleted == 1


def test_organisations_without_an_environment_are_listed_apart():
    firm = FirmFactory()
    EnvironmentFactory(organisation=OrganisationFactory(firm=firm))
    empty = OrganisationFactory(firm=firm)

    assert dashboard_for_firm(firm=firm, now=NOW).organisations_without_environments == [empty]


def _firm_with(organisations: int):
    firm = FirmFactory()
    for _ in range(organisations):
        for environment_type in Environment.Type.values:
            environment = EnvironmentFactory(
                organisation=OrganisationFactory(firm=firm), afas_environment_type=environment_type
            )
            outgoing(environment, submitted_at=at(24, 9))
            outgoing(environment, Out.NEEDS_ATTENTION)
            incoming(environment, In.HELD, created_at=at(3), hold_reason=Hold.DUPLICATE)
            ContactFactory(environment=environment)
    return firm


def test_the_number_of_queries_does_not_grow_with_the_organisations(django_assert_max_num_queries):
    small, large = _firm_with(1), _firm_with(5)

    with CaptureQueriesContext(connection) as small_queries:
        dashboard_for_firm(firm=small, now=NOW)
    with django_assert_max_num_queries(14), CaptureQueriesContext(connection) as large_queries:
        dashboard = dashboard_for_firm(firm=large, now=NOW)

    assert len(large_queries) == len(small_queries)
    assert len(dashboard.rows) == 15
    assert dashboard.summary.needs_attention == 15
