"""Sending: from an issued AFAS sales invoice to a delivered Peppol invoice, exactly once.

The state machine lives in the database. Every step claims its row with a conditional update (or a row lock),
does its remote call outside any transaction, and records the outcome with an Event. What makes a submission
safe to repeat (our reference and when it was prepared) is saved before the call; after any doubt, eConnect's
outbox is searched before sending again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from integrations.econnect.errors import DocumentRejected, UnknownRecipient
from integrations.econnect.models import OutgoingDocument
from integrations.http import AccessDenied, AuthenticationError, PermanentError, RemoteError
from integrations.peppol.editing import with_customer_endpoint
from integrations.peppol.identifiers import PeppolIdentifier
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected
from portal.accounts.models import User
from portal.contacts.services import contact_candidate_identifiers, contact_upsert_debtor
from portal.core.choices import DocumentType, ErrorKind
from portal.core.fields import CredentialDecryptionError
from portal.core.peppol import get_validator
from portal.core.validators import checked_reason
from portal.documents import lifecycle
from portal.events.messages import Bilingual, Msg
from portal.events.models import EventKind
from portal.events.services import event_build, event_record, events_record
from portal.organisations import clients
from portal.organisations.models import Environment, SyncCursor
from portal.outgoing_invoices import status_follow
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.recipients import resolve_recipient
from portal.outgoing_invoices.sending import EnvironmentSending, own_sender
from portal.outgoing_invoices.status_follow import outgoing_follow_status  # noqa: F401  (sending's services, in one place)

logger = logging.getLogger(__name__)

Status = OutgoingInvoice.Status
COLLECT_LEASE = timedelta(minutes=10)
COLLECT_CHUNK = 50  # invoices downloaded, then stored in one transaction
PREPARE_PER_TASK = 10  # invoices one prepare task prepares and submits (sharing their environment's gateway)
COLLECT = lifecycle.EnvironmentRun("sending_enabled", "collect_lease_until", COLLECT_LEASE)
# Submitting to eConnect: READY or due RETRY_WAIT → SUBMITTING (reference saved) → SUBMITTED, RETRY_WAIT or FAILED.
SUBMISSION = lifecycle.RemoteStep(
    OutgoingInvoice,
    "outgoing_invoice",
    Status.SUBMITTING,
    "submit",
    "outgoing.temporary_failure",
    "outgoing.submit",
    ends_work=True,
)
# AFAS itself sends to debtors with these issue methods (InPv): C = via AFAS's Peppol access point,
# F = via AFAS's own eConnect link. The portal must not send those invoices a second time.
AFAS_SENDS_ITSELF = {"C": "outgoing.afas_sends_via_access_point", "F": "outgoing.afas_sends_via_econnect_link"}
FINAL_STATUSES = status_follow.FINAL_STATUSES


# --- transitions ----------------------------------------------------------------------------------------------


def _transition(invoice: OutgoingInvoice, *, system_actor: str = "sending", **kwargs) -> bool:
    return lifecycle.transition(invoice, subject="outgoing_invoice", system_actor=system_actor, **kwargs)


# --- collect ----------------------------------------------------------------------------------------------------


def outgoing_dispatch_collects(*, now: datetime | None = None) -> list[int]:
    """The environments with sending on whose collect is due; each is given its next due time (so it is picked once)."""
    return lifecycle.environments_due(enabled_field="sending_enabled", next_field="next_collect_at", now=now)


@dataclass(frozen=True)
class CollectResult:
    created: int
    skipped_existing: int
    cursor: str
    ran: bool = True


def outgoing_collect(*, environment: Environment) -> CollectResult:
    """Read new issued sales invoices from AFAS and store each once; the cursor moves only after they are committed."""
    return COLLECT.run(environment, _collect, idle=CollectResult(0, 0, "", ran=False))


def _collect(environment: Environment) -> CollectResult:
    cursor, _ = SyncCursor.objects.get_or_create(environment=environment, stream=SyncCursor.Stream.SALES_INVOICES)
    after = int(cursor.position or 0)
    created = skipped = 0
    with clients.afas_client_for(environment) as afas:
        items = afas.sales_invoice_items(after_subject_id=after)
        contacts = _debtor_contacts(
            afas, environment, {item.organisation_code for item in items if item.organisation_code}
        )
        for start in range(0, len(items), COLLECT_CHUNK):
            chunk = items[start : start + COLLECT_CHUNK]
            stored, already = _collect_chunk(afas, environment, chunk, contacts, cursor)
            created, skipped = created + stored, skipped + already
            after = max(after, *(item.subject_id for item in chunk))
    return CollectResult(created, skipped, str(after))


def _collect_chunk(afas, environment: Environment, items, contacts: dict, cursor: SyncCursor) -> tuple[int, int]:
    """Download the chunk's new invoices, then store them, their timeline entries and the cursor past the chunk in
    one transaction (the cursor is never ahead of what is stored; a failed download stores none of the chunk, and
    the next collect reads it again). Returns (stored, already stored)."""
    identities = {item.subject_id: f"dossier:{item.subject_id}" for item in items}
    known = set(
        OutgoingInvoice.objects.filter(environment=environment, afas_identity__in=identities.values()).values_list(
            "afas_identity", flat=True
        )
    )
    new = []
    for item in items:
        attachment = item.ubl_attachment
        if attachment is None:
            logger.warning("Dossier item %s of environment %s has no UBL attachment", item.subject_id, environment.pk)
        elif identities[item.subject_id] not in known:
            ubl = afas.download_attachment(item.subject_id, attachment.file_id).content
            contact = contacts.get(item.organisation_code)
            invoice = OutgoingInvoice(
                environment=environment,
                afas_identity=identities[item.subject_id],
                ubl=ubl,
                sha256=hashlib.sha256(ubl).hexdigest(),
                contact=contact,
                afas_organisation_code=item.organisation_code,
                afas_issue_method=getattr(contact, "issue_method", ""),
                customer_name=item.subject[:255],
            )
            new.append((item, invoice))
    with transaction.atomic():
        invoices = OutgoingInvoice.objects.bulk_create([invoice for _, invoice in new])
        events_record(
            [
                event_build(
                    environment=environment,
                    outgoing_invoice=invoice,
                    kind=EventKind.COLLECTED,
                    to_status=Status.NEW,
                    message=Msg("outgoing.collected", subject_id=str(item.subject_id)),
                    system_actor="collect",
                )
                for item, invoice in new
            ]
        )
        SyncCursor.objects.filter(pk=cursor.pk).update(position=str(max(item.subject_id for item in items)))
        lifecycle.enqueue("outgoing.prepare", *(invoice.pk for invoice in invoices), per_message=PREPARE_PER_TASK)
    return len(invoices), len(known)


def _debtor_contacts(afas, environment: Environment, organisation_codes: set[str]) -> dict:
    """The invoices' debtors as they are in AFAS now (issue method, identifiers), read in one batch and stored."""
    return {
        debtor.organisation_code: contact_upsert_debtor(environment=environment, debtor=debtor)
        for debtor in afas.debtors_by_organisation(organisation_codes)
    }


# --- prepare: validate and resolve the recipient -------------------------------------------------------------------


def outgoing_prepare_and_submit(*, invoice: OutgoingInvoice) -> OutgoingInvoice:
    """Prepare, and submit at once what became READY, in one task: READY and the start of the submission (its
    reference saved) are one transaction (the row is locked by the move to READY), then eConnect is called as for a
    queued submit."""
    outgoing_prepare_and_submit_many(invoices=[invoice])
    return invoice


def outgoing_prepare_and_submit_many(*, invoices: Iterable[OutgoingInvoice]) -> None:
    """``outgoing_prepare_and_submit`` for the invoices of one task: those of one environment share its sender, one
    eConnect gateway and the directory's answers, and their moves to SUBMITTING, then to SUBMITTED, are written
    together (``lifecycle.work_through``): every invoice is validated before the first is submitted."""
    lifecycle.work_through(invoices, partial(_prepare, submit_now=True), _submit_step, session_for=EnvironmentSending)


def _submit_step(invoice: OutgoingInvoice, sending: EnvironmentSending) -> lifecycle.Write | None:
    if invoice.status != Status.SUBMITTING:
        return None
    return _submission(invoice, sending, first_attempt=True)


def outgoing_prepare(*, invoice: OutgoingInvoice) -> OutgoingInvoice:
    """NEW → READY (valid, recipient found), NEEDS_ATTENTION (invalid or not on Peppol) or NOT_SENT (AFAS sends it).
    A READY invoice's submit is queued."""
    with EnvironmentSending(invoice.environment) as sending:
        write = _prepare(invoice, sending, submit_now=False)
        if write is not None:
            write()
    return invoice


def _prepare(invoice: OutgoingInvoice, sending: EnvironmentSending, *, submit_now: bool) -> lifecycle.Write | None:
    """``outgoing_prepare`` up to the move to READY, which it returns for the caller to write (None when the invoice
    is not new or its outcome is written: NEEDS_ATTENTION, NOT_SENT, tried again later). With ``submit_now`` the move
    goes on to SUBMITTING in the same statement, for the caller to submit."""
    if invoice.status != Status.NEW:
        return None
    ubl = bytes(invoice.ubl)
    try:
        summary = parse_document(ubl)
    except XmlRejected as exc:
        _needs_attention(
            invoice, ErrorKind.INVALID_DOCUMENT, Msg("outgoing.unreadable", reason=Bilingual.of(exc.message))
        )
        return None
    # What prepare learns (the summary, the validation, the lookups) is written with the status it leads to.
    recorded = _summary_fields(invoice, summary)
    document_type = recorded["document_type"]
    if invoice.afas_issue_method.upper() in AFAS_SENDS_ITSELF:
        reason = Msg(AFAS_SENDS_ITSELF[invoice.afas_issue_method.upper()])
        _transition(
            invoice,
            from_statuses=(Status.NEW,),
            to_status=Status.NOT_SENT,
            message=Msg("outgoing.not_sent", reason=reason, method=invoice.afas_issue_method),
            system_actor="prepare",
            **recorded,
        )
        return None

    result = _validated(invoice, ubl, recorded)
    if result is None:
        return None

    if sending.blocker is not None:
        _needs_attention(invoice, ErrorKind.CREDENTIALS, sending.blocker, fields=recorded)
        return None
    try:
        resolution = resolve_recipient(
            summary=summary,
            directory=sending,
            document_type=_peppol_type(document_type),
            contact_identifiers=contact_candidate_identifiers(invoice.contact),
        )
    except CredentialDecryptionError:
        _needs_attention(invoice, ErrorKind.CREDENTIALS, Msg("outgoing.credentials_unreadable"), fields=recorded)
        return None
    except RemoteError as exc:
        _prepare_failed(invoice, exc, recorded)
        return None
    recorded["recipient_lookups"] = resolution.tried
    if resolution.recipient is None:
        _needs_attention(
            invoice,
            ErrorKind.RECIPIENT,
            Msg("outgoing.not_on_peppol", explanation=resolution.explanation_message),
            fields=recorded,
        )
        return None
    if invoice.environment.uses_psb and not _addressed_to(summary, resolution.recipient):
        result = _readdressed(invoice, summary, resolution.recipient, recorded)
        if result is None:
            return None
    return partial(
        _ready, invoice, resolution.recipient, recorded, unchecked=result.structural_only, submit_now=submit_now
    )


def _ready(
    invoice: OutgoingInvoice, recipient: PeppolIdentifier, recorded: dict, *, unchecked: bool, submit_now: bool
) -> None:
    """NEW → READY with what prepare learned. Its submit is queued, or (``submit_now``) started in the same
    transaction for the caller to make."""
    SUBMISSION.ready(
        invoice,
        from_statuses=(Status.NEW,),
        message=Msg("outgoing.ready_unchecked" if unchecked else "outgoing.ready", recipient=recipient.icd),
        start_now=_submission_start if submit_now else None,
        system_actor="prepare",
        recipient_scheme=recipient.scheme,
        recipient_value=recipient.value,
        last_error_kind="",
        last_error_code="",
        last_error_message="",
        **recorded,
    )


def _customer_endpoint(summary):
    return summary.customer.endpoint_id if summary.customer else None


def _addressed_to(summary, recipient: PeppolIdentifier) -> bool:
    endpoint = _customer_endpoint(summary)
    return endpoint is not None and (endpoint.scheme, endpoint.value) == (recipient.scheme, recipient.value)


def _readdressed(invoice: OutgoingInvoice, summary, recipient: PeppolIdentifier, recorded: dict):
    """eConnect PSB routes on the UBL's customer endpoint (a different ``receiverId`` is refused, API400.USRMS1):
    when the customer was found under another identifier than the one AFAS wrote, that identifier becomes the
    endpoint, the document is validated again and the change is on the timeline. None when it is not valid."""
    before = _customer_endpoint(summary)
    changed = with_customer_endpoint(bytes(invoice.ubl), recipient)
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(ubl=changed, sha256=hashlib.sha256(changed).hexdigest())
    invoice.ubl = changed
    event_record(
        environment=invoice.environment,
        outgoing_invoice=invoice,
        kind=EventKind.RECIPIENT_ADDRESS_SET,
        message=Msg("outgoing.endpoint_set", recipient=recipient.icd, before=str(before) if before else "-"),
        system_actor="prepare",
    )
    return _validated(invoice, changed, recorded)


def _summary_fields(invoice: OutgoingInvoice, summary) -> dict:
    """What the outbox shows of the document, read from the UBL (set on ``invoice``, not yet written)."""
    document_type = DocumentType.CREDIT_NOTE if summary.is_credit_note else DocumentType.INVOICE
    shown = {
        "document_type": document_type,
        "invoice_number": (summary.number or "")[:100],
        "issue_date": summary.issue_date,
        "customer_name": ((summary.customer.display_name if summary.customer else "") or invoice.customer_name)[:255],
        "currency": (summary.currency or "")[:3] if (summary.currency or "").isalpha() else "",
        "payable_amount": summary.totals.payable,
    }
    for name, value in shown.items():
        setattr(invoice, name, value)
    return shown


def _validated(invoice: OutgoingInvoice, ubl: bytes, recorded: dict):
    """The validation, its findings and rules added to ``recorded``; None (NEEDS_ATTENTION) when invalid."""
    result = get_validator().validate(ubl)
    recorded.update(
        validation_findings=[finding_as_dict(finding) for finding in result.findings],
        validated_at=timezone.now(),
        validation_rules=result.rules_version[:200],
    )
    if not result.valid:
        rules = ", ".join(sorted({f.rule_id for f in result.fatal})[:8])
        key = "outgoing.invalid_structure" if result.structural_only else "outgoing.invalid"
        _needs_attention(invoice, ErrorKind.INVALID_DOCUMENT, Msg(key, rules=rules), fields=recorded)
        return None
    return result


def _prepare_failed(invoice: OutgoingInvoice, exc: RemoteError, recorded: dict) -> None:
    """The recipient could not be looked up. Refused keys need a person; anything else is tried again later (the
    invoice stays new, with the reason shown, and the stalled-preparation sweep picks it up)."""
    if isinstance(exc, AuthenticationError | AccessDenied) or not exc.transient:
        _needs_attention(
            invoice, ErrorKind.CREDENTIALS, Msg("outgoing.directory_refused", detail=exc.message),
            code=exc.code or "", fields=recorded,
        )  # fmt: skip
        return
    OutgoingInvoice.objects.filter(pk=invoice.pk, status=Status.NEW).update(
        **recorded,
        last_error_kind=ErrorKind.TRANSIENT,
        last_error_code=(exc.code or "")[:50],
        **lifecycle.error_fields(Msg("outgoing.directory_unavailable", detail=exc.message)),
    )


def finding_as_dict(finding) -> dict:
    return {
        "rule_id": finding.rule_id,
        "severity": str(finding.severity),
        "message": finding.message,
        "location": finding.location,
        "hint_en": finding.hint.en if finding.hint else "",
        "hint_nl": finding.hint.nl if finding.hint else "",
    }


def _needs_attention(
    invoice: OutgoingInvoice,
    kind: str,
    message: Msg | str,
    *,
    code: str = "",
    from_statuses=(Status.NEW,),
    fields: dict | None = None,
):
    """→ NEEDS_ATTENTION with the reason; ``fields`` are written with it (what prepare learned)."""
    _transition(
        invoice,
        from_statuses=from_statuses,
        to_status=Status.NEEDS_ATTENTION,
        message=message,
        system_actor="sending",
        last_error_kind=kind,
        last_error_code=code[:50],
        last_error_message=message,
        next_attempt_at=None,
        **(fields or {}),
    )


def _peppol_type(document_type: str):
    from integrations.peppol.document_types import DocumentType as PeppolDocumentType

    return PeppolDocumentType(document_type)


# --- submit ---------------------------------------------------------------------------------------------------


def outgoing_submit(*, invoice: OutgoingInvoice, now: datetime | None = None) -> OutgoingInvoice:
    """READY or due RETRY_WAIT → SUBMITTING (reference saved) → SUBMITTED, RETRY_WAIT, NEEDS_ATTENTION or FAILED."""
    now = now or timezone.now()
    checked = EnvironmentSending(invoice.environment)
    if checked.blocker is not None:  # e.g. the keys were removed after the invoice was prepared
        _needs_attention(
            invoice, ErrorKind.CREDENTIALS, checked.blocker, from_statuses=(Status.READY, Status.RETRY_WAIT)
        )
        return invoice
    with transaction.atomic():
        claimed = SUBMISSION.claim(invoice, now=now)
        if claimed is None:
            return invoice
        first_attempt = not claimed.submission_reference
        SUBMISSION.start(claimed, starting=_submission_start, now=now)
    with checked.reread(claimed.environment) as sending:  # the claim read the keys as they are now
        _submission(claimed, sending, first_attempt=first_attempt)()
    return claimed


def _submission_start(claimed: OutgoingInvoice, *, now: datetime) -> tuple[Msg, dict]:
    """What going to SUBMITTING writes: its submission reference, saved before eConnect is called (a repeat finds
    it by that reference), and its message."""
    reference = claimed.submission_reference or uuid.uuid4().hex
    fields = {"submission_reference": reference, "submission_prepared_at": claimed.submission_prepared_at or now}
    return Msg("outgoing.submitting", attempt=claimed.attempts + 1, reference=reference), fields


def _submission(invoice: OutgoingInvoice, sending: EnvironmentSending, *, first_attempt: bool) -> lifecycle.Write:
    """The submission of an invoice in SUBMITTING (committed) to eConnect, once; returns the write of its outcome
    (SUBMITTED, or the failure) for the caller to make."""
    document = OutgoingDocument(
        reference=invoice.submission_reference,
        sender=sending.sender,
        recipient=PeppolIdentifier(invoice.recipient_scheme, invoice.recipient_value),
        payload=bytes(invoice.ubl),
        prepared_at=invoice.submission_prepared_at,
        invoice_number=invoice.invoice_number,
        issue_date=invoice.issue_date,
        credit_note=invoice.document_type == DocumentType.CREDIT_NOTE,
    )
    try:
        # After any earlier attempt, eConnect may already have the document: look before sending again.
        sent = sending.gateway().send_once(document, check_first=not first_attempt)
    except RemoteError as exc:
        return partial(_submit_failed, invoice, exc)
    except CredentialDecryptionError:  # nothing was sent: the keys could not even be read
        message = Msg("outgoing.credentials_unreadable")
        return partial(_needs_attention, invoice, ErrorKind.CREDENTIALS, message, from_statuses=(Status.SUBMITTING,))
    accepted, now = Msg("outgoing.accepted", document_id=sent.external_id), timezone.now()
    return partial(SUBMISSION.done, invoice, Status.SUBMITTED, accepted, econnect_document_id=sent.external_id[:100],
                   submitted_at=now, next_attempt_at=now + timedelta(seconds=30))  # fmt: skip


def sender_identifier(environment: Environment) -> PeppolIdentifier:
    """``own_sender``, which must exist."""
    sender = own_sender(environment)
    if sender is None:
        raise PermanentError(Msg("outgoing.no_sender").render())
    return sender


def _submit_failed(invoice: OutgoingInvoice, exc: RemoteError) -> None:
    code = (exc.code or "")[:50]
    if isinstance(exc, UnknownRecipient):
        _needs_attention(
            invoice,
            ErrorKind.RECIPIENT,
            Msg("outgoing.unknown_recipient", detail=exc.message),
            code=code,
            from_statuses=(Status.SUBMITTING,),
        )
    elif isinstance(exc, DocumentRejected):
        _needs_attention(
            invoice,
            ErrorKind.INVALID_DOCUMENT,
            Msg("outgoing.refused", detail=exc.message),
            code=code,
            from_statuses=(Status.SUBMITTING,),
        )
    elif isinstance(exc, AuthenticationError | AccessDenied):
        _needs_attention(
            invoice,
            ErrorKind.CREDENTIALS,
            Msg("outgoing.keys_refused", detail=exc.message),
            code=code,
            from_statuses=(Status.SUBMITTING,),
        )
    else:
        refused = None if exc.transient else (ErrorKind.PERMANENT, Msg("outgoing.refused", detail=exc.message))
        SUBMISSION.failed(invoice, exc, permanent=refused)


# --- recovery and people's actions -----------------------------------------------------------------------------------


def outgoing_sweep_stuck(*, now: datetime | None = None) -> int:
    """Submits whose worker died leave the invoice in SUBMITTING: return them to a retry that looks first."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.DOCUMENT_STUCK_AFTER_SECONDS)
    swept = 0
    for invoice in OutgoingInvoice.objects.filter(status=Status.SUBMITTING, status_changed_at__lt=stuck_before):
        if _transition(
            invoice,
            from_statuses=(Status.SUBMITTING,),
            to_status=Status.RETRY_WAIT,
            message=Msg("outgoing.swept"),
            system_actor="sweeper",
            next_attempt_at=now,
        ):
            swept += 1
    return swept


RETRYABLE_BY_PEOPLE = (Status.NEEDS_ATTENTION, Status.FAILED, Status.RETRY_WAIT, Status.REJECTED)


def outgoing_retry(*, invoice: OutgoingInvoice, actor: User, reason: str = "") -> bool:
    """A person asks to try again: validation and recipient are checked anew; a reference already used is kept."""
    reason = checked_reason(reason, required=None)
    target = Status.NEW if not invoice.submission_reference else Status.READY
    moved = _transition(
        invoice,
        from_statuses=RETRYABLE_BY_PEOPLE,
        to_status=target,
        message=Msg("document.retry_requested"),
        actor=actor,
        reason=reason,
        next_attempt_at=timezone.now(),
        completed_at=None,
    )
    if moved:
        lifecycle.enqueue("outgoing.prepare" if target == Status.NEW else "outgoing.submit", invoice.pk)
    return moved


RESOLVABLE_BY_PEOPLE = (
    Status.NEEDS_ATTENTION,
    Status.FAILED,
    Status.REJECTED,
    Status.STALE,
    Status.RETRY_WAIT,
    Status.NOT_SENT,
)


def outgoing_resolve_manually(*, invoice: OutgoingInvoice, actor: User, reason: str) -> bool:
    reason = checked_reason(reason, required=gettext("Say why the invoice is resolved manually."))
    return _transition(
        invoice,
        from_statuses=RESOLVABLE_BY_PEOPLE,
        to_status=Status.RESOLVED_MANUALLY,
        message=Msg("document.resolved_manually"),
        actor=actor,
        reason=reason,
        next_attempt_at=None,
        completed_at=timezone.now(),
    )
