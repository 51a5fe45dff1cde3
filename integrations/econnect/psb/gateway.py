"""``EConnectGateway`` over eConnect's PSB REST API v1, for environments that hold PSB credentials.

Sending is exactly-once by construction: the portal's saved reference is the ``X-EConnect-DocumentId``, so a repeat
after a crash is answered 409 ("already processed") and counts as sent; no outbox search is needed. PSB has no
endpoint that lists received documents (contract.md section 8): receiving is driven by the ``InvoiceReceived``
webhook, so the inbox listings of the SOAP API are not available here and say so with ``NotAvailableOverPsb``.
Recipients are asked of eConnect itself (``queryRecipientParty``), not of the public lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from integrations.econnect.errors import SERVICE, DocumentNotFound, SenderNotAllowed
from integrations.econnect.models import (
    InboxDocument,
    InboxDocumentSummary,
    InboxPage,
    InboxState,
    LookupResult,
    OutboxDocument,
    OutboxPage,
    OutboxState,
    OutboxStatus,
    OutgoingDocument,
    ParticipantLookup,
    Reachability,
    SentDocument,
)
from integrations.econnect.psb.client import PsbClient
from integrations.econnect.psb.models import Hook, InvoiceResponse, state_of
from integrations.http import PermanentError
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import IdentifierSyntaxError, PeppolIdentifier, parse_identifier


class NotAvailableOverPsb(PermanentError):
    """The operation exists only in the SOAP platform API (e.g. listing the inbox); over PSB the portal learns of
    received documents by webhook."""


class PsbGateway:
    def __init__(self, client: PsbClient):
        self._client = client

    def __repr__(self) -> str:
        return f"<PsbGateway party={self._client.party_id}>"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PsbGateway:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def login(self) -> None:
        """The credentials work and may act for the environment's party ("test connection")."""
        parties = self._client.parties()
        wanted = _canonical(self._client.party_id)
        if not any(_canonical(party.id) == wanted for party in parties):
            held = ", ".join(party.id for party in parties) or "none"
            raise SenderNotAllowed(
                f"These PSB credentials may not act for {self._client.party_id} (they may act for: {held}).",
                service=SERVICE,
            )

    # --- sending -------------------------------------------------------------------------------------------------

    def send_document(self, document: OutgoingDocument) -> SentDocument:
        result = self._client.send_sales_invoice(document.payload, document_id=_document_id(document))
        return SentDocument(
            external_id=result.document_id,
            reference=document.reference,
            subject=document.invoice_number,
            created_on=None,
            status=OutboxStatus(result.document_id, OutboxState.ACCEPTED, "Pending", "", None),
        )

    def send_once(self, document: OutgoingDocument, *, check_first: bool) -> SentDocument:
        """Idempotent by the document id: a repeat is answered 409 and returns the same document."""
        return self.send_document(document)

    def find_sent_document(self, document: OutgoingDocument) -> SentDocument | None:
        document_id = _document_id(document)
        try:
            history = self._client.sales_invoice_status(document_id)
        except DocumentNotFound:
            return None
        return SentDocument(
            external_id=document_id,
            reference=document.reference,
            subject=document.invoice_number,
            created_on=history[0].created_on if history else None,
            status=self.outbox_status_from(document_id, history),
        )

    def outbox_status(self, external_id: str) -> OutboxStatus:
        return self.outbox_status_from(external_id, self._client.sales_invoice_status(external_id))

    @staticmethod
    def outbox_status_from(external_id: str, history) -> OutboxStatus:
        if not history:
            return OutboxStatus(external_id, OutboxState.ACCEPTED, "Pending", "", None)
        latest = max(history, key=lambda status: (status.created_on is not None, status.created_on))
        return OutboxStatus(external_id, state_of(latest.name), latest.name, latest.id, latest.created_on)

    def look_up_participants(self, candidates: Sequence[PeppolIdentifier], document_type: DocumentType) -> LookupResult:
        """eConnect's own answer to "who of these can receive it": ``queryRecipientParty`` with every candidate in
        one call, preferring the document type. [GUESS G-PSB-9] eConnect answers the first reachable candidate in
        the order given, and only one that can receive the preferred document type; so the candidates before it
        cannot receive, and those after it were not judged (left out)."""
        if not candidates:
            return LookupResult(document_type)
        found = self._client.query_recipient_party(
            [candidate.icd for candidate in candidates], preferred_document_type_id=document_type.peppol_id
        )
        chosen = _identifier_or_none(found)
        participants: list[ParticipantLookup] = []
        for candidate in candidates:
            if candidate == chosen:
                break
            participants.append(ParticipantLookup(candidate, Reachability.NOT_REGISTERED))
        if chosen is not None:
            participants.append(ParticipantLookup(chosen, Reachability.REGISTERED, (document_type,)))
        return LookupResult(document_type, tuple(participants))

    # --- webhooks and responses -----------------------------------------------------------------------------------

    def put_hook(self, hook: Hook) -> Hook:
        return self._client.put_hook(hook)

    def send_invoice_response(self, external_id: str, response: InvoiceResponse, *, response_document_id: str) -> str:
        return self._client.send_invoice_response(external_id, response, response_document_id=response_document_id)

    def remove_received_document(self, external_id: str) -> None:
        """Delete a received document at eConnect (only once AFAS accepted it); already gone counts as done."""
        self._client.delete_purchase_invoice(external_id)

    # --- receiving: by webhook, then by document id ---------------------------------------------------------------

    @property
    def receive_template_ids(self) -> tuple[str, ...]:
        return ()

    def get_inbox_document(self, external_id: str) -> InboxDocument:
        payload = self._client.download_purchase_invoice(external_id)
        summary = InboxDocumentSummary(
            external_id=external_id,
            subject="",
            created_on=None,
            modified_on=None,
            sender=None,
            receiver=None,
            state=InboxState.NEW,
            status_name="",
            status_code="",
        )
        return InboxDocument(summary=summary, payload=payload)

    def list_inbox_documents(self, **kwargs) -> InboxPage:
        raise _not_available("listing the inbox")

    def set_inbox_document_status(self, external_id: str, code: str) -> None:
        raise _not_available("setting an inbox status")

    def list_outbox_documents(self, *, since: datetime, page: str | None = None, limit: int = 100) -> OutboxPage:
        raise _not_available("listing the outbox")

    def get_outbox_document(self, external_id: str) -> OutboxDocument:
        raise _not_available("reading a sent document back")

    def list_inbox_documents_since(self, **kwargs) -> InboxPage:
        raise _not_available("listing the inbox")


def _document_id(document: OutgoingDocument) -> str:
    """The portal's reference (saved before the first attempt) is the PSB document id."""
    return document.reference


def _identifier_or_none(party_id: str | None) -> PeppolIdentifier | None:
    """eConnect's answer (``NL:KVK:…`` or ``0106:…``) as an identifier; an answer that is none is no recipient."""
    if not party_id:
        return None
    try:
        return parse_identifier(party_id)
    except IdentifierSyntaxError:
        return None


def _canonical(party_id: str) -> str:
    try:
        return parse_identifier(party_id).icd
    except IdentifierSyntaxError:
        return party_id.strip().lower()


def _not_available(what: str) -> NotAvailableOverPsb:
    return NotAvailableOverPsb(
        f"eConnect's PSB API has no call for {what}; the portal learns of received documents by webhook.",
        service=SERVICE,
    )
