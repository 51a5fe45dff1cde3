from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def refuse_to_start_with_wrong_encryption_key(**kwargs) -> None:
    """A worker with the wrong key would use ciphertext as credentials."""
    from django.db import connections

    from portal.core.encryption import canary_status

    status = canary_status()
    connections.close_all()  # opened before the pool forks; children open their own
    if not status.ok_to_start:
        raise SystemExit(f"Worker not started: {status.message}")


@beat_init.connect
def sync_periodic_tasks(**kwargs) -> None:
    """Beat always runs the schedules defined in code (portal/core/schedules.py)."""
    from portal.core.schedules import periodic_tasks_sync

    periodic_tasks_sync()
