"""Is a received document addressed to this environment?

eConnect's inbox is read with connection keys whose user may see several companies, and a platform that ignores a
filter would hand over documents meant for someone else. Before anything is delivered to AFAS, the document's
receiver (the customer's Peppol endpoint, or failing that one of the customer's registered ids) must be one of the
environment's own Peppol identifiers. A document that is not is held with the evidence, never delivered and never
acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.peppol.identifiers import IdentifierSyntaxError, parse_identifier
from integrations.peppol.parser import DocumentSummary, Identifier
from portal.organisations.models import Environment


@dataclass(frozen=True)
class AddresseeCheck:
    ours: bool
    receiver: str  # the customer's endpoint as written ("" when the document names none)
    evidence: dict = field(default_factory=dict)


def addressee_check(*, environment: Environment, summary: DocumentSummary) -> AddresseeCheck:
    own = sorted({own.identifier for own in environment.own_identifiers.all()})
    customer = summary.customer
    endpoint = customer.endpoint_id if customer else None
    receiver = _written(endpoint)
    candidates = [endpoint, *(customer.identifications if customer else ()), *(customer.legal_ids if customer else ())]
    canonical = [c for c in (_canonical(i) for i in candidates) if c]
    matched = next((c for c in canonical if c in own), None)
    evidence = {
        "receiver": receiver,
        "customer_name": (customer.display_name if customer else "") or "",
        "customer_identifiers": sorted(set(canonical)),
        "own_identifiers": own,
        "matched": matched or "",
    }
    return AddresseeCheck(ours=matched is not None, receiver=receiver, evidence=evidence)


def _written(identifier: Identifier | None) -> str:
    if identifier is None:
        return ""
    return f"{identifier.scheme}:{identifier.value}" if identifier.scheme else identifier.value


def _canonical(identifier: Identifier | None) -> str | None:
    if identifier is None or not identifier.value:
        return None
    try:
        return parse_identifier(f"{identifier.scheme or ''}:{identifier.value}").icd
    except IdentifierSyntaxError:
        return None
