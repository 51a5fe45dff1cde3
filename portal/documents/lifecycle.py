"""The document lifecycle shared by sending and receiving: claim-by-condition transitions with their timeline
entry, follow-up work put on the queue after commit (by task name: services never import their tasks),
per-environment dispatch at the polling interval, and leases against concurrent runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.http import backoff_delay
from portal.core.choices import ErrorKind
from portal.events.messages import Msg, When, english_and_data
from portal.events.models import EventKind
from portal.events.services import event_build, event_record, events_record, events_written_together
from portal.organisations.models import Environment

logger = logging.getLogger(__name__)
T = TypeVar("T")
# What starting a remote step writes, given the document and the moment: its timeline message and its fields.
Starting = Callable[..., tuple[Msg, dict]]

# Work put on the queue is not queued again for this long; after it, a lost message is made good.
DISPATCH_LEASE = timedelta(minutes=5)


def not_dispatched_recently(now: datetime) -> Q:
    """Rows whose queued work is not waiting in the queue: never queued, or queued longer ago than the lease (its
    message was lost). For the due-work dispatchers of documents and webhook events alike."""
    return Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - DISPATCH_LEASE)


# The status values both state machines share (``OutgoingStatus`` and ``IncomingStatus``).
READY = "ready"
RETRY_WAIT = "retry_wait"
FAILED = "failed"


class CorrectionRefused(Exception):
    """A correction a person asked for cannot be made (the document moved on, or the remote says something the
    portal cannot act on); nothing changed. The message says why, in the reader's language."""


def enqueue(task_name: str, *ids: int, countdown: float | None = None, per_message: int = 1) -> None:
    """Queue ``task_name`` for the ids when the current transaction commits (at once outside one): one message per
    ``per_message`` ids, the task called with them as its arguments. The tasks are looked up in Celery's registry by
    their registered name (each app's ``ready()`` imports its tasks).

    The row the task works on is committed already; a broker that cannot be reached leaves the work to the due-work
    dispatchers (as a message the broker lost would), instead of failing what committed it (a webhook answered
    500, a task ended in error)."""
    from kombu.exceptions import OperationalError as BrokerUnreachable

    from portal.celery_app import app

    def send(chunk: tuple[int, ...]) -> None:
        task = app.tasks[task_name]
        try:
            if countdown:
                task.apply_async(chunk, countdown=countdown)
            else:
                task.delay(*chunk)
        except BrokerUnreachable as exc:
            logger.warning("Broker unreachable, %s for %s left to the due-work dispatcher: %s", task_name, chunk, exc)

    for start in range(0, len(ids), per_message):
        transaction.on_commit(lambda chunk=ids[start : start + per_message]: send(chunk))


Write = Callable[[], object]


@dataclass(frozen=True)
class Step:
    """A step of ``work_through`` whose writes need something done first in each transaction that makes them, given
    the environment: e.g. a lock all of them need, taken once instead of once per document."""

    run: Callable[[Any, Any], Write | None]
    first: Callable[[Environment], object]


def work_through(documents: Iterable[Any], *steps: Callable | Step, session_for: Callable) -> None:
    """One task's documents, step by step, in their order; those of one environment share one
    ``session_for(environment)`` (a context manager, e.g. its clients built once).

    A step, ``step(document, session)``, does what takes time (validating, calling a remote service) and returns the
    write it leads to (a callable), or None when there is none (or it wrote it itself). The writes of one step are made
    together when all its documents are through it, before the next step starts (``write_together``). A document
    whose step fails unexpectedly does not hold up the others: it stays where it was (for its stalled sweep) and
    takes no further step; the first such error is raised after the others (the task fails visibly), the rest are
    logged."""
    failures = _Failures()
    for _environment_id, group in groupby(documents, key=lambda document: document.environment_id):
        pending = list(group)
        environment = pending[0].environment
        with session_for(environment) as session:
            for step in steps:
                run, first = (step.run, partial(step.first, environment)) if isinstance(step, Step) else (step, None)
                writes = []
                for document in list(pending):
                    try:
                        write = run(document, session)
                    except Exception as exc:
                        failures.add(document, exc)
                        pending.remove(document)
                    else:
                        if write is not None:
                            writes.append((document, write))
                for document in write_together(writes, failures, first=first):
                    pending.remove(document)
    failures.raise_first()


def write_together(writes: list[tuple[Any, Write]], failures: _Failures, *, first: Write | None = None) -> list[Any]:
    """The documents' writes in one transaction (``first`` done first in it), their timeline entries in one INSERT.
    Should that fail, each is written in a transaction of its own (the documents read again first: the failed attempt
    changed them in memory), so one that cannot be written does not hold up the others. Returns the documents whose
    write failed."""
    if len(writes) > 1:
        try:
            _in_one_transaction([write for _document, write in writes], first)
            return []
        except Exception:
            logger.warning("Writing %s documents together failed; writing them one by one", len(writes), exc_info=True)
            for document, _write in writes:
                document.refresh_from_db()
    failed = []
    for document, write in writes:
        try:
            _in_one_transaction([write], first)
        except Exception as exc:
            failures.add(document, exc)
            failed.append(document)
    return failed


def _in_one_transaction(writes: list[Write], first: Write | None) -> None:
    with events_written_together():
        if first is not None:
            first()
        for write in writes:
            write()


class _Failures:
    """The first unexpected error of a task's documents, to raise when the others are through; the rest logged."""

    def __init__(self) -> None:
        self.first: Exception | None = None

    def add(self, document: Any, exc: Exception) -> None:
        if self.first is None:
            self.first = exc
        else:
            logger.error("%s %s failed", type(document).__name__, document.pk, exc_info=exc)

    def raise_first(self) -> None:
        if self.first is not None:
            raise self.first


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
    # Inside a caller's transaction no savepoint: the update and its entry stand or fall with it.
    with transaction.atomic(savepoint=False):
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
    _set_in_memory(document, status=to_status, status_changed_at=now, updated_at=now, **fields)
    return True


def _set_in_memory(document: models.Model, **values) -> None:
    """What an UPDATE wrote, on the instance in hand: plain values are set, values the database computed (``F()``
    and other expressions) are read back; cached relations (the environment) stay."""
    computed = [name for name, value in values.items() if hasattr(value, "resolve_expression")]
    for name, value in values.items():
        if name not in computed:
            setattr(document, name, value)
    if computed:
        document.refresh_from_db(fields=computed)


def claim_due(model: type[models.Model], pk: int, *, now: datetime) -> models.Model | None:
    """Inside the caller's transaction: the document, locked, if it is READY or in RETRY_WAIT with its next attempt
    due; None when it is not, or another worker holds it (``skip_locked``: no waiting on each other). Its environment
    comes in the same query (as it is now: credentials may have changed) without being locked."""
    return (
        model.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("environment")
        .filter(pk=pk, status__in=(READY, RETRY_WAIT))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .first()
    )


def start_attempt(
    claimed: models.Model, *, subject: str, to_status: str, message: Msg, system_actor: str, now: datetime, **fields
) -> None:
    """Inside the claim's transaction: the claimed document goes in flight (``to_status``, one attempt more, off the
    queue) with its timeline entry, so that a worker killed in between leaves no change the timeline does not show.
    The claimed instance then holds what was written (its row is locked: the attempt count is known)."""
    values = dict(status=to_status, status_changed_at=now, dispatched_at=None, attempts=claimed.attempts + 1, **fields)
    type(claimed).objects.filter(pk=claimed.pk).update(**values)
    event_record(
        environment=claimed.environment,
        kind=EventKind.STATUS_CHANGED,
        from_status=claimed.status,
        to_status=to_status,
        message=message,
        system_actor=system_actor,
        **{subject: claimed},
    )
    _set_in_memory(claimed, **values)


def ready_and_start(
    document: models.Model,
    *,
    subject: str,
    from_statuses,
    ready_message: str | Msg,
    in_flight: str,
    start: tuple[Msg, dict],
    now: datetime,
    system_actor: str,
    **fields,
) -> bool:
    """→ READY → ``in_flight`` in one conditional UPDATE, one attempt more, with both timeline entries in one INSERT
    (no other transaction can see the row in READY, so nothing is lost by not writing it there). False when the
    document was no longer in ``from_statuses``."""
    start_message, start_fields = start
    values = dict(status=in_flight, status_changed_at=now, updated_at=now, dispatched_at=None,
                  attempts=document.attempts + 1, **fields, **start_fields)  # fmt: skip
    values.update(error_fields(values.pop("last_error_message")) if "last_error_message" in values else {})
    entry = dict(environment=document.environment, kind=EventKind.STATUS_CHANGED, system_actor=system_actor,
                 **{subject: document})  # fmt: skip
    with transaction.atomic(savepoint=False):
        updated = type(document).objects.filter(pk=document.pk, status__in=from_statuses).update(**values)
        if updated != 1:
            return False
        events_record([
            event_build(from_status=document.status, to_status=READY, message=ready_message, **entry),
            event_build(from_status=READY, to_status=in_flight, message=start_message, **entry),
        ])  # fmt: skip
    _set_in_memory(document, **values)
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


@contextmanager
def environment_lease(
    environment: Environment,
    *,
    enabled_field: str | None = None,
    lease_field: str,
    duration: timedelta,
    eligible: Q | None = None,
) -> Iterator[bool]:
    """``lease_environment`` for the ``with`` block: True when this run holds the environment (released at the end,
    also after an error), False when it is off or another run holds it."""
    held = lease_environment(
        environment, enabled_field=enabled_field, lease_field=lease_field, duration=duration, eligible=eligible
    )
    try:
        yield held
    finally:
        if held:
            release_environment(environment, lease_field=lease_field)


def run_leased(
    environment: Environment,
    work: Callable[[Environment], T],
    *,
    idle: T,
    enabled_field: str,
    lease_field: str,
    duration: timedelta,
) -> T:
    """``work`` on a fresh copy of the environment while this run holds its lease (a collect, a fetch); ``idle``
    when the environment is switched off or another run holds it."""
    with environment_lease(
        environment, enabled_field=enabled_field, lease_field=lease_field, duration=duration
    ) as held:
        if not held:
            logger.info(
                "Environment %s: skipped (%s is off, or %s is held)", environment.pk, enabled_field, lease_field
            )
            return idle
        return work(Environment.objects.get(pk=environment.pk))


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


def remote_done(
    document: models.Model, *, subject: str, from_status: str, to_status: str, message: Msg, system_actor: str, **fields
) -> bool:
    """The remote call for ``document`` (in ``from_status``) succeeded: ``to_status``, earlier errors cleared."""
    return transition(
        document,
        subject=subject,
        from_statuses=(from_status,),
        to_status=to_status,
        message=message,
        system_actor=system_actor,
        last_error_kind="",
        last_error_code="",
        last_error_message="",
        **fields,
    )


def remote_failed(
    document: models.Model,
    exc,
    *,
    subject: str,
    from_status: str,
    system_actor: str,
    retry_message: str,
    ended_fields: dict | None = None,
    permanent: tuple[str, Msg] | None = None,
) -> bool:
    """A remote call for ``document`` (in ``from_status``) failed with ``exc`` (a ``RemoteError``): the one retry
    policy. ``permanent`` (an ``ErrorKind`` and the message saying why) ends it as FAILED at once; otherwise the
    failure is transient and the document waits in RETRY_WAIT until the policy's next attempt (``retry_message`` is
    the key of the timeline entry, with ``detail`` and ``when``), or fails once the attempts are used up.
    ``ended_fields`` are set too when it fails (e.g. ``completed_at``). The status values are those both the
    sending and the receiving state machines use."""
    common = {
        "subject": subject,
        "from_statuses": (from_status,),
        "system_actor": system_actor,
        "last_error_code": (exc.code or "")[:50],
        "last_error_message": exc.message,
    }
    if permanent is not None:
        kind, message = permanent
        return transition(
            document, to_status=FAILED, message=message, last_error_kind=kind, **common, **(ended_fields or {})
        )
    decision = retry_decision(attempts=document.attempts, retry_after=exc.retry_after)
    if decision.give_up:
        message = Msg("document.gave_up", attempts=document.attempts, detail=exc.message)
        return transition(
            document,
            to_status=FAILED,
            message=message,
            last_error_kind=ErrorKind.TRANSIENT,
            **common,
            **(ended_fields or {}),
        )
    return transition(
        document,
        to_status=RETRY_WAIT,
        message=Msg(retry_message, detail=exc.message, when=When(decision.next_attempt_at, "time")),
        last_error_kind=ErrorKind.TRANSIENT,
        next_attempt_at=decision.next_attempt_at,
        **common,
    )


# --- the shared lifecycle, bound to one app's step ---------------------------------------------------------------


@dataclass(frozen=True)
class RemoteStep:
    """One remote step of a document's lifecycle (submitting a sales invoice to eConnect, delivering a purchase invoice
    to AFAS): its model, the Event field that points at it, its in-flight status, the part of the system that acts,
    and the message key of a retry. Each app declares its step once; claim, start, done and failed are then shared.

    A new remote step: declare it beside its service, e.g. ``DELIVERY = RemoteStep(IncomingInvoice, "incoming_invoice",
    "delivering", "deliver", "incoming.afas_unavailable", "incoming.deliver")``, then ``ready`` the document,
    ``claim``/``start`` it inside one transaction, call the remote outside it, and end with ``done`` or ``failed``."""

    model: type[models.Model]
    subject: str
    in_flight: str
    system_actor: str
    retry_message: str
    task: str  # the task that makes the step for a queued document
    ends_work: bool = False  # a failure completes the document's work (``completed_at``)

    def ready(
        self,
        document: models.Model,
        *,
        from_statuses,
        message: str | Msg,
        start_now: Starting | None = None,
        **fields,
    ) -> bool:
        """→ READY with its timeline entry. The step is queued (``task``; off the due list until it runs), or, with
        ``start_now`` (what starting it writes), started in the same statement: READY and the start are both on
        the timeline, for the caller to make the step. False when the document was no longer in
        ``from_statuses``."""
        now = timezone.now()
        system_actor = fields.pop("system_actor", self.system_actor)
        if start_now is None:
            moved = transition(
                document, subject=self.subject, from_statuses=from_statuses, to_status=READY, message=message,
                system_actor=system_actor, next_attempt_at=now, dispatched_at=now, **fields,
            )  # fmt: skip
            if moved:
                enqueue(self.task, document.pk)
            return moved
        return ready_and_start(
            document, subject=self.subject, from_statuses=from_statuses, ready_message=message,
            in_flight=self.in_flight, start=start_now(document, now=now), now=now,
            system_actor=system_actor, next_attempt_at=now, **fields,
        )  # fmt: skip

    def claim(self, document: models.Model, *, now: datetime) -> models.Model | None:
        """``document``'s row, locked and read again with its environment, if it is due."""
        return claim_due(self.model, document.pk, now=now)

    def start(self, claimed: models.Model, *, starting: Starting, now: datetime) -> None:
        """Inside the claim's transaction: the claimed document goes in flight with what ``starting`` writes."""
        message, fields = starting(claimed, now=now)
        start_attempt(
            claimed, subject=self.subject, to_status=self.in_flight, message=message, system_actor=self.system_actor,
            now=now, **fields,
        )  # fmt: skip

    def done(self, document: models.Model, to_status: str, message: Msg, **fields) -> bool:
        return remote_done(
            document, subject=self.subject, from_status=self.in_flight, to_status=to_status, message=message,
            system_actor=self.system_actor, **fields,
        )  # fmt: skip

    def failed(self, document: models.Model, exc, *, permanent: tuple[str, Msg] | None = None) -> bool:
        return remote_failed(
            document, exc, subject=self.subject, from_status=self.in_flight, system_actor=self.system_actor,
            retry_message=self.retry_message, ended_fields={"completed_at": timezone.now()} if self.ends_work else None,
            permanent=permanent,
        )  # fmt: skip


@dataclass(frozen=True)
class EnvironmentRun:
    """A per-environment run that must not overlap itself (a collect, a fetch): the switch that allows it and its
    lease. ``run`` does the work on a fresh copy of the environment, or answers ``idle``."""

    enabled_field: str
    lease_field: str
    duration: timedelta

    def run(self, environment: Environment, work: Callable[[Environment], T], *, idle: T) -> T:
        return run_leased(
            environment, work, idle=idle, enabled_field=self.enabled_field, lease_field=self.lease_field,
            duration=self.duration,
        )  # fmt: skip
