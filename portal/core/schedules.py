"""The periodic work, defined in code and written into django-celery-beat's tables (DatabaseScheduler).

Synced when beat starts (``beat_init``) and by ``manage.py sync_schedules``. Per-environment polling intervals
are honoured by the dispatch task itself, so one schedule serves every environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

PREFIX = "portal: "


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int


# The dispatchers run every 5 s: an environment's collect or fetch starts at most 5 s after its polling interval
# (an invoice filed in AFAS is submitted within the interval + 5 s at p95). One query when nothing is due.
DISPATCH_EVERY_SECONDS = 5

SCHEDULES = (
    Schedule("dispatch collects of sales invoices", "outgoing.dispatch_collects", DISPATCH_EVERY_SECONDS),
    Schedule("submit, retry and follow outgoing invoices", "outgoing.work_due", 15),
    Schedule("recover interrupted submits", "outgoing.sweep", 60),
    Schedule("dispatch fetches of the eConnect inbox", "incoming.dispatch_fetches", DISPATCH_EVERY_SECONDS),
    Schedule("deliver and acknowledge received invoices", "incoming.work_due", 15),
    Schedule("hold interrupted deliveries", "incoming.sweep", 60),
    Schedule("process eConnect webhook events whose task was lost or that wait for a retry", "webhooks.work_due", 60),
    Schedule("dispatch syncs of AFAS debtors and creditors", "contacts.dispatch_syncs", 60),
    Schedule("look up customers whose Peppol result is new or expired", "contacts.look_up_due", 60),
    Schedule("resume interrupted bulk lookups and write-backs", "contacts.resume_jobs", 60),
    Schedule("check the organisations' own identifiers for another access point", "organisations.check_routes", 60),
    # Reconciliation (portal/reconciliation): every 10 minutes the dispatcher starts tonight's run of each environment
    # that has none yet, from 02:00 Europe/Amsterdam on (RECONCILIATION_NIGHTLY_HOUR).
    Schedule("dispatch the nightly reconciliation of eConnect, the portal and AFAS", "reconciliation.dispatch", 600),
    # Document retention (portal/documents/retention.py): daily, each run bounded.
    Schedule("remove documents whose retention period is over", "documents.expire", 86400),
)


@transaction.atomic
def periodic_tasks_sync() -> list[str]:
    """Create or update our periodic tasks; disable ours that are no longer defined. Returns the active names."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    names = []
    for schedule in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every_seconds, period=IntervalSchedule.SECONDS
        )
        name = PREFIX + schedule.name
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": schedule.task, "interval": interval, "enabled": True, "crontab": None}
        )
        names.append(name)
    PeriodicTask.objects.filter(name__startswith=PREFIX).exclude(name__in=names).update(enabled=False)
    return names
