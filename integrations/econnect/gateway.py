"""The eConnect gateway the portal codes against. Typed in, typed out; no SOAP or REST detail leaks through.

Implementations: ``PlatformSoapGateway`` (platform SOAP API v3.1, App Key + Secret) and ``PsbGateway`` (PSB REST
API v1: OAuth2, ``X-EConnect-DocumentId`` idempotent send, webhooks instead of inbox listings).
Errors are those of ``integrations.econnect.errors`` / ``integrations.http``: check ``.transient``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from integrations.econnect.models import (
    InboxDocument,
    InboxPage,
    InboxState,
    LookupResult,
    OutboxDocument,
    OutboxPage,
    OutboxStatus,
    OutgoingDocument,
    SentDocument,
)
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import PeppolIdentifier


@runtime_checkable
class EConnectGateway(Protocol):
    def login(self) -> None:
        """Check the credentials now (e.g. "test connection"); other calls log in by themselves when needed."""

    def send_document(self, document: OutgoingDocument) -> SentDocument:
        """Send once. After a timeout or crash do NOT call this again blindly: use ``send_once(check_first=True)``."""

    def find_sent_document(self, document: OutgoingDocument) -> SentDocument | None:
        """The outbox document eConnect already has for this outgoing document, or None."""

    def send_once(self, document: OutgoingDocument, *, check_first: bool) -> SentDocument:
        """Send unless eConnect already has it. ``check_first`` after any attempt whose outcome is unknown."""

    def outbox_status(self, external_id: str) -> OutboxStatus: ...

    @property
    def receive_template_ids(self) -> tuple[str, ...]:
        """The document templates (MasterTemplateIds) the inbox is read for."""

    def list_inbox_documents(
        self,
        *,
        state: InboxState | None = InboxState.NEW,
        page: str | None = None,
        limit: int = 25,
        since: datetime | None = None,
        template_id: str | None = None,
    ) -> InboxPage:
        """One page of this environment's inbox documents in ``state`` (NEW: not yet picked up; DUPLICATE: held back
        by eConnect), created at or after ``since``, of the template ``template_id``."""

    def get_inbox_document(self, external_id: str) -> InboxDocument: ...

    def set_inbox_document_status(self, external_id: str, code: str) -> None:
        """Report back with one of the document's allowed statuses (``InboxDocument.allowed_statuses``), e.g. the
        one ``statuses.acknowledgement_status`` picks once the document is safely in AFAS."""

    def list_outbox_documents(self, *, since: datetime, page: str | None = None, limit: int = 100) -> OutboxPage:
        """One page of the outbox since ``since`` (reconciliation); each document with the status listed."""

    def get_outbox_document(self, external_id: str) -> OutboxDocument:
        """One sent document with its payload (reconciliation records a document the portal never saw)."""

    def list_inbox_documents_since(
        self, *, since: datetime, state: InboxState | None = None, page: str | None = None, limit: int = 100
    ) -> InboxPage:
        """One page of inbox documents created since ``since``, in ``state`` or every listed state (reconciliation)."""

    def look_up_participants(
        self, candidates: Sequence[PeppolIdentifier], document_type: DocumentType
    ) -> LookupResult: ...
