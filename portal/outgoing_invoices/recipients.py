"""Who receives an outgoing invoice over Peppol: the UBL's customer endpoint if it can receive, else the
AFAS contact's valid identifiers (its eConnect id, then KvK, OIN, VAT), else the other identifiers the UBL
gives the customer, all checked in one directory lookup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from integrations.econnect.models import LookupResult, Reachability
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import (
    IdentifierSyntaxError,
    PeppolIdentifier,
    check_identifier,
    identifier_from_vat,
    parse_identifier,
)
from integrations.peppol.parser import DocumentSummary
from portal.core.choices import DocumentType as DocumentTypeChoice
from portal.events.messages import Bilingual, Choice, Join, Msg, explained

DUTCH_ORDER = ("0106", "0190", "9944")  # KvK, OIN, VAT


class ParticipantDirectory(Protocol):
    """Where candidates are looked up: an eConnect gateway, or an environment's sending session that remembers."""

    def look_up_participants(
        self, candidates: Sequence[PeppolIdentifier], document_type: DocumentType
    ) -> LookupResult: ...


@dataclass(frozen=True)
class Resolution:
    recipient: PeppolIdentifier | None
    tried: list[dict]  # what was considered and why it was or was not used, for the invoice page

    @property
    def explanation(self) -> str:
        return self.explanation_message.render()

    @property
    def explanation_message(self) -> Msg | Join:
        """What was tried and why it failed, stored as messages (shown in the reader's language)."""
        if not self.tried:
            return Msg("outgoing.recipient.none")
        return Join(
            [
                Msg(
                    "outgoing.recipient.entry",
                    identifier=entry["identifier"],
                    outcome=Msg.from_data(entry.get("outcome_data")) or entry["outcome"],
                )
                for entry in self.tried
            ],
            "; ",
        )


def _entry(identifier: str, source: str, outcome: Msg, **more) -> dict:
    return {"identifier": identifier, "source": source, **explained("outcome", outcome), **more}


def candidate_identifiers(
    summary: DocumentSummary, contact_identifiers: Sequence[PeppolIdentifier] = ()
) -> tuple[list[PeppolIdentifier], list[dict]]:
    """The customer endpoint first, then the contact's identifiers, then the UBL's KvK, OIN and VAT identifiers;
    invalid ones are noted, not looked up."""
    customer = summary.customer
    candidates: list[PeppolIdentifier] = []
    rejected: list[dict] = []

    def consider(scheme: str | None, value: str | None, source: str) -> None:
        if not value:
            return
        try:
            identifier = identifier_from_vat(value) if scheme == "VAT" else parse_identifier(f"{scheme or ''}:{value}")
        except IdentifierSyntaxError as exc:
            not_usable = Msg("outgoing.recipient.not_usable", reason=Bilingual.of(exc.message))
            rejected.append(_entry(f"{scheme}:{value}", source, not_usable))
            return
        check = check_identifier(identifier)
        if check.is_invalid:
            reason = Bilingual.of(check.reason)
            rejected.append(_entry(identifier.icd, source, Msg("outgoing.recipient.invalid", reason=reason)))
        elif identifier not in candidates:
            candidates.append(identifier)

    if customer is None:
        return candidates, [_entry("-", "UBL", Msg("outgoing.recipient.no_customer"))]
    if customer.endpoint_id:
        consider(customer.endpoint_id.scheme, customer.endpoint_id.value, "UBL customer endpoint")
    for identifier in contact_identifiers:
        if identifier not in candidates:
            candidates.append(identifier)
    others = [*customer.legal_ids, *customer.identifications]
    for scheme in DUTCH_ORDER[:2]:
        for identifier in others:
            if identifier.scheme == scheme:
                consider(identifier.scheme, identifier.value, "UBL customer legal id")
    for vat in customer.vat_ids:
        if vat.upper().startswith("NL"):
            consider("VAT", vat, "UBL customer VAT number")
    return candidates, rejected


def resolve_recipient(
    *,
    summary: DocumentSummary,
    directory: ParticipantDirectory,
    document_type: DocumentType,
    contact_identifiers: Sequence[PeppolIdentifier] = (),
) -> Resolution:
    candidates, tried = candidate_identifiers(summary, contact_identifiers)
    if not candidates:
        return Resolution(None, tried)
    result = directory.look_up_participants(candidates, document_type)
    outcomes = {
        Reachability.REGISTERED: Msg("outgoing.recipient.can_receive"),
        Reachability.NOT_REGISTERED: Msg("outgoing.recipient.not_registered"),
        Reachability.OTHER_DOCUMENT_TYPES_ONLY: Msg(
            "outgoing.recipient.other_types_only", type=Choice(DocumentTypeChoice, document_type.value)
        ),
    }
    for participant in result.participants:
        tried.append(
            _entry(
                participant.identifier.icd,
                "Peppol lookup",
                outcomes[participant.reachability],
                access_point=participant.access_point.value,
            )
        )
    best = result.best
    return Resolution(best.identifier if best else None, tried)
