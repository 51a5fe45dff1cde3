"""Peppol readiness of customers: directory lookups (batched, rate-limited, cached with a time-to-live), bulk jobs
with progress, and writing a confirmed identifier back to AFAS."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.econnect.lookup import PeppolLookup
from integrations.econnect.models import ParticipantLookup, Reachability
from integrations.http import (
    AccessDenied,
    AuthenticationError,
    RemoteError,
    TransientError,
    backoff_delay,
    call_with_retries,
)
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import PeppolIdentifier
from portal.accounts.models import User
from portal.contacts.models import Contact, ContactIdentifier, ContactJob
from portal.contacts.services import NO_IDENTIFIERS, ordered_identifiers
from portal.documents import lifecycle
from portal.events.messages import Choice, Join, Msg, explained, set_explanation
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.models import Environment

logger = logging.getLogger(__name__)

Outcome = Contact.LookupOutcome
# Contacts per directory round (a round asks about up to 10 identifiers per request).
LOOKUP_BATCH = 25
WRITE_BACK_BATCH = 10
# Picked-up lookups come back after this long if the worker died while doing them.
LOOKUP_CLAIM = timedelta(minutes=10)
JOB_LEASE = timedelta(minutes=2)
JOB_MAX_CONSECUTIVE_ERRORS = 6
BACKGROUND_LOOKUPS_PER_RUN = 500


class ContactNotConfirmable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- one round of lookups ------------------------------------------------------------------------------------


def _access_point(participant: ParticipantLookup) -> str:
    return participant.access_point.value


def _classify(
    contact: Contact,
    identifiers: list[ContactIdentifier],
    found: dict[PeppolIdentifier, ParticipantLookup],
    problems: Msg | None,
) -> None:
    """Set the contact's outcome from what the directory said about its identifiers, in the order they are tried;
    ``problems`` (invalid identifiers it also has) are added to the explanation."""
    contact.peppol_scheme = contact.peppol_value = contact.peppol_access_point = ""
    contact.receives_invoices = contact.receives_credit_notes = None
    reachable = None
    other_types_only = []
    for item in identifiers:
        participant = found.get(PeppolIdentifier(item.scheme, item.value))
        if participant is None or participant.reachability is Reachability.NOT_REGISTERED:
            continue
        if participant.reachability is Reachability.REGISTERED and reachable is None:
            reachable = (item, participant)
        elif participant.reachability is Reachability.OTHER_DOCUMENT_TYPES_ONLY:
            other_types_only.append((item, participant))
    tried = ", ".join(item.identifier for item in identifiers)
    if reachable is not None:
        item, participant = reachable
        contact.lookup_outcome = Outcome.REACHABLE
        contact.peppol_scheme, contact.peppol_value = item.scheme, item.value
        contact.receives_invoices = True
        contact.receives_credit_notes = DocumentType.CREDIT_NOTE in participant.document_types
        contact.peppol_access_point = _access_point(participant)
        key = "lookup.reachable" if contact.receives_credit_notes else "lookup.reachable_no_credit_notes"
        detail = Msg(key, identifier=item.identifier)
    elif other_types_only:
        item, participant = other_types_only[0]
        contact.lookup_outcome = Outcome.CANNOT_RECEIVE
        contact.peppol_scheme, contact.peppol_value = item.scheme, item.value
        contact.receives_invoices = False
        contact.receives_credit_notes = DocumentType.CREDIT_NOTE in participant.document_types
        contact.peppol_access_point = _access_point(participant)
        key = "lookup.only_credit_notes" if contact.receives_credit_notes else "lookup.nothing"
        detail = Msg(key, identifier=item.identifier)
    else:
        contact.lookup_outcome = Outcome.NOT_ON_PEPPOL
        detail = Msg("lookup.not_on_peppol", identifiers=tried)
    set_explanation(contact, "lookup_detail", Join([detail, problems], " ") if problems else detail)


def contacts_look_up(*, contacts: Sequence[Contact], lookup: PeppolLookup, now: datetime | None = None) -> None:
    """Ask the directory about these contacts' valid identifiers in as few requests as possible and store each
    contact's outcome (and per identifier what it can receive). A directory failure raises before anything is
    stored: the contacts keep their previous outcome."""
    now = now or timezone.now()
    contacts = list(contacts)
    identifiers = {contact.pk: ordered_identifiers(contact.identifiers.all()) for contact in contacts}
    candidates = [PeppolIdentifier(i.scheme, i.value) for items in identifiers.values() for i in items]
    unique = list(dict.fromkeys(candidates))
    found = lookup.participants(unique) if unique else {}
    ttl = timedelta(seconds=settings.PEPPOL_LOOKUP_TTL_SECONDS)
    changed_identifiers = []
    outcome_events = []
    for contact in contacts:
        items = identifiers[contact.pk]
        before = contact.lookup_outcome
        problems = Msg.from_data(contact.identifier_problems_data)
        if not items:  # nothing to ask
            contact.lookup_outcome = Outcome.IDENTIFIER_INVALID
            set_explanation(contact, "lookup_detail", problems or NO_IDENTIFIERS)
            contact.peppol_scheme = contact.peppol_value = contact.peppol_access_point = ""
            contact.receives_invoices = contact.receives_credit_notes = None
            contact.lookup_due_at = None
        else:
            _classify(contact, items, found, problems)
            contact.lookup_due_at = now + ttl
        contact.lookup_checked_at = now
        contact.lookup_error, contact.lookup_error_data = "", {}
        contact.updated_at = now
        if before not in (Outcome.NOT_CHECKED, contact.lookup_outcome):
            outcome_events.append((contact, before))
        for item in items:
            participant = found.get(PeppolIdentifier(item.scheme, item.value))
            types = participant.document_types if participant else ()
            item.can_receive_invoice = DocumentType.INVOICE in types
            item.can_receive_credit_note = DocumentType.CREDIT_NOTE in types
            item.access_point = participant.access_point.value if participant and types else ""
            item.looked_up_at = now
            changed_identifiers.append(item)
    with transaction.atomic():
        Contact.objects.bulk_update(
            contacts,
            ["lookup_outcome", "lookup_detail", "lookup_detail_data", "lookup_due_at", "lookup_checked_at",
             "lookup_error", "lookup_error_data", "peppol_scheme", "peppol_value", "peppol_access_point",
             "receives_invoices", "receives_credit_notes", "updated_at"],
        )  # fmt: skip
        ContactIdentifier.objects.bulk_update(
            changed_identifiers, ["can_receive_invoice", "can_receive_credit_note", "access_point", "looked_up_at"]
        )
        for contact, before in outcome_events:
            event_record(
                environment=contact.environment,
                contact=contact,
                kind=EventKind.PEPPOL_LOOKUP_CHANGED,
                system_actor="Peppol lookup",
                message=Msg(
                    "contacts.lookup_changed",
                    before=Choice(Outcome, before),
                    after=Choice(Outcome, contact.lookup_outcome),
                    detail=Msg.from_data(contact.lookup_detail_data) or contact.lookup_detail,
                ),
                from_status=before,
                to_status=contact.lookup_outcome,
            )


def _with_identifiers(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    return queryset.select_related("environment").prefetch_related("identifiers")


def contact_look_up_now(*, contact: Contact) -> Contact:
    """Look one contact up at once (the contacts page's "check now"); directory errors are raised."""
    contact = _with_identifiers(Contact.objects.filter(pk=contact.pk)).get()
    with clients.peppol_lookup() as lookup:
        contacts_look_up(contacts=[contact], lookup=lookup)
    return contact


# --- background: lookups that are due (new, changed or expired) ---------------------------------------------------


def contacts_due_for_lookup(*, now: datetime | None = None) -> QuerySet[Contact]:
    now = now or timezone.now()
    return Contact.objects.filter(
        lookup_due_at__lte=now, kind=Contact.Kind.DEBTOR, afas_state=Contact.AfasState.ACTIVE
    ).order_by("lookup_due_at", "pk")


def contacts_look_up_due(*, now: datetime | None = None, limit: int = BACKGROUND_LOOKUPS_PER_RUN) -> int:
    """Look up contacts whose result is missing or expired, oldest first, within one chunk's time budget.

    Each round is claimed first (its due time pushed ahead), so two workers never ask twice and a crash loses
    nothing: the claim runs out and the contacts come back. A directory failure pushes the round back with backoff.
    """
    now = now or timezone.now()
    deadline = time.monotonic() + settings.CONTACT_JOB_CHUNK_SECONDS
    done = 0
    with clients.peppol_lookup() as lookup:
        while done < limit and time.monotonic() < deadline:
            ids = list(contacts_due_for_lookup(now=now).values_list("pk", flat=True)[:LOOKUP_BATCH])
            claimed = [
                pk
                for pk in ids
                if Contact.objects.filter(pk=pk, lookup_due_at__lte=now).update(lookup_due_at=now + LOOKUP_CLAIM)
            ]
            if not claimed:
                break
            contacts = list(_with_identifiers(Contact.objects.filter(pk__in=claimed)).order_by("pk"))
            try:
                contacts_look_up(contacts=contacts, lookup=lookup, now=now)
            except TransientError as exc:
                _lookup_failed(claimed, exc, retry_at=timezone.now() + timedelta(seconds=_retry_after(exc, 1)))
                break
            except RemoteError as exc:
                _lookup_failed(claimed, exc, retry_at=timezone.now() + timedelta(hours=1))
                break
            done += len(contacts)
    return done


def _retry_after(exc: TransientError, attempt: int) -> float:
    return exc.retry_after if exc.retry_after is not None else backoff_delay(attempt, base=30.0, cap=3600.0)


def _lookup_failed(contact_ids: list[int], exc: RemoteError, *, retry_at: datetime) -> None:
    logger.warning("Peppol lookup failed for %s contacts: %s", len(contact_ids), exc.message)
    error = Msg("lookup.directory_unavailable", detail=exc.message)
    Contact.objects.filter(pk__in=contact_ids).update(**explained("lookup_error", error), lookup_due_at=retry_at)


# --- writing a confirmed identifier back to AFAS ---------------------------------------------------------------------


def econnect_id_for(contact: Contact) -> str:
    """The reachable identifier in eConnect notation (NL:KVK:12345678) where it has one, else 0106:... notation."""
    identifier = PeppolIdentifier(contact.peppol_scheme, contact.peppol_value)
    return identifier.econnect or identifier.icd


def contact_confirm_identifier(*, contact: Contact, actor: User | None, afas=None, attempts: int = 3) -> str:
    """Write the customer's reachable identifier to AFAS (``KnSalesRelationOrg.EnId``), so AFAS and the portal
    agree. Safe to repeat (the same value is written again). Returns what was written; raises
    ``ContactNotConfirmable`` when there is nothing to confirm and AFAS's errors when AFAS refuses or is down.
    ``attempts=1`` from a web request, so that a slow AFAS never holds the page through a retry schedule."""
    contact.refresh_from_db()
    if contact.kind != Contact.Kind.DEBTOR:
        raise ContactNotConfirmable(
            _("%(contact)s is a creditor: only customers' identifiers are written to AFAS.") % {"contact": contact}
        )
    if contact.afas_state == Contact.AfasState.DELETED:
        raise ContactNotConfirmable(_("%(contact)s no longer exists in AFAS.") % {"contact": contact})
    if contact.lookup_outcome != Outcome.REACHABLE or not contact.peppol_scheme:
        raise ContactNotConfirmable(
            _("%(contact)s is not reachable via Peppol (%(outcome)s): there is no identifier to confirm.")
            % {"contact": contact, "outcome": contact.get_lookup_outcome_display().lower()}
        )
    value = econnect_id_for(contact)
    previous = contact.econnect_id
    with nullcontext(afas) if afas is not None else clients.afas_client_for(contact.environment) as client:
        call_with_retries(lambda: client.set_debtor_econnect_id(contact.afas_id, value), attempts=attempts)
    now = timezone.now()
    with transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(econnect_id=value, updated_at=now)
        ContactIdentifier.objects.filter(contact=contact, scheme=contact.peppol_scheme).update(confirmed_at=now)
        event_record(
            environment=contact.environment,
            contact=contact,
            actor=actor,
            system_actor="contacts write-back",
            kind=EventKind.IDENTIFIER_WRITTEN_BACK,
            message=Msg(
                "contacts.identifier_written",
                identifier=contact.peppol_identifier,
                value=value,
                previous=previous or Msg("environment.empty_value"),
            ),
            data={"econnect_id": value, "previous": previous},
        )
    contact.econnect_id = value
    return value


# --- bulk jobs with progress ---------------------------------------------------------------------------------------


class JobRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class JobAlreadyRunning(Exception):
    def __init__(self, job: ContactJob):
        super().__init__(f"A {job.get_kind_display().lower()} is already running.")
        self.job = job


def _job_scope(job: ContactJob) -> QuerySet[Contact]:
    customers = Contact.objects.filter(
        environment_id=job.environment_id, kind=Contact.Kind.DEBTOR, afas_state=Contact.AfasState.ACTIVE
    )
    if job.kind == ContactJob.Kind.WRITE_BACK:
        customers = customers.filter(lookup_outcome=Outcome.REACHABLE)
    return customers


def contact_job_start(*, environment: Environment, kind: str, actor: User | None) -> ContactJob:
    """Start a bulk lookup or write-back over the environment's customers; the first chunk is queued at once.
    Raises ``JobAlreadyRunning`` (with the running job) instead of starting a second one, and ``JobRefused`` when
    the environment cannot take it (a write-back needs AFAS Profit with a token)."""
    from portal.contacts.services import contacts_sync_eligible

    if kind == ContactJob.Kind.WRITE_BACK and not contacts_sync_eligible(environment):
        raise JobRefused(
            _("Identifiers are written to AFAS Profit environments with an AFAS token only; set the AFAS token first.")
        )
    running = ContactJob.objects.filter(environment=environment, kind=kind, state=ContactJob.State.RUNNING).first()
    if running is not None:
        raise JobAlreadyRunning(running)
    job = ContactJob(environment=environment, kind=kind, requested_by=actor, next_run_at=timezone.now())
    job.total = _job_scope(job).count()
    try:
        with transaction.atomic():
            job.save()
            event_record(environment=environment, actor=actor, kind=EventKind.CONTACT_JOB_STARTED,
                         message=Msg("contacts.job_started", job=Choice(ContactJob.Kind, job.kind),
                                     total=job.total),
                         data={"job": job.pk})  # fmt: skip
    except IntegrityError as exc:  # started by someone else a moment ago
        running = ContactJob.objects.get(environment=environment, kind=kind, state=ContactJob.State.RUNNING)
        raise JobAlreadyRunning(running) from exc
    _enqueue_chunk(job.pk)
    return job


def contact_job_cancel(*, job: ContactJob, actor: User | None) -> bool:
    cancelled = ContactJob.objects.filter(pk=job.pk, state=ContactJob.State.RUNNING).update(
        state=ContactJob.State.CANCELLED, finished_at=timezone.now()
    )
    if cancelled:
        event_record(environment=job.environment, actor=actor, kind=EventKind.CONTACT_JOB_CANCELLED,
                     message=Msg("contacts.job_cancelled", job=Choice(ContactJob.Kind, job.kind),
                                 processed=job.processed, total=job.total),
                     data={"job": job.pk})  # fmt: skip
    return bool(cancelled)


def _enqueue_chunk(job_id: int, countdown: float = 0) -> None:
    lifecycle.enqueue("contacts.job_chunk", job_id, countdown=countdown or None)


def contact_job_run_chunk(*, job_id: int) -> float | None:
    """Work on a job for at most ``CONTACT_JOB_CHUNK_SECONDS``, saving progress after every batch.

    Returns when to run the next chunk (seconds from now; 0 = at once) or None when the job is over or another
    worker holds it. A transient directory or AFAS failure pauses the job with backoff; too many in a row stop it
    with the reason (everything done so far stays done).
    """
    now = timezone.now()
    claimed = (
        ContactJob.objects.filter(pk=job_id, state=ContactJob.State.RUNNING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + JOB_LEASE)
    )
    if not claimed:
        return None
    job = ContactJob.objects.select_related("environment").get(pk=job_id)
    deadline = time.monotonic() + settings.CONTACT_JOB_CHUNK_SECONDS
    next_run: float | None = 0
    try:
        with _job_client(job) as client:
            while True:  # at least one batch per chunk, then as many as fit in its time budget
                if not ContactJob.objects.filter(pk=job.pk, state=ContactJob.State.RUNNING).exists():
                    return None  # cancelled meanwhile
                batch_size = LOOKUP_BATCH if job.kind == ContactJob.Kind.LOOKUP else WRITE_BACK_BATCH
                batch = list(
                    _with_identifiers(_job_scope(job).filter(pk__gt=job.cursor_pk)).order_by("pk")[:batch_size]
                )
                if not batch:
                    _job_finish(job, ContactJob.State.DONE)
                    return None
                try:
                    succeeded, failed = _job_batch(job, batch, client)
                except TransientError as exc:
                    return _job_paused(job, exc)
                ContactJob.objects.filter(pk=job.pk).update(
                    cursor_pk=batch[-1].pk,
                    processed=F("processed") + len(batch),
                    succeeded=F("succeeded") + succeeded,
                    failed=F("failed") + failed,
                    **_outcome_counts(job, batch),
                    consecutive_errors=0,
                    last_error="",
                    last_error_data={},
                    lease_until=timezone.now() + JOB_LEASE,
                    updated_at=timezone.now(),
                )
                job.refresh_from_db()
                if time.monotonic() >= deadline:
                    break
    except RemoteError as exc:  # permanent: the job cannot go on (e.g. the AFAS token was refused)
        job.last_error = exc.message
        _job_finish(job, ContactJob.State.FAILED, error=exc.message)
        return None
    finally:
        ContactJob.objects.filter(pk=job_id).update(lease_until=None)
    return next_run


def contact_job_continue(*, job_id: int) -> None:
    """Run one chunk and queue the next (at once, or after a backoff), until the job is over."""
    delay = contact_job_run_chunk(job_id=job_id)
    if delay is None:
        return
    ContactJob.objects.filter(pk=job_id, state=ContactJob.State.RUNNING).update(
        next_run_at=timezone.now() + timedelta(seconds=delay)
    )
    _enqueue_chunk(job_id, delay)


def _job_client(job: ContactJob):
    if job.kind == ContactJob.Kind.LOOKUP:
        return clients.peppol_lookup()
    return clients.afas_client_for(job.environment)


# How a looked-up customer counts in a lookup job's report.
OUTCOME_COUNTERS = {
    Outcome.REACHABLE: "reachable",
    Outcome.NOT_ON_PEPPOL: "not_reachable",
    Outcome.CANNOT_RECEIVE: "not_reachable",
    Outcome.IDENTIFIER_INVALID: "invalid",
}


def _outcome_counts(job: ContactJob, batch: list[Contact]) -> dict:
    """F() increments of the lookup job's reachable / not reachable / invalid counters for a batch just looked up."""
    if job.kind != ContactJob.Kind.LOOKUP:
        return {}
    counts: dict[str, int] = {}
    for contact in batch:
        counter = OUTCOME_COUNTERS.get(contact.lookup_outcome)
        if counter:
            counts[counter] = counts.get(counter, 0) + 1
    return {counter: F(counter) + n for counter, n in counts.items()}


def _job_batch(job: ContactJob, batch: list[Contact], client) -> tuple[int, int]:
    """(succeeded, failed) for one batch; transient errors are raised for the whole batch to be retried."""
    if job.kind == ContactJob.Kind.LOOKUP:
        contacts_look_up(contacts=batch, lookup=client)
        return len(batch), 0
    succeeded = failed = 0
    for contact in batch:
        if contact.peppol_identifier_in_afas:
            succeeded += 1
            continue
        try:
            contact_confirm_identifier(contact=contact, actor=job.requested_by, afas=client)
        except (TransientError, AuthenticationError, AccessDenied):
            raise  # the whole batch waits (transient), or the job stops: every customer would get the same refusal
        except (RemoteError, ContactNotConfirmable) as exc:
            failed += 1
            message = getattr(exc, "message", str(exc))
            event_record(environment=job.environment, contact=contact, kind=EventKind.IDENTIFIER_WRITE_BACK_FAILED,
                         system_actor="contacts write-back",
                         message=Msg("contacts.write_back_failed", detail=message))  # fmt: skip
        else:
            succeeded += 1
    return succeeded, failed


def _job_paused(job: ContactJob, exc: TransientError) -> float | None:
    errors = job.consecutive_errors + 1
    service = Msg("contacts.service_directory" if job.kind == ContactJob.Kind.LOOKUP else "contacts.service_afas")
    if errors >= JOB_MAX_CONSECUTIVE_ERRORS:
        error = Msg("contacts.job_kept_failing", service=service, errors=errors, detail=exc.message)
        _job_finish(job, ContactJob.State.FAILED, error=error)
        return None
    delay = _retry_after(exc, errors)
    waiting = Msg("contacts.job_waiting", service=service, detail=exc.message, seconds=round(delay))
    ContactJob.objects.filter(pk=job.pk).update(
        consecutive_errors=errors,
        **explained("last_error", waiting),
        updated_at=timezone.now(),
    )
    return delay


def _job_finish(job: ContactJob, state: str, *, error: Msg | str = "") -> None:
    finished = ContactJob.objects.filter(pk=job.pk, state=ContactJob.State.RUNNING).update(
        state=state, finished_at=timezone.now(), **explained("last_error", error), next_run_at=None
    )
    if finished:
        job.refresh_from_db()
        done = state == ContactJob.State.DONE
        event_record(
            environment=job.environment,
            kind=EventKind.CONTACT_JOB_DONE if done else EventKind.CONTACT_JOB_FAILED,
            system_actor="contacts",
            message=_job_summary(job, done=done, error=error),
            data={"job": job.pk},
        )


def _job_summary(job: ContactJob, *, done: bool, error: Msg | str) -> Msg:
    kind = Choice(ContactJob.Kind, job.kind)
    counts = {"processed": job.processed, "total": job.total, "failed": job.failed}
    if not done:
        return Msg("contacts.job_stopped", job=kind, error=error, **counts)
    if job.kind == ContactJob.Kind.LOOKUP:
        return Msg(
            "contacts.lookup_job_finished",
            job=kind,
            reachable=job.reachable,
            not_reachable=job.not_reachable,
            invalid=job.invalid,
            **counts,
        )
    return Msg("contacts.job_finished", job=kind, **counts)


# A queued chunk starts within seconds; one not started this long after it was due was lost (e.g. the worker died).
JOB_LOST_AFTER = timedelta(seconds=60)


def contact_jobs_resume_stalled(*, now: datetime | None = None) -> list[int]:
    """Running jobs nobody works on although their next chunk is overdue: that chunk is queued again. A duplicate
    is harmless: whoever does not get the lease stops."""
    now = now or timezone.now()
    stalled = ContactJob.objects.filter(state=ContactJob.State.RUNNING, next_run_at__lte=now - JOB_LOST_AFTER).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for job_id in ids:
        ContactJob.objects.filter(pk=job_id).update(next_run_at=now)
        _enqueue_chunk(job_id)
    return ids
