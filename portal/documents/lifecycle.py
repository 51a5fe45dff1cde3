"""The document lifecycle shared by sending and receiving: claim-by-condition transitions with their timeline
entry, follow-up work put on the queue after commit (by task name: services never import their tasks),
per-environment dispatch at the polling interval, and leases against concurrent runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.http import backoff_delay
from portal.events.messages import Msg, english_and_data
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import Environment


class CorrectionRefused(Exception):
    """A correction a person asked for cannot be made (the document moved on, or the remote says something the
    portal cannot act on); nothing changed. The message says why, in the reader's language."""


def enqueue(task_name: str, *ids: int, countdown: float | None = None) -> None:
    """Queue ``task_name`` once per id when the current transaction commits (at once outside one). The tasks are
    looked up in Celery's registry by their registered name (each app's ``ready()`` imports its tasks)."""
    from portal.celery_app import app

    def send(pk: int) -> None:
        task = app.tasks[task_name]
        if countdown:
            task.apply_async((pk,), countdown=countdown)
        else:
            task.delay(pk)

    for pk in ids:
        transaction.on_commit(lambda pk=pk: send(pk))


def transition(
    document: models.Model,
    *,
    subject: str,
    from_statuses,
    to_status: str,
    message: str | Msg,
    system_actor: str,
    actor=None,
    reason: str = "",
    kind: EventKind = EventKind.STATUS_CHANGED,
    data: dict | None = None,
    **fields,
) -> bool:
    """Move ``document`` to ``to_status`` only if it is still in one of ``from_statuses``, and record it on its
    timeline (``subject`` names the Event field that points at it). Returns False if another worker moved it.

    A ``Msg`` as ``last_error_message`` is stored in English and as its key (shown in the reader's language)."""
    now = timezone.now()
    fields.update(error_fields(fields.pop("last_error_message")) if "last_error_message" in fields else {})
    fields.setdefault("dispatched_at", None)  # the queued work was done; new work may be queued
    with transaction.atomic():
        updated = (
            type(document)
            .objects.filter(pk=document.pk, status__in=from_statuses)
            .update(status=to_status, status_changed_at=now, updated_at=now, **fields)
        )
        if updated != 1:
            return False
        event_record(
            environment=document.environment,
            kind=kind,
            from_status=document.status,
            to_status=to_status,
            message=message,
            actor=actor,
            system_actor=system_actor,
            reason=reason,
            data=data,
            **{subject: document},
        )
    document.refresh_from_db()
    return True


def error_fields(error: str | Msg) -> dict:
    """The ``last_error_message`` and ``last_error_data`` fields for an error: our own words as a message key,
    a remote system's words (a plain string) as they are."""
    text, data = english_and_data(error)
    return {"last_error_message": text, "last_error_data": data}


def environments_due(
    *,
    enabled_field: str | None = None,
    next_field: str,
    now: datetime | None = None,
    eligible: Q | None = None,
    interval_seconds: int | None = None,
) -> list[int]:
    """Environments with ``enabled_field`` on (and matching ``eligible``) whose ``next_field`` time has come; each
    gets its next due time at its polling interval (or ``interval_seconds``), claimed with a conditional update so
    that it is picked once."""
    now = now or timezone.now()
    due = Environment.objects.filter(Q(**{f"{next_field}__isnull": True}) | Q(**{f"{next_field}__lte": now}))
    if enabled_field:
        due = due.filter(**{enabled_field: True})
    if eligible is not None:
        due = due.filter(eligible)
    picked = []
    for environment_id, interval, previous in due.values_list("pk", "poll_interval_seconds", next_field):
        claimed = Environment.objects.filter(pk=environment_id, **{next_field: previous}).update(
            **{next_field: now + timedelta(seconds=interval_seconds or interval)}
        )
        if claimed:
            picked.append(environment_id)
    return picked


def lease_environment(
    environment: Environment,
    *,
    enabled_field: str | None = None,
    lease_field: str,
    duration: timedelta,
    eligible: Q | None = None,
) -> bool:
    """Hold the environment for one run (no second run meanwhile); False if it is off or already held."""
    now = timezone.now()
    held = Environment.objects.filter(pk=environment.pk).filter(
        Q(**{f"{lease_field}__isnull": True}) | Q(**{f"{lease_field}__lt": now})
    )
    if enabled_field:
        held = held.filter(**{enabled_field: True})
    if eligible is not None:
        held = held.filter(eligible)
    return bool(held.update(**{lease_field: now + duration}))


def release_environment(environment: Environment, *, lease_field: str) -> None:
    Environment.objects.filter(pk=environment.pk).update(**{lease_field: None})


# --- one retry policy -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryDecision:
    """What a transient failure of a send or a delivery leads to: another attempt at ``next_attempt_at``, or giving
    up after ``DOCUMENT_MAX_ATTEMPTS``. Permanent failures never get here: they stop with their reason."""

    give_up: bool
    next_attempt_at: datetime | None = None


def retry_decision(*, attempts: int, retry_after: float | None, now: datetime | None = None) -> RetryDecision:
    """Exponential backoff with jitter between ``DOCUMENT_RETRY_BASE_SECONDS`` and ``DOCUMENT_RETRY_MAX_SECONDS``,
    never sooner than the remote's Retry-After."""
    if attempts >= settings.DOCUMENT_MAX_ATTEMPTS:
        return RetryDecision(give_up=True)
    return RetryDecision(give_up=False, next_attempt_at=retry_at(attempts=attempts, retry_after=retry_after, now=now))


def retry_at(
    *, attempts: int, retry_after: float | None, now: datetime | None = None, at_least: float = 1.0
) -> datetime:
    """When to try again after ``attempts`` attempts (``at_least`` seconds, e.g. longer for a refusal that waits for
    a person to change a setting)."""
    delay = backoff_delay(
        max(attempts, 1), base=settings.DOCUMENT_RETRY_BASE_SECONDS, cap=settings.DOCUMENT_RETRY_MAX_SECONDS
    )
    return (now or timezone.now()) + timedelta(seconds=max(delay, retry_after or 0.0, at_least))
