"""Who receives an outgoing invoice over Peppol: the UBL's customer endpoint if it can receive, else the
AFAS contact's valid identifiers (its eConnect id, then KvK, OIN, VAT), else the other identifiers the UBL
gives the customer, all checked in one directory lookup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from integrations.econnect.gateway import EConnectGateway
from integrations.econnect.models import Reachability
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import (
    IdentifierSyntaxError,
    PeppolIdentifier,
    check_identifier,
    identifier_from_vat,
    parse_identifier,
)
from integrations.peppol.parser import DocumentSummary

DUTCH_ORDER = ("0106", "0190", "9944")  # KvK, OIN, VAT


@dataclass(frozen=True)
class Resolution:
    recipient: PeppolIdentifier | None
    tried: list[dict]  # what was considered and why it was or was not used, for the invoice page

    @property
    def explanation(self) -> str:
        return "; ".join(f"{entry['identifier']}: {entry['outcome']}" for entry in self.tried) or "no identifiers"


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
            rejected.append({"identifier": f"{scheme}:{value}", "source": source, "outcome": f"not usable: {exc}"})
            return
        check = check_identifier(identifier)
        if check.is_invalid:
            rejected.append({"identifier": identifier.icd, "source": source, "outcome": f"invalid: {check.reason.en}"})
        elif identifier not in candidates:
            candidates.append(identifier)

    if customer is None:
        return candidates, [{"identifier": "-", "source": "UBL", "outcome": "the invoice names no customer"}]
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
    gateway: EConnectGateway,
    document_type: DocumentType,
    contact_identifiers: Sequence[PeppolIdentifier] = (),
) -> Resolution:
    candidates, tried = candidate_identifiers(summary, contact_identifiers)
    if not candidates:
        return Resolution(None, tried)
    result = gateway.look_up_participants(candidates, document_type)
    outcomes = {
        Reachability.REGISTERED: "can receive this document type",
        Reachability.NOT_REGISTERED: "not registered on Peppol",
        Reachability.OTHER_DOCUMENT_TYPES_ONLY: f"on Peppol, but cannot receive a {document_type.value.replace('_', ' ')}",
    }
    for participant in result.participants:
        tried.append(
            {
                "identifier": participant.identifier.icd,
                "source": "Peppol lookup",
                "outcome": outcomes[participant.reachability],
                "access_point": participant.access_point.value,
            }
        )
    best = result.best
    return Resolution(best.identifier if best else None, tried)
