"""Contacts from AFAS and the Peppol identifiers derived from their fields."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from integrations.afas.models import Debtor
from integrations.peppol.identifiers import (
    IdentifierSyntaxError,
    PeppolIdentifier,
    check_identifier,
    identifier_from_kvk,
    identifier_from_oin,
    identifier_from_vat,
    parse_identifier,
)
from portal.contacts.models import Contact, ContactIdentifier
from portal.organisations.models import Environment

# The Dutch order in which a customer's identifiers are tried: KvK, OIN, VAT (after its eConnect id).
DUTCH_ORDER = ("0106", "0190", "9944")


@dataclass(frozen=True)
class DerivedIdentifier:
    source: str
    identifier: PeppolIdentifier | None
    raw: str
    invalid_reason: str = ""


def derive_identifiers(*, econnect_id: str, kvk: str, oin: str, vat: str) -> list[DerivedIdentifier]:
    """Candidate identifiers from AFAS contact fields, each checked; unusable ones keep their reason."""
    derived = []
    for source, raw, make in (
        (ContactIdentifier.Source.ECONNECT_ID, econnect_id, parse_identifier),
        (ContactIdentifier.Source.KVK, kvk, identifier_from_kvk),
        (ContactIdentifier.Source.OIN, oin, identifier_from_oin),
        (ContactIdentifier.Source.VAT, vat, identifier_from_vat),
    ):
        if not raw.strip():
            continue
        try:
            identifier = make(raw)
        except IdentifierSyntaxError as exc:
            derived.append(DerivedIdentifier(source, None, raw, exc.message.en))
            continue
        check = check_identifier(identifier)
        derived.append(DerivedIdentifier(source, identifier, raw, check.reason.en if check.is_invalid else ""))
    return derived


@transaction.atomic
def contact_upsert_debtor(*, environment: Environment, debtor: Debtor) -> Contact:
    """Store an AFAS debtor as it is now, and its derived identifiers (one per scheme; the eConnect id wins)."""
    contact, _ = Contact.objects.update_or_create(
        environment=environment,
        kind=Contact.Kind.DEBTOR,
        afas_id=debtor.number,
        defaults={
            "name": debtor.name[:255] or debtor.number,
            "kvk_number": debtor.kvk[:50],
            "oin": debtor.oin[:50],
            "vat_number": debtor.vat[:50],
            "econnect_id": debtor.econnect_id[:100],
            "issue_method": debtor.issue_method[:10],
            "email": debtor.email if "@" in debtor.email else "",
            "afas_state": Contact.AfasState.BLOCKED if debtor.blocked else Contact.AfasState.ACTIVE,
            "afas_modified_at": debtor.modified_at,
        },
    )
    kept: dict[str, DerivedIdentifier] = {}
    for derived in derive_identifiers(econnect_id=debtor.econnect_id, kvk=debtor.kvk, oin=debtor.oin, vat=debtor.vat):
        if derived.identifier is not None and derived.identifier.scheme not in kept:
            kept[derived.identifier.scheme] = derived
    for scheme, derived in kept.items():
        ContactIdentifier.objects.update_or_create(
            contact=contact,
            scheme=scheme,
            defaults={
                "value": derived.identifier.value,
                "source": derived.source,
                "is_valid": not derived.invalid_reason,
                "invalid_reason": derived.invalid_reason,
            },
        )
    contact.identifiers.exclude(scheme__in=kept).delete()
    return contact


def contact_candidate_identifiers(contact: Contact | None) -> list[PeppolIdentifier]:
    """A contact's valid identifiers: its eConnect id first, then KvK, OIN, VAT."""
    if contact is None:
        return []
    identifiers = list(contact.identifiers.filter(is_valid=True))
    order = {scheme: position for position, scheme in enumerate(DUTCH_ORDER)}
    identifiers.sort(
        key=lambda item: (item.source != ContactIdentifier.Source.ECONNECT_ID, order.get(item.scheme, len(order)))
    )
    return [PeppolIdentifier(item.scheme, item.value) for item in identifiers]
