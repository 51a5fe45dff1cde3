"""Thin tasks: the dispatcher creates tonight's runs; each run compares one environment."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from portal.reconciliation import services
from portal.reconciliation.models import ReconciliationRun


@shared_task(name="reconciliation.dispatch")
def dispatch() -> int:
    run_ids = services.reconciliation_dispatch()
    for run_id in run_ids:
        transaction.on_commit(lambda run_id=run_id: run.delay(run_id))
    return len(run_ids)


@shared_task(name="reconciliation.run")
def run(run_id: int) -> None:
    found = ReconciliationRun.objects.filter(pk=run_id).first()
    if found is not None:
        services.reconciliation_execute(run=found)
