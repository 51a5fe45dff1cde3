"""eConnect platform status codes and what they mean to us.

Inbox codes 10..50 are documented (SDK tests of theinvoicingcompany/eConnect-API, development.everbinding.nl
"document"); they are template-dependent, which is why GetInboxDocument returns the allowed ones. The outbox codes
and the inbox "Duplicate" code are not published: [GUESS], shared with the simulator. The client also maps by name,
so a real platform that uses other codes but the documented names still reads correctly.
"""

from __future__ import annotations

from integrations.econnect.models import InboxState, OutboxState

INBOX_CODES: dict[InboxState, tuple[str, str]] = {
    InboxState.NEW: ("10", "Afgeleverd"),
    InboxState.READ: ("20", "Gelezen"),
    InboxState.PROCESSED: ("30", "Verwerkt"),
    InboxState.APPROVED: ("40", "Goedgekeurd"),
    InboxState.REJECTED: ("50", "Afgewezen"),
    InboxState.DUPLICATE: ("60", "Duplicaat"),  # [GUESS] code; the platform UI shows "Duplicate"
}

OUTBOX_CODES: dict[OutboxState, tuple[str, str]] = {
    OutboxState.ACCEPTED: ("10", "Klaar voor verwerking"),  # name seen in the platform docs; code [GUESS]
    OutboxState.IN_PROGRESS: ("20", "In behandeling"),  # [GUESS]
    OutboxState.DELIVERED: ("30", "Afgeleverd"),  # [GUESS]
    OutboxState.FAILED: ("40", "Afleveren mislukt"),  # [GUESS]
    OutboxState.REJECTED: ("50", "Afgewezen"),  # [GUESS]
}

_INBOX_NAMES = {
    "afgeleverd": InboxState.NEW,
    "received": InboxState.NEW,
    "gelezen": InboxState.READ,
    "downloaded": InboxState.READ,
    "verwerkt": InboxState.PROCESSED,
    "processed": InboxState.PROCESSED,
    "goedgekeurd": InboxState.APPROVED,
    "approved": InboxState.APPROVED,
    "afgewezen": InboxState.REJECTED,
    "rejected": InboxState.REJECTED,
    "duplicaat": InboxState.DUPLICATE,
    "duplicate": InboxState.DUPLICATE,
}
_OUTBOX_NAMES = {
    "klaar voor verwerking": OutboxState.ACCEPTED,
    "created": OutboxState.ACCEPTED,
    "in behandeling": OutboxState.IN_PROGRESS,
    "afgeleverd": OutboxState.DELIVERED,
    "received": OutboxState.DELIVERED,
    "delivered": OutboxState.DELIVERED,
    "afleveren mislukt": OutboxState.FAILED,
    "delivery failed": OutboxState.FAILED,
    "failed": OutboxState.FAILED,
    "afgewezen": OutboxState.REJECTED,
    "rejected": OutboxState.REJECTED,
}


def inbox_state(code: str, name: str) -> InboxState:
    """Names win over codes: codes are per template, the names are what people see."""
    by_name = _INBOX_NAMES.get(name.strip().lower())
    if by_name is not None:
        return by_name
    return next((state for state, (c, _) in INBOX_CODES.items() if c == code), InboxState.UNKNOWN)


def outbox_state(code: str, name: str) -> OutboxState:
    by_name = _OUTBOX_NAMES.get(name.strip().lower())
    if by_name is not None:
        return by_name
    return next((state for state, (c, _) in OUTBOX_CODES.items() if c == code), OutboxState.UNKNOWN)


def inbox_code(state: InboxState) -> str:
    if state not in INBOX_CODES:
        raise ValueError(f"No eConnect inbox status for {state}")
    return INBOX_CODES[state][0]
