"""Typed values of eConnect's PSB REST API v1 that the gateway models do not already have: webhook events, document
status history, Invoice Responses and hooks.

Facts from ``/work/shared/specs/econnect/psb/contract.md`` (sections 3, 4 and 6), which cites eConnect's .NET SDK
(theinvoicingcompany/econnect-psb-dotnet) and the vendor's documentation pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from integrations.econnect.models import OutboxState


class Topic(StrEnum):
    """Webhook topics [DOC-psb endpoints/v1/hook.html; DOC-prod document-flow-and-status]."""

    INVOICE_RECEIVED = "InvoiceReceived"
    INVOICE_RECEIVED_ERROR = "InvoiceReceivedError"
    INVOICE_SENT = "InvoiceSent"
    INVOICE_SENT_ERROR = "InvoiceSentError"  # permanent
    INVOICE_SENT_RETRY = "InvoiceSentRetry"  # temporary: eConnect tries again
    INVOICE_RESPONSE_RECEIVED = "InvoiceResponseReceived"
    MESSAGE_LEVEL_STATUS_RECEIVED = "MessageLevelStatusReceived"
    MESSAGE_LEVEL_STATUS_SENT = "MessageLevelStatusSent"
    HOOK_SENT = "HookSent"
    HOOK_SENT_RETRY = "HookSentRetry"
    HOOK_SENT_ERROR = "HookSentError"


# What the portal subscribes to: received invoices, the fate of sent ones, and the customer's responses.
PORTAL_TOPICS: tuple[str, ...] = (
    Topic.INVOICE_RECEIVED,
    Topic.INVOICE_RECEIVED_ERROR,
    Topic.INVOICE_SENT,
    Topic.INVOICE_SENT_ERROR,
    Topic.INVOICE_SENT_RETRY,
    Topic.INVOICE_RESPONSE_RECEIVED,
    Topic.MESSAGE_LEVEL_STATUS_RECEIVED,
)


@dataclass(frozen=True)
class WebhookEvent:
    """One webhook delivery, read from the raw body only after its signature was checked.

    ``topic`` is kept as eConnect wrote it (``known_topic`` is None for a topic this client does not know)."""

    topic: str
    party_id: str
    hook_id: str
    document_id: str
    message: str
    details: dict[str, str]
    created_on: datetime | None
    sent_on: datetime | None

    @property
    def known_topic(self) -> Topic | None:
        try:
            return Topic(self.topic)
        except ValueError:
            return None

    @property
    def key(self) -> str:
        """The same event delivered twice has the same key (a retry of a hook re-signs and re-stamps ``sentOn``)."""
        created = self.created_on.isoformat() if self.created_on else ""
        return f"{self.topic}|{self.document_id}|{created}"


@dataclass(frozen=True)
class DocumentStatus:
    """One entry of ``GET …/{documentId}/status`` (``[{id, name, description, createdOn}]``)."""

    id: str
    name: str
    description: str
    created_on: datetime | None


# [GUESS G-PSB-4] The live ``name`` vocabulary is unpublished; these are the canonical statuses of the newer docs
# (DOC-prod document-flow-and-status). Any other name is UNKNOWN: shown as written, flagged, never guessed.
PSB_STATUS_STATES: dict[str, OutboxState] = {
    "pending": OutboxState.ACCEPTED,
    "validated": OutboxState.ACCEPTED,
    "routed": OutboxState.IN_PROGRESS,
    "acknowledged": OutboxState.IN_PROGRESS,
    "delivered": OutboxState.DELIVERED,
    "rejected": OutboxState.REJECTED,
    "failed": OutboxState.FAILED,
}


def state_of(name: str) -> OutboxState:
    return PSB_STATUS_STATES.get(name.strip().lower(), OutboxState.UNKNOWN)


class ResponseStatus(StrEnum):
    """Invoice Response status codes (UNCL 4343 subset) as eConnect documents them [DOC-psb sendResponse.html]."""

    ACKNOWLEDGED = "AB"
    IN_PROCESS = "IP"
    UNDER_QUERY = "UQ"
    CONDITIONALLY_ACCEPTED = "CA"
    REJECTED = "RE"
    ACCEPTED = "AP"
    PAID = "PD"


class ResponseReason(StrEnum):
    NO_ISSUE = "NON"
    REFERENCES_INCORRECT = "REF"
    LEGAL_INFORMATION_INCORRECT = "LEG"
    CREDIT_FULLY = "CNF"
    RECEIVER_UNKNOWN = "REC"
    ITEM_QUALITY = "QUA"
    DELIVERY_ISSUES = "DEL"
    PRICES_INCORRECT = "PRI"
    QUANTITY_INCORRECT = "QTY"
    ITEMS_INCORRECT = "ITM"
    PAYMENT_TERMS_INCORRECT = "PAY"
    NOT_RECOGNIZED = "UNR"
    FINANCE_INCORRECT = "FIN"
    PARTIALLY_PAID = "PPD"
    OTHER = "OTH"


class ResponseAction(StrEnum):
    NO_ACTION = "NOA"
    PROVIDE_INFORMATION = "PIN"
    ISSUE_NEW_INVOICE = "NIN"
    CREDIT_FULLY = "CNF"
    CREDIT_PARTIALLY = "CNP"
    CREDIT_AMOUNT = "CNA"
    OTHER = "OTH"


# Reasons are required for these statuses [DOC-psb purchaseInvoice.html].
REASON_REQUIRED = frozenset(
    {ResponseStatus.UNDER_QUERY, ResponseStatus.CONDITIONALLY_ACCEPTED, ResponseStatus.REJECTED}
)


@dataclass(frozen=True)
class InvoiceResponse:
    """The body of ``POST …/purchaseInvoice/{d}/response``: the codes, as eConnect's own SDK sends them."""

    status: ResponseStatus
    reasons: dict[ResponseReason, str] = field(default_factory=dict)
    actions: dict[ResponseAction, str] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        if self.status in REASON_REQUIRED and not self.reasons:
            raise ValueError(f"An Invoice Response {self.status.value} needs at least one reason.")

    def as_json(self) -> dict:
        body: dict = {"status": self.status.value}
        if self.reasons:
            body["reasons"] = {reason.value: text for reason, text in self.reasons.items()}
        if self.actions:
            body["actions"] = {action.value: text for action, text in self.actions.items()}
        if self.note:
            body["note"] = self.note
        return body


def portal_hook_id(participant: str, environment_type: str) -> str:
    """The id of the hook an AFAS environment registers: stable, so connecting again updates that hook rather than
    adding a second one (eConnect keeps a hook's delivery state)."""
    return f"portal-{participant}-{environment_type}"[:64]


@dataclass(frozen=True)
class Hook:
    """A webhook subscription (``PUT /api/v1/{partyId}/hook``): eConnect POSTs the topics to ``action``, whose URL
    fragment (``#secret``) is the signing secret [DOC-accp receive-invoice]."""

    id: str
    name: str
    action: str
    topics: tuple[str, ...]
    is_active: bool = True

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "action": self.action,
            "topics": list(self.topics),
            "isActive": self.is_active,
        }


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def plain_text(value: object, *, limit: int) -> str:
    """A text eConnect sent, as the portal stores it: control characters (NUL included, which PostgreSQL refuses in
    text) become spaces, runs of spaces one, at most ``limit`` characters."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())[:limit] if value is not None else ""


def has_control_characters(value: object) -> bool:
    return bool(_CONTROL.search(str(value or "")))
