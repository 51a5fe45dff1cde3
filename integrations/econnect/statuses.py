"""eConnect platform status codes and names, and what each means to the portal: one table, with the source of each.

Sources (summarised in /work/shared/specs/econnect/soap-notes.md sections 4 and 5):
- ``kb-invoice``: development.everbinding.nl knowledge base, "invoice document": the codes of the invoice
  ("Factuur") template; "the same codes are shown in the outbox".
- ``api-2014``: theinvoicingcompany/eConnect-API recorded answers (2013-2014): the older template's names for the
  same numbers (10 Afgeleverd, 20 Gelezen, 30 Verwerkt, 40 Goedgekeurd, 50 Afgewezen).
- ``v31-outbox``: the v3.1 GetOutboxDocuments example: outbox documents named "Klaar voor verwerking" (no code).
- ``ui``: the platform's status names in its help pages (no codes).
- ``accp-send``: "Received" in the outbox means a delivery confirmation came back.

Codes are per template, which is why GetInboxDocument returns the allowed ones and why names are read too. A code or
name in no row is ``UNKNOWN``: shown as eConnect wrote it and flagged for support, never guessed into a state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from integrations.econnect.errors import SERVICE, StatusNotOffered
from integrations.econnect.models import InboxState, OutboxState, StatusOption


@dataclass(frozen=True)
class KnownStatus:
    code: str  # "" when the source gives only a name
    names: tuple[str, ...]  # as eConnect writes them (Dutch and English, every template seen)
    inbox: InboxState | None
    outbox: OutboxState | None
    source: str


STATUS_TABLE: tuple[KnownStatus, ...] = (
    KnownStatus("05", ("Opgeslagen", "Stored"), InboxState.NEW, OutboxState.ACCEPTED, "kb-invoice"),
    KnownStatus(
        "10", ("Ontvangen", "Received", "Afgeleverd"), InboxState.NEW, OutboxState.DELIVERED, "kb-invoice, api-2014"
    ),
    KnownStatus("20", ("Geopend", "Opened", "Gelezen"), InboxState.READ, OutboxState.DELIVERED, "kb-invoice, api-2014"),
    KnownStatus("30", ("Gedownload", "Downloaded"), InboxState.READ, OutboxState.DELIVERED, "kb-invoice"),
    KnownStatus("30", ("Verwerkt", "Processed"), InboxState.PROCESSED, OutboxState.DELIVERED, "api-2014"),
    KnownStatus(
        "35",
        ("Ter goedkeuring", "For approval", "Under review"),
        InboxState.PROCESSED,
        OutboxState.DELIVERED,
        "kb-invoice, ui",
    ),
    KnownStatus(
        "40",
        ("Goedgekeurd", "Accepted", "Approved"),
        InboxState.APPROVED,
        OutboxState.DELIVERED,
        "kb-invoice, api-2014",
    ),
    KnownStatus(
        "50", ("Afgekeurd", "Afgewezen", "Rejected"), InboxState.REJECTED, OutboxState.REJECTED, "kb-invoice, api-2014"
    ),
    KnownStatus(
        "60",
        ("Betaalbaar gesteld", "Payable", "Approved for payment"),
        InboxState.APPROVED,
        OutboxState.DELIVERED,
        "kb-invoice, ui",
    ),
    KnownStatus("70", ("Betaald", "Paid"), InboxState.APPROVED, OutboxState.DELIVERED, "kb-invoice, ui"),
    KnownStatus("", ("Klaar voor verwerking",), None, OutboxState.ACCEPTED, "v31-outbox"),
    KnownStatus("", ("Created",), None, OutboxState.ACCEPTED, "ui"),
    KnownStatus("", ("Delivery failed",), None, OutboxState.FAILED, "ui"),
    # [GUESS G-EC-1] The platform shows inbox documents as "Duplicate" but publishes no code for it; 80 is in
    # no template.
    KnownStatus("80", ("Duplicaat", "Duplicate"), InboxState.DUPLICATE, None, "ui; code guessed"),
)

# The codes the portal filters the inbox by. Both templates give received documents 10.
NEW_CODE = "10"
DUPLICATE_CODE = "80"  # see the table
_CODES = {InboxState.NEW: NEW_CODE, InboxState.DUPLICATE: DUPLICATE_CODE}


def _by_name(name: str) -> KnownStatus | None:
    wanted = name.strip().casefold()
    return next((row for row in STATUS_TABLE if wanted in (n.casefold() for n in row.names)), None) if wanted else None


def _state(code: str, name: str, side: str):
    """Names win over codes: codes are per template (30 is "Verwerkt" in one, "Gedownload" in another). A name no
    source gives is unknown, whatever its number."""
    row = _by_name(name)
    if row is None and not name.strip():
        row = next((r for r in STATUS_TABLE if r.code == code.strip() and getattr(r, side)), None)
    return getattr(row, side) if row is not None else None


def inbox_state(code: str, name: str) -> InboxState:
    return _state(code, name, "inbox") or InboxState.UNKNOWN


def outbox_state(code: str, name: str) -> OutboxState:
    return _state(code, name, "outbox") or OutboxState.UNKNOWN


def inbox_code(state: InboxState) -> str:
    """The code the inbox listing is filtered by."""
    if state not in _CODES:
        raise ValueError(f"The portal does not filter eConnect's inbox by {state}")
    return _CODES[state]


# [GUESS G-EC-2] Which allowed status says "in the bookkeeping" to eConnect: the 2014 template has "Verwerkt"
# (processed); the current invoice template has none, and 35 "Ter goedkeuring" (for approval) fits best, then 40
# (the only code in a recorded v3.1 example). Entries are codes or names, first match wins.
ACKNOWLEDGE_PREFERENCE: tuple[str, ...] = ("Verwerkt", "Processed", "35", "40")


def acknowledgement_status(
    external_id: str, allowed: Sequence[StatusOption], preference: Sequence[str] = ACKNOWLEDGE_PREFERENCE
) -> StatusOption:
    """The status that marks a document as safely in AFAS, taken from the document's own allowed statuses."""
    for wanted in preference:
        key = wanted.strip().casefold()
        for option in allowed:
            if key and key in (option.code.strip().casefold(), option.name.strip().casefold()):
                return option
    offered = ", ".join(f"{o.name} ({o.code})" for o in allowed) or "none"
    raise StatusNotOffered(
        f"eConnect does not offer a status that marks inbox document {external_id[:100]} as processed "
        f"(looked for {', '.join(preference)}; eConnect allows: {offered}). Ask eConnect which status to use and "
        "set ECONNECT_ACKNOWLEDGE_STATUSES.",
        service=SERVICE,
        code="STATUS_NOT_OFFERED",
    )
