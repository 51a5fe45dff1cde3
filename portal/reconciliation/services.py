"""The nightly reconciliation: eConnect (outbox and inbox), the portal and AFAS compared per environment.

What is compared, over the documents of the last ``RECONCILIATION_WINDOW_DAYS`` days:

- eConnect's outbox against the portal's sales invoices, by eConnect document id: a sent document the portal does
  not know (``unseen_outbox``), and a status that differs from eConnect's (``outgoing_status``);
- eConnect's inbox against the portal's purchase invoices, by eConnect document id: a received document the portal
  never stored (``unseen_inbox``), and one the portal acknowledged that eConnect still lists as new
  (``incoming_status``);
- what the portal delivered to AFAS Profit against what Profit lists as received (read back through the
  ``delivered_purchase_invoices`` GetConnector), by invoice number and date: a delivered invoice missing in AFAS
  (``missing_in_afas``).

Documents younger than ``RECONCILIATION_GRACE_MINUTES`` are work in flight and not judged. Every remote read happens
before anything is written: a remote that fails marks the run failed with its reason and changes nothing else (the
next night tries again). Each side is read page by page, at most ``RECONCILIATION_MAX_DOCUMENTS`` documents per run;
a run that had to stop early says so and closes no findings of the side it could not read completely.

A finding is keyed by its condition: a rerun updates the open finding instead of adding one, and a complete run that
no longer finds the condition closes it as resolved. Fixing one is one call (``finding_fix``), audited as Events.

This module runs and schedules; what is compared is in ``comparison``, how findings are opened and closed in
``findings``, fixing and dismissing in ``fixes``.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.http import RemoteError
from portal.organisations.models import Environment
from portal.reconciliation.comparison import compare_environment, nightly_hour
from portal.reconciliation.findings import findings_record
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun

logger = logging.getLogger(__name__)

Kind = ReconciliationFinding.Kind
FindingStatus = ReconciliationFinding.Status
RunStatus = ReconciliationRun.Status

NIGHT_TIME_ZONE = ZoneInfo("Europe/Amsterdam")
RUN_TIMEOUT = timedelta(hours=2)  # a run still "running" after this was interrupted (its worker stopped)


class ReconciliationBusy(Exception):
    """Another run of this environment is still going."""


# --- runs -------------------------------------------------------------------------------------------------------------


def reconciliation_start(*, environment: Environment) -> ReconciliationRun:
    """A manual run, unless one of this environment is still going."""
    now = timezone.now()
    running = ReconciliationRun.objects.filter(
        environment=environment, status=RunStatus.RUNNING, started_at__gte=now - RUN_TIMEOUT
    )
    if running.exists():
        raise ReconciliationBusy(f"A reconciliation of environment {environment.pk} is still running.")
    return ReconciliationRun.objects.create(environment=environment, trigger=ReconciliationRun.Trigger.MANUAL)


def reconciliation_execute(*, run: ReconciliationRun, now: datetime | None = None) -> ReconciliationRun:
    """Compare, then record: findings opened, updated and closed in one transaction. A failure changes nothing."""
    if run.status != RunStatus.RUNNING:
        return run
    environment = Environment.objects.get(pk=run.environment_id)
    now = now or timezone.now()
    started = time.perf_counter()
    try:
        comparison = compare_environment(environment, now=now)
    except RemoteError as exc:
        _fail(run, _remote_error(exc))
        logger.warning("Reconciliation of environment %s failed: %s", environment.pk, exc.message)
        return run
    except Exception as exc:  # a bug must not leave the run "running"; it is raised for the logs
        _fail(run, f"Unexpected error: {exc.__class__.__name__}")
        raise
    try:
        with transaction.atomic():
            findings_record(run, environment, comparison, now=now)
    except IntegrityError as exc:  # another run recorded the same findings meanwhile
        _fail(run, f"Could not record the findings: {exc.__class__.__name__}")
        return run
    run.refresh_from_db()
    logger.info(
        "Reconciliation of environment %s: %s opened, %s open, %s resolved in %.2f s (%s)",
        environment.pk,
        run.findings_opened,
        run.findings_still_open,
        run.findings_resolved,
        time.perf_counter() - started,
        run.counts,
    )
    return run


def reconciliation_run_now(*, environment: Environment, now: datetime | None = None) -> ReconciliationRun:
    return reconciliation_execute(run=reconciliation_start(environment=environment), now=now)


def _remote_error(exc: RemoteError) -> str:
    message = exc.message or exc.__class__.__name__
    if exc.service and exc.service.lower() not in message.lower():
        message = f"{exc.service}: {message}"
    return message


def _fail(run: ReconciliationRun, error: str) -> None:
    ReconciliationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:2000]
    )
    run.refresh_from_db()


# --- nightly dispatch -------------------------------------------------------------------------------------------------


def reconciliation_fail_interrupted(*, now: datetime | None = None) -> int:
    """Runs whose worker stopped: failed, so that the next night (or a person) starts a fresh one."""
    now = now or timezone.now()
    return ReconciliationRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - RUN_TIMEOUT).update(
        status=RunStatus.FAILED,
        finished_at=now,
        error="Interrupted: the run did not finish (the worker stopped). The next night tries again.",
    )


def reconciliation_night(now: datetime | None = None) -> date | None:
    """Tonight's date once the nightly hour has come (Europe/Amsterdam), else None."""
    local = timezone.localtime(now or timezone.now(), NIGHT_TIME_ZONE)
    return local.date() if local.hour >= nightly_hour() else None


def reconciliation_dispatch(*, now: datetime | None = None) -> list[int]:
    """Create tonight's run for every environment that sends or receives and has none yet: each picked once (the
    one-run-per-night constraint decides between two dispatchers). Returns the new runs' ids."""
    now = now or timezone.now()
    reconciliation_fail_interrupted(now=now)
    night = reconciliation_night(now)
    if night is None:
        return []
    due = (
        Environment.objects.filter(Q(sending_enabled=True) | Q(receiving_enabled=True))
        .exclude(reconciliation_runs__night=night)
        .values_list("pk", flat=True)
    )
    created = []
    for environment_id in due:
        try:
            with transaction.atomic():
                run = ReconciliationRun.objects.create(
                    environment_id=environment_id, trigger=ReconciliationRun.Trigger.NIGHTLY, night=night
                )
        except IntegrityError:
            continue
        created.append(run.pk)
    return created
