"""Typed inputs and outputs of the eConnect gateway. Nothing here knows about SOAP or REST."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import PeppolIdentifier


@dataclass(frozen=True)
class OutgoingDocument:
    """One UBL invoice or credit note to send, with the reference the portal saved *before* the first attempt.

    ``reference`` is our idempotency id (a UUID). A REST implementation sends it as ``X-EConnect-DocumentId``;
    the platform SOAP API has no field for it and recognises a document by sender + invoice number + issue date
    (see ``PlatformSoapGateway.find_sent_document``). ``prepared_at`` is when the reference was saved: a search of
    the outbox for this document starts there.
    """

    reference: str
    sender: PeppolIdentifier
    recipient: PeppolIdentifier
    payload: bytes
    prepared_at: datetime
    fallback_email: str = ""
    # What the portal already stored of the document; given, the gateway does not read it from the payload again.
    invoice_number: str = ""
    issue_date: date | None = None
    credit_note: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


class OutboxState(StrEnum):
    ACCEPTED = "accepted"  # eConnect has it and will route it
    IN_PROGRESS = "in_progress"  # being routed / sent over Peppol
    DELIVERED = "delivered"  # the receiving access point or inbox has it
    FAILED = "failed"  # delivery failed for good
    REJECTED = "rejected"  # the receiver rejected it
    UNKNOWN = "unknown"  # a status this client does not know; ``name`` and ``code`` say what eConnect said

    @property
    def is_final(self) -> bool:
        return self in (OutboxState.DELIVERED, OutboxState.FAILED, OutboxState.REJECTED)


class DeliveryMethod(StrEnum):
    TO_INBOX = "ToInbox"
    TO_PEPPOL = "ToPeppol"
    TO_EMAIL = "ToEmail"
    OUTBOX_ONLY = "OutboxOnly"
    NONE = "None"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class OutboxStatus:
    external_id: str
    state: OutboxState
    name: str  # eConnect's own words, shown to the user
    code: str
    changed_on: datetime | None


@dataclass(frozen=True)
class SentDocument:
    """A document eConnect has in its outbox. ``external_id`` is the proof it was accepted."""

    external_id: str
    reference: str
    subject: str
    created_on: datetime | None
    status: OutboxStatus | None = None
    delivery_method: DeliveryMethod = DeliveryMethod.UNKNOWN


class InboxState(StrEnum):
    NEW = "new"  # delivered to the inbox, not yet picked up
    READ = "read"
    PROCESSED = "processed"  # safely in AFAS
    APPROVED = "approved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # eConnect's own duplicate flag: held back until released ("mark as original")
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DocumentParty:
    econnect_party_id: str
    name: str


@dataclass(frozen=True)
class InboxDocumentSummary:
    external_id: str
    subject: str
    created_on: datetime | None
    modified_on: datetime | None
    sender: DocumentParty | None
    receiver: DocumentParty | None
    state: InboxState
    status_name: str
    status_code: str

    @property
    def flagged_duplicate(self) -> bool:
        return self.state is InboxState.DUPLICATE


@dataclass(frozen=True)
class InboxPage:
    documents: tuple[InboxDocumentSummary, ...]
    next_page: str | None  # pass back as ``page`` for the next page; None when this was the last


@dataclass(frozen=True)
class StatusOption:
    """One status a document's template allows (GetInboxDocument ``Statuses``), as eConnect wrote it."""

    code: str
    name: str


@dataclass(frozen=True)
class InboxDocument:
    """One received document. ``payload`` is the document exactly as eConnect hands it over (SOAP: without prolog).
    ``allowed_statuses``: the statuses ``SetInboxDocumentStatus`` accepts for it."""

    summary: InboxDocumentSummary
    payload: bytes
    allowed_statuses: tuple[StatusOption, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


class Reachability(StrEnum):
    REGISTERED = "registered"
    NOT_REGISTERED = "not_registered"
    OTHER_DOCUMENT_TYPES_ONLY = "other_document_types_only"  # registered, but cannot receive this document type


class AccessPoint(StrEnum):
    ECONNECT = "econnect"
    AFAS = "afas"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeliveryOption:
    identifier: PeppolIdentifier
    document_type_id: str
    document_type: DocumentType | None  # None for document types other than UBL invoice / credit note
    process_id: str
    protocol: str
    endpoint_url: str
    access_point: AccessPoint


@dataclass(frozen=True)
class ParticipantLookup:
    """What the Peppol directory says about one candidate identifier for one document type."""

    identifier: PeppolIdentifier
    reachability: Reachability
    document_types: tuple[DocumentType, ...] = ()
    access_point: AccessPoint = AccessPoint.UNKNOWN
    endpoint_url: str = ""


@dataclass(frozen=True)
class LookupResult:
    document_type: DocumentType
    participants: tuple[ParticipantLookup, ...] = field(default_factory=tuple)

    @property
    def best(self) -> ParticipantLookup | None:
        """The first candidate (in the caller's order of preference) that can receive this document type."""
        return next((p for p in self.participants if p.reachability is Reachability.REGISTERED), None)


# --- reconciliation: what eConnect holds, read back --------------------------------------------------------------


@dataclass(frozen=True)
class OutboxDocumentSummary:
    """One outbox document as the outbox listing shows it. ``status`` is None when the listing leaves it out."""

    external_id: str
    subject: str
    created_on: datetime | None
    modified_on: datetime | None
    receiver: DocumentParty | None
    status: OutboxStatus | None
    delivery_method: DeliveryMethod = DeliveryMethod.UNKNOWN

    @property
    def invoice_number(self) -> str:
        """The platform sets the subject to "{template} {invoiceid}": the number is what follows the first word."""
        _, _, number = self.subject.strip().partition(" ")
        return number.strip()


@dataclass(frozen=True)
class OutboxPage:
    documents: tuple[OutboxDocumentSummary, ...]
    next_page: str | None  # pass back as ``page`` for the next page; None when this was the last


@dataclass(frozen=True)
class OutboxDocument:
    """One sent document with the payload eConnect holds for it."""

    summary: OutboxDocumentSummary
    payload: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()
