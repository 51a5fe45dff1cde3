"""The firm's dashboard page (``web:home``) and the organisation page that shows the same figures."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.dashboard import ChartDay, EnvironmentFigures, dashboard_period
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.web.dashboard import Counts, chart_for, nice_step
from portal.web.views import dashboard as dashboard_view
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.organisations.test_dashboard_selectors import incoming, outgoing

pytestmark = pytest.mark.django_db

Out = OutgoingInvoice.Status
In = IncomingInvoice.Status


def _now():
    return timezone.now()


def _environment(firm, name, **fields):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=firm, name=name), **fields)


def _page(client, **params) -> str:
    response = client.get(reverse("web:home"), params)
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, environment) -> str:
    """The table row of one environment."""
    match = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?environments/{environment.pk}/".*?</tr>', page, re.S)
    assert match, f"no row for environment {environment.pk}"
    return match.group(0)


@pytest.fixture
def own(membership):
    return _environment(membership.firm, "Own Client B.V.", sending_enabled=True)


def test_the_dashboard_shows_only_the_firms_own_environments_and_figures(accountant_client, own):
    other = EnvironmentFactory(organisation=OrganisationFactory(name="Other Firm Client"))
    outgoing(own, submitted_at=_now())
    outgoing(other, submitted_at=_now())
    outgoing(other, Out.FAILED, status_changed_at=_now())

    page = _page(accountant_client)

    assert "Own Client B.V." in page
    assert "Other Firm Client" not in page
    assert f"environments/{other.pk}/" not in page
    assert "Nothing needs action" in page


def test_an_environments_figures_are_in_its_row_with_links_to_the_filtered_lists(accountant_client, own):
    now = _now()
    outgoing(own, submitted_at=now)
    outgoing(own, Out.SUBMITTED, submitted_at=now)
    outgoing(own, Out.FAILED, status_changed_at=now)
    outgoing(own, Out.NEEDS_ATTENTION)
    incoming(own, In.HELD, created_at=now, hold_reason=IncomingInvoice.HoldReason.DUPLICATE)
    incoming(own, In.ACKNOWLEDGED, created_at=now)

    row = _row(_page(accountant_client), own)

    outbox, inbox = reverse("web:outbox"), reverse("web:inbox")
    assert row.count("2&nbsp;/&nbsp;2") == 2  # sent and received, today and this month
    assert f'href="{outbox}?environment={own.pk}&amp;status=failed"' in row
    assert f'href="{outbox}?environment={own.pk}&amp;status=needs_attention"' in row
    assert f'href="{inbox}?environment={own.pk}&amp;status=held"' in row
    assert "sending on" in row
    assert "receiving off" in row
    assert "needs action" in row


def test_a_failure_from_months_ago_still_needs_action_until_resolved(accountant_client, own):
    failed = outgoing(own, Out.FAILED, status_changed_at=_now() - timedelta(days=90))

    before = _page(accountant_client)
    OutgoingInvoice.objects.filter(pk=failed.pk).update(status=Out.RESOLVED_MANUALLY)
    after = _page(accountant_client)

    assert "1 sales invoice failed" in before
    assert "Nothing needs action" in after


def test_disagreements_with_econnect_are_information_linked_to_exactly_those_documents(accountant_client, own):
    incoming(own, In.ACKNOWLEDGED, created_at=_now(), econnect_duplicate_flag=True, duplicate_verdict="original")

    page = _page(accountant_client)

    month_start = timezone.localdate().replace(day=1).isoformat()
    assert "Nothing needs action" in page
    assert f"{reverse('web:inbox')}?disagreements=on&amp;received_from={month_start}" in page


def test_the_summary_says_what_needs_action_and_links_to_the_filtered_lists(accountant_client, own):
    outgoing(own, Out.FAILED, status_changed_at=_now())
    outgoing(own, Out.STALE, submitted_at=_now() - timedelta(days=40))
    incoming(own, In.HELD, created_at=_now(), hold_reason=IncomingInvoice.HoldReason.DUPLICATE)

    page = _page(accountant_client)

    outbox, inbox = reverse("web:outbox"), reverse("web:inbox")
    assert f'href="{outbox}?status=failed">1 sales invoice failed' in page
    assert f'href="{outbox}?status=stale">1 sent invoice has no delivery status' in page
    assert f'href="{inbox}?status=held">1 purchase invoice is held' in page
    assert "Nothing needs action" not in page


def test_rows_needing_action_come_before_the_others(accountant_client, membership):
    calm = _environment(membership.firm, "Aardvark Calm B.V.")
    failing = _environment(membership.firm, "Zebra Failing B.V.")
    outgoing(failing, Out.FAILED, status_changed_at=_now())
    outgoing(calm, submitted_at=_now())

    page = _page(accountant_client)

    assert page.index("Zebra Failing B.V.") < page.index("Aardvark Calm B.V.")


def test_refused_credentials_are_shown_prominently_with_the_exact_message(accountant_client, own):
    own.afas_failing_since = _now()
    own.afas_failure = "AFAS refused the token for metainfo: check that the token belongs to this environment."
    own.econnect_last_success_at = _now()
    own.save()

    page = _page(accountant_client)

    summary = page[page.index('id="summary-heading"') : page.index('id="environments-heading"')]
    assert "Connections refused" in summary
    assert "AFAS refused the token for metainfo: check that the token belongs to this environment." in summary
    assert "AFAS refused:" in _row(page, own)


def test_the_chart_is_an_accessible_svg_with_a_table_of_the_figures_per_day(accountant_client, own):
    now = _now()
    outgoing(own, submitted_at=now)
    outgoing(own, submitted_at=now)
    incoming(own, created_at=now)

    response = accountant_client.get(reverse("web:home"))

    page = response.content.decode()
    days = response.context["chart"].days
    assert len(days) == 30
    assert days[-1] == ChartDay(dashboard_period().today, sent=2, received=1, failed=0)
    assert re.search(r'<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="chart-title chart-desc"', page)
    assert '<title id="chart-title">' in page
    assert page.count('<g class="series-') == 3
    assert page.count("<rect x=") == 2  # today's bars: sent (2) and received (1); no empty bar for failed
    table = page[page.index('<details class="chart-table">') : page.index("</details>")]
    assert table.count('<th scope="row">') == 30
    assert '<td class="num">2</td><td class="num">1</td><td class="num">0</td></tr>' in table


def test_a_viewer_sees_the_dashboard(viewer_client, own):
    assert "Own Client B.V." in _page(viewer_client)


def test_the_number_of_queries_does_not_grow_with_the_organisations(accountant_client, membership):
    def add(count):
        for number in range(count):
            environment = _environment(membership.firm, f"Client {number} {count}")
            outgoing(environment, submitted_at=_now())
            outgoing(environment, Out.NEEDS_ATTENTION)

    add(1)
    _page(accountant_client)  # the first request of a session does its own extra work
    with CaptureQueriesContext(connection) as few:
        _page(accountant_client)
    add(6)
    with CaptureQueriesContext(connection) as many:
        _page(accountant_client)

    assert len(many) == len(few)
    assert len(many) <= 20


def test_many_environments_are_shown_a_page_at_a_time(accountant_client, membership, monkeypatch):
    monkeypatch.setattr(dashboard_view, "ROWS_PER_PAGE", 2)
    first, second, third = (_environment(membership.firm, f"Client {letter}") for letter in "ABC")

    page_one, page_two = _page(accountant_client), _page(accountant_client, page=2)

    assert f"environments/{first.pk}/" in page_one and f"environments/{second.pk}/" in page_one
    assert f"environments/{third.pk}/" not in page_one
    assert 'href="?page=2"' in page_one
    assert f"environments/{third.pk}/" in page_two


def test_the_organisation_page_shows_its_environments_figures(accountant_client, own):
    outgoing(own, Out.STALE, submitted_at=_now() - timedelta(days=3))

    response = accountant_client.get(reverse("web:organisation_detail", args=[own.organisation.pk]))

    assert response.status_code == 200
    row = _row(response.content.decode(), own)
    assert f'href="{reverse("web:outbox")}?environment={own.pk}&amp;status=stale">1</a>' in row


def test_a_client_without_an_environment_is_still_listed(accountant_client, membership):
    OrganisationFactory(firm=membership.firm, name="Brand New Client")

    assert "Brand New Client" in _page(accountant_client)


# --- presentation helpers ------------------------------------------------------------------------------------------


def test_counts_are_written_in_the_readers_notation():
    figures = EnvironmentFigures(sent_month=1234, sent_today=7)

    with translation.override("nl"):
        assert (Counts(figures).sent_month, Counts(figures).sent_today) == ("1.234", "7")
    with translation.override("en"):
        assert Counts(figures).sent_month == "1,234"


def test_the_chart_axis_ends_on_a_round_step_above_the_largest_value():
    days = [ChartDay(dashboard_period().today - timedelta(days=29 - i), sent=i, received=2 * i) for i in range(30)]

    chart = chart_for(days)

    assert nice_step(58) == 20
    assert [tick.label for tick in chart.y_ticks] == [0, 20, 40, 60]
    assert chart.y_ticks[-1].position == chart.top
    assert chart.y_ticks[0].position == chart.bottom
    assert [len(series.bars) for series in chart.series] == [30, 30, 30]
    assert chart.x_ticks[-1].label == days[-1].day
    assert [series.total for series in chart.series] == [435, 870, 0]


def test_the_bars_of_a_day_stand_side_by_side_so_none_hides_another():
    days = [
        ChartDay(dashboard_period().today - timedelta(days=29 - i), sent=5, received=5, failed=1) for i in range(30)
    ]

    chart = chart_for(days)

    for index in range(30):
        sent, received, failed = (series.bars[index] for series in chart.series)
        assert sent.x + sent.width <= received.x + 0.1 and received.x + received.width <= failed.x + 0.1  # rounding
        assert sent.height == received.height > failed.height > 0
        assert chart.left <= sent.x and failed.x + failed.width <= chart.right
    assert chart.series[0].bars[1].x - chart.series[0].bars[0].x > 3 * chart.series[0].bars[0].width


def test_only_firm_admins_are_offered_to_add_clients_and_environments(accountant_client, firm_admin_client, membership):
    organisation = OrganisationFactory(firm=membership.firm)
    new_client = reverse("web:organisation_new")
    new_environment = f"{reverse('web:environment_new')}?organisation={organisation.pk}"

    assert new_client in firm_admin_client.get(reverse("web:home")).content.decode()
    assert new_client not in accountant_client.get(reverse("web:home")).content.decode()
    organisation_page = reverse("web:organisation_detail", args=[organisation.pk])
    assert new_environment in firm_admin_client.get(organisation_page).content.decode()
    assert new_environment not in accountant_client.get(organisation_page).content.decode()
