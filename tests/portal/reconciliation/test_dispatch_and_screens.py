"""The nightly dispatch, and where findings show: the dashboard, the findings page, the admin and the command."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.organisations.dashboard import dashboard_for_firm
from portal.reconciliation import services, tasks
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.reconciliation.factories import FindingFactory, RunFactory

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Status = ReconciliationRun.Status


def at(hour: int, minute: int = 0, *, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=AMSTERDAM)


# --- the nightly dispatch -------------------------------------------------------------------------------------------------


def test_the_dispatcher_starts_one_run_per_working_environment_and_night_from_two_oclock():
    sending = EnvironmentFactory(sending_enabled=True)
    receiving = EnvironmentFactory(receiving_enabled=True)
    EnvironmentFactory()  # neither sends nor receives: nothing to reconcile

    assert services.reconciliation_dispatch(now=at(1, 50)) == []
    tonight = services.reconciliation_dispatch(now=at(2, 0))
    again = services.reconciliation_dispatch(now=at(4, 30))
    next_night = services.reconciliation_dispatch(now=at(2, 10, day=25))

    runs = ReconciliationRun.objects.filter(pk__in=tonight)
    assert {run.environment_id for run in runs} == {sending.pk, receiving.pk}
    assert {run.night.isoformat() for run in runs} == {"2026-11-24"}
    assert again == [] and len(next_night) == 2


def test_a_failed_night_is_tried_again_the_next_night_and_an_interrupted_run_is_marked_failed():
    environment = EnvironmentFactory(sending_enabled=True)
    [first] = services.reconciliation_dispatch(now=at(2))
    ReconciliationRun.objects.filter(pk=first).update(started_at=at(2))  # its worker died: still "running"

    [second] = services.reconciliation_dispatch(now=at(4, day=25))

    interrupted = ReconciliationRun.objects.get(pk=first)
    assert interrupted.status == Status.FAILED and "Interrupted" in interrupted.error
    assert ReconciliationRun.objects.get(pk=second).environment == environment


def test_the_dispatch_task_runs_tonights_reconciliations(monkeypatch, django_capture_on_commit_callbacks):
    EnvironmentFactory(sending_enabled=True)
    executed = []
    monkeypatch.setattr(services, "reconciliation_night", lambda now=None: timezone.localdate())
    monkeypatch.setattr(services, "reconciliation_execute", lambda run: executed.append(run.pk))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch.delay().get() == 1
    assert len(executed) == 1


def test_the_schedule_is_defined_in_code():
    from portal.core.schedules import SCHEDULES

    assert [(s.task, s.every_seconds) for s in SCHEDULES if s.task.startswith("reconciliation.")] == [
        ("reconciliation.dispatch", 600)
    ]


# --- the dashboard --------------------------------------------------------------------------------------------------------


def _firm_with_environments(firm, count: int, findings: int = 0):
    environments = [EnvironmentFactory(organisation=OrganisationFactory(firm=firm)) for _ in range(count)]
    for environment in environments:
        FindingFactory.create_batch(findings, environment=environment)
        FindingFactory(environment=environment, status=ReconciliationFinding.Status.FIXED)
    return environments


def test_the_dashboard_counts_open_findings_per_environment_and_in_needs_action(membership):
    first, second = _firm_with_environments(membership.firm, 2)
    FindingFactory.create_batch(2, environment=first)

    dashboard = dashboard_for_firm(firm=membership.firm)

    figures = {row.environment.pk: row.figures for row in dashboard.rows}
    assert (figures[first.pk].open_findings, figures[second.pk].open_findings) == (2, 0)
    assert dashboard.summary.findings == 2 and dashboard.summary.anything
    assert dashboard.rows[0].environment == first  # needs action: shown first


def test_counting_findings_costs_no_extra_query_however_many_environments(membership):
    from tests.portal.organisations.factories import FirmFactory

    small, large = FirmFactory(), FirmFactory()
    _firm_with_environments(small, 1, findings=1)
    _firm_with_environments(large, 6, findings=3)

    with CaptureQueriesContext(connection) as few:
        dashboard_for_firm(firm=small)
    with CaptureQueriesContext(connection) as many:
        dashboard = dashboard_for_firm(firm=large)

    assert len(many) == len(few) <= 14
    assert dashboard.summary.findings == 18


def test_the_dashboard_page_links_to_the_findings(accountant_client, membership):
    [environment] = _firm_with_environments(membership.firm, 1, findings=3)

    page = accountant_client.get(reverse("web:home")).content.decode()

    assert "The nightly reconciliation found 3 disagreements between eConnect, the portal and AFAS" in page
    assert f'{reverse("web:reconciliation_findings")}?environment={environment.pk}">3</a>' in page


# --- the findings page ----------------------------------------------------------------------------------------------------


def test_the_findings_page_lists_the_firms_open_findings_only(accountant_client, membership):
    [own] = _firm_with_environments(membership.firm, 1)
    mine = FindingFactory(environment=own, key="inbox:XCNIN-MINE")
    FindingFactory(key="inbox:XCNIN-OTHER-FIRM")

    page = accountant_client.get(reverse("web:reconciliation_findings")).content.decode()

    assert mine.econnect_document_id in page and "XCNIN-OTHER-FIRM" not in page
    assert "Import into the portal" in page
    assert f'formaction="{reverse("web:reconciliation_dismiss", args=[mine.pk])}"' in page


def test_dismissing_on_the_page_needs_a_reason_and_is_recorded(accountant_client, membership):
    [own] = _firm_with_environments(membership.firm, 1)
    finding = FindingFactory(environment=own)
    url = reverse("web:reconciliation_dismiss", args=[finding.pk])

    accountant_client.post(url, {"reason": ""})
    finding.refresh_from_db()
    assert finding.status == ReconciliationFinding.Status.OPEN

    response = accountant_client.post(url, {"reason": "A test document", "next": "https://evil.example/"})
    finding.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == reverse("web:reconciliation_findings")
    assert (finding.status, finding.closed_by) == (ReconciliationFinding.Status.DISMISSED, membership.user)


def test_a_viewer_sees_findings_without_the_actions(viewer_client, membership):
    [own] = _firm_with_environments(membership.firm, 1)
    finding = FindingFactory(environment=own)

    page = viewer_client.get(reverse("web:reconciliation_findings")).content.decode()

    assert finding.econnect_document_id in page and "Import into the portal" not in page


# --- the admin and the command ----------------------------------------------------------------------------------------------


def test_the_admin_lists_findings_and_runs(support_client):
    FindingFactory()
    RunFactory(error="eConnect: HTTP 503")

    assert support_client.get(reverse("admin:reconciliation_reconciliationfinding_changelist")).status_code == 200
    runs = support_client.get(reverse("admin:reconciliation_reconciliationrun_changelist"))
    assert runs.status_code == 200 and "eConnect: HTTP 503" in runs.content.decode()


def test_the_admin_dismiss_action_asks_for_the_reason(support_client):
    finding = FindingFactory()
    url = reverse("admin:reconciliation_reconciliationfinding_changelist")
    action = {"action": "dismiss", "_selected_action": [finding.pk]}

    support_client.post(url, {**action, "reason": ""})
    finding.refresh_from_db()
    assert finding.status == ReconciliationFinding.Status.OPEN

    support_client.post(url, {**action, "reason": "Known test document"})
    finding.refresh_from_db()
    assert (finding.status, finding.reason) == (ReconciliationFinding.Status.DISMISSED, "Known test document")


def test_the_command_reports_a_failed_run(monkeypatch):
    environment = EnvironmentFactory(sending_enabled=True)

    def fail(*, environment, now=None):
        return RunFactory(environment=environment, status=Status.FAILED, error="eConnect: HTTP 503")

    monkeypatch.setattr("portal.reconciliation.management.commands.reconcile.reconciliation_run_now", fail)
    out = StringIO()

    with pytest.raises(Exception, match="1 reconciliation run"):
        call_command("reconcile", environment=[environment.pk], stdout=out)
    assert "failed: eConnect: HTTP 503" in out.getvalue()


def test_old_closed_findings_are_not_in_the_dashboard_count(membership):
    [environment] = _firm_with_environments(membership.firm, 1)
    FindingFactory(environment=environment, status=ReconciliationFinding.Status.DISMISSED)
    FindingFactory(environment=environment, first_seen_at=timezone.now() - timedelta(days=400))

    [row] = dashboard_for_firm(firm=membership.firm).rows

    assert row.figures.open_findings == 1


def test_the_command_reconciles_every_working_environment_with_all(monkeypatch):
    working = [EnvironmentFactory(sending_enabled=True), EnvironmentFactory(receiving_enabled=True)]
    EnvironmentFactory()
    ran = []

    def succeed(*, environment, now=None):
        ran.append(environment.pk)
        return RunFactory(environment=environment, counts={"econnect_inbox": 3})

    monkeypatch.setattr("portal.reconciliation.management.commands.reconcile.reconciliation_run_now", succeed)
    out = StringIO()

    call_command("reconcile", all=True, stdout=out)

    assert sorted(ran) == sorted(e.pk for e in working)
    assert "econnect_inbox 3" in out.getvalue()
