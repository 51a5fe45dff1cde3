from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init, before_task_publish, task_postrun, task_prerun, worker_init

from integrations.correlation import (
    bind_correlation_id,
    current_correlation_id,
    new_correlation_id,
    reset_correlation_id,
    valid_correlation_id,
)

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


# --- Correlation id: from beat's dispatch (or a web request) through every task it causes -----------------------
# A message header, not Celery's own ``correlation_id`` (that is the task id in AMQP terms).
CORRELATION_HEADER = "portal_correlation_id"
_bound_tokens: dict[str, object] = {}


@before_task_publish.connect
def add_correlation_id_to_message(headers: dict | None = None, **kwargs) -> None:
    """The publisher's id (a task, a web request) travels with the message; beat has none, so each dispatch starts one."""
    if headers is not None and not headers.get(CORRELATION_HEADER):
        headers[CORRELATION_HEADER] = current_correlation_id() or new_correlation_id()


def task_correlation_id(request) -> str:
    """The id a task was sent with: a top-level header in a worker, inside ``headers`` when applied with them."""
    return valid_correlation_id(getattr(request, CORRELATION_HEADER, None)) or valid_correlation_id(
        (getattr(request, "headers", None) or {}).get(CORRELATION_HEADER)
    )


@task_prerun.connect
def bind_task_correlation_id(task_id: str | None = None, task=None, **kwargs) -> None:
    """For the task's duration: its message's id; an eager task (no message) keeps its caller's, or starts one."""
    value = (task_correlation_id(task.request) if task is not None else "") or current_correlation_id()
    _bound_tokens[task_id] = bind_correlation_id(value)


@task_postrun.connect
def unbind_task_correlation_id(task_id: str | None = None, **kwargs) -> None:
    token = _bound_tokens.pop(task_id, None)
    if token is not None:
        try:
            reset_correlation_id(token)
        except ValueError:  # bound in another context; the next task binds its own id anyway
            pass


# --- Database connections: kept between tasks as between web requests ---------------------------------------------
# Celery's Django fixup closes every connection before and after each task unless CELERY_DB_REUSE_MAX is set: a new
# PostgreSQL connection (and server process) per task. With DB_REUSE_MAX set it closes them only every so many
# tasks; in between, the worker does what Django does around a request: a connection that failed or outlived
# CONN_MAX_AGE is closed, and CONN_HEALTH_CHECKS checks a kept one before its first query (a restarted database
# costs no task).


@task_prerun.connect
def close_old_database_connections_before(task=None, **kwargs) -> None:
    if task is not None and not getattr(task.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()


@task_postrun.connect
def close_old_database_connections_after(task=None, **kwargs) -> None:
    if task is not None and not getattr(task.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()
