"""Contacts from AFAS and the Peppol identifiers derived from their fields: the incremental sync of debtors and
creditors, and the derivation and validation of candidate identifiers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.afas.models import ChangedRows, Creditor, Debtor
from integrations.http import RemoteError
from integrations.peppol.i18n import Text
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
from portal.documents import lifecycle
from portal.events.messages import Bilingual, Join, Msg, explained, set_explanation
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.models import Environment, SyncCursor

logger = logging.getLogger(__name__)

# The Dutch order in which a customer's identifiers are tried: KvK, OIN, VAT (after its eConnect id).
DUTCH_ORDER = ("0106", "0190", "9944")
# Contacts are read from Profit; Small Business has no debtor GetConnector the portal uses.
SYNC_ELIGIBLE = Q(afas_edition=Environment.Edition.PROFIT, afas_token_set_at__isnull=False)
SYNC_LEASE = timedelta(minutes=15)
WRITE_CHUNK = 500
NO_IDENTIFIERS = Msg("lookup.no_identifiers")


@dataclass(frozen=True)
class DerivedIdentifier:
    source: str
    identifier: PeppolIdentifier | None
    raw: str
    invalid: Text | None = None  # why it cannot be used, in English and Dutch

    @property
    def invalid_reason(self) -> str:
        return self.invalid.en if self.invalid else ""

    @property
    def problem(self) -> Msg:
        return Msg(
            "lookup.identifier_problem",
            source=Msg(f"lookup.source.{self.source}"),
            value=self.raw.strip()[:60],
            reason=Bilingual.of(self.invalid),
        )


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
            derived.append(DerivedIdentifier(source, None, raw, exc.message))
            continue
        check = check_identifier(identifier)
        derived.append(DerivedIdentifier(source, identifier, raw, check.reason if check.has_problem else None))
    return derived


@dataclass(frozen=True)
class ContactFields:
    """What the portal keeps of one AFAS debtor or creditor, and the identifiers derived from it."""

    values: dict
    identifiers: dict[str, DerivedIdentifier]  # one per scheme, the eConnect id first
    problems: tuple[Msg, ...]  # why derived identifiers are unusable

    @property
    def valid_identifiers(self) -> frozenset[tuple[str, str]]:
        return frozenset((scheme, d.identifier.value) for scheme, d in self.identifiers.items() if not d.invalid_reason)


def _contact_fields(relation: Debtor | Creditor) -> ContactFields:
    is_debtor = isinstance(relation, Debtor)
    econnect_id, oin = (relation.econnect_id, relation.oin) if is_debtor else ("", "")
    values = {
        "name": relation.name[:255] or relation.number,
        "kvk_number": relation.kvk[:50],
        "oin": oin[:50],
        "vat_number": relation.vat[:50],
        "econnect_id": econnect_id[:100],
        "issue_method": relation.issue_method[:10] if is_debtor else "",
        "email": relation.email if is_debtor and "@" in relation.email and len(relation.email) <= 254 else "",
        "afas_state": Contact.AfasState.BLOCKED if relation.blocked else Contact.AfasState.ACTIVE,
        "afas_modified_at": relation.modified_at,
    }
    kept: dict[str, DerivedIdentifier] = {}
    problems = []
    for derived in derive_identifiers(econnect_id=econnect_id, kvk=relation.kvk, oin=oin, vat=relation.vat):
        if derived.invalid is not None:
            problems.append(derived.problem)
        if derived.identifier is None:
            continue
        # One per scheme: the first (the eConnect id), unless it is invalid and a later one is valid.
        already = kept.get(derived.identifier.scheme)
        if already is None or (already.invalid_reason and not derived.invalid_reason):
            kept[derived.identifier.scheme] = derived
    values.update(explained("identifier_problems", Join(problems, " ") if problems else None))
    return ContactFields(values=values, identifiers=kept, problems=tuple(problems))


def _identifier_rows(contact: Contact, fields: ContactFields) -> list[ContactIdentifier]:
    return [
        ContactIdentifier(
            contact=contact,
            scheme=scheme,
            value=derived.identifier.value,
            source=derived.source,
            is_valid=not derived.invalid_reason,
            invalid_reason=derived.invalid_reason,
        )
        for scheme, derived in fields.identifiers.items()
    ]


def _reset_lookup(contact: Contact, fields: ContactFields, now: datetime) -> None:
    """Identifiers are new or changed: what the directory said before no longer counts."""
    contact.peppol_scheme = contact.peppol_value = contact.peppol_access_point = ""
    contact.receives_invoices = contact.receives_credit_notes = None
    contact.lookup_checked_at = None
    contact.lookup_error, contact.lookup_error_data = "", {}
    if not fields.valid_identifiers:
        contact.lookup_outcome = Contact.LookupOutcome.IDENTIFIER_INVALID
        set_explanation(contact, "lookup_detail", Join(fields.problems, " ") if fields.problems else NO_IDENTIFIERS)
        contact.lookup_due_at = None
    else:
        contact.lookup_outcome = Contact.LookupOutcome.NOT_CHECKED
        set_explanation(contact, "lookup_detail", Join(fields.problems, " ") if fields.problems else None)
        contact.lookup_due_at = now if _looked_up(contact) else None


def _looked_up(contact: Contact) -> bool:
    """Only active customers are looked up in the Peppol directory."""
    return contact.kind == Contact.Kind.DEBTOR and contact.afas_state == Contact.AfasState.ACTIVE


LOOKUP_FIELDS = [
    "lookup_outcome",
    "lookup_detail",
    "lookup_detail_data",
    "lookup_error_data",
    "lookup_due_at",
    "lookup_checked_at",
    "lookup_error",
    "peppol_scheme",
    "peppol_value",
    "peppol_access_point",
    "receives_invoices",
    "receives_credit_notes",
]
SYNCED_FIELDS = ["name", "kvk_number", "oin", "vat_number", "econnect_id", "issue_method", "email", "afas_state",
                 "afas_modified_at", "identifier_problems", "identifier_problems_data"]  # fmt: skip


@dataclass
class SyncCounts:
    created: int = 0
    changed: int = 0
    identifiers_changed: int = 0
    deleted: int = 0

    def add(self, other: SyncCounts) -> None:
        self.created += other.created
        self.changed += other.changed
        self.identifiers_changed += other.identifiers_changed
        self.deleted += other.deleted


def contacts_apply(
    *, environment: Environment, kind: str, relations: Sequence[Debtor | Creditor], now: datetime | None = None
) -> SyncCounts:
    """Store debtors or creditors as they are in AFAS now (in chunks, each in one transaction): new ones created,
    changed ones updated, their identifiers derived again; a contact whose identifiers changed is looked up again."""
    now = now or timezone.now()
    counts = SyncCounts()
    latest: dict[str, Debtor | Creditor] = {relation.number: relation for relation in relations if relation.number}
    numbers = list(latest)
    for start in range(0, len(numbers), WRITE_CHUNK):
        chunk = {number: latest[number] for number in numbers[start : start + WRITE_CHUNK]}
        counts.add(_apply_chunk(environment, kind, chunk, now))
    return counts


@transaction.atomic
def _apply_chunk(environment: Environment, kind: str, chunk: dict[str, Debtor | Creditor], now: datetime) -> SyncCounts:
    counts = SyncCounts()
    existing = {
        contact.afas_id: contact
        for contact in Contact.objects.select_for_update().filter(environment=environment, kind=kind, afas_id__in=chunk)
    }
    current_identifiers: dict[int, list[ContactIdentifier]] = {}
    for identifier in ContactIdentifier.objects.filter(contact__in=list(existing.values())):
        current_identifiers.setdefault(identifier.contact_id, []).append(identifier)

    new_contacts: list[tuple[Contact, ContactFields]] = []
    changed: list[Contact] = []
    rewrite: list[tuple[Contact, ContactFields]] = []
    identifier_events: list[tuple[Contact, Msg]] = []
    for number, relation in chunk.items():
        fields = _contact_fields(relation)
        contact = existing.get(number)
        if contact is None:
            contact = Contact(environment=environment, kind=kind, afas_id=number, **fields.values)
            _reset_lookup(contact, fields, now)
            new_contacts.append((contact, fields))
            continue
        was_active = _looked_up(contact)
        dirty = any(getattr(contact, name) != value for name, value in fields.values.items())
        for name, value in fields.values.items():
            setattr(contact, name, value)
        stored = current_identifiers.get(contact.pk, [])
        stored_valid = frozenset((i.scheme, i.value) for i in stored if i.is_valid)
        stored_shape = {(i.scheme, i.value, i.source, i.is_valid, i.invalid_reason) for i in stored}
        wanted_shape = {
            (i.scheme, i.value, i.source, i.is_valid, i.invalid_reason) for i in _identifier_rows(contact, fields)
        }
        if stored_shape != wanted_shape:
            rewrite.append((contact, fields))
        if stored_valid != fields.valid_identifiers:
            before = ", ".join(sorted(f"{s}:{v}" for s, v in stored_valid)) or "none"
            after = ", ".join(sorted(f"{s}:{v}" for s, v in fields.valid_identifiers)) or "none"
            _reset_lookup(contact, fields, now)
            identifier_events.append((contact, Msg("lookup.identifiers_changed", before=before, after=after)))
            counts.identifiers_changed += 1
            dirty = True
        elif _looked_up(contact) and not was_active and contact.lookup_outcome == Contact.LookupOutcome.NOT_CHECKED:
            contact.lookup_due_at = now  # active again and never checked
            dirty = True
        elif not _looked_up(contact) and contact.lookup_due_at is not None:
            contact.lookup_due_at = None
            dirty = True
        if contact.lookup_outcome == Contact.LookupOutcome.IDENTIFIER_INVALID and fields.problems:
            if contact.lookup_detail != contact.identifier_problems:
                contact.lookup_detail, dirty = contact.identifier_problems, True
                contact.lookup_detail_data = contact.identifier_problems_data
        if dirty:
            contact.updated_at = now  # bulk_update skips auto_now
            changed.append(contact)

    if new_contacts:
        Contact.objects.bulk_create([contact for contact, _ in new_contacts])
        counts.created = len(new_contacts)
        rewrite.extend(new_contacts)
    if changed:
        Contact.objects.bulk_update(changed, [*SYNCED_FIELDS, *LOOKUP_FIELDS, "updated_at"])
        counts.changed = len(changed)
    if rewrite:
        ContactIdentifier.objects.filter(contact__in=[contact for contact, _ in rewrite if contact.pk]).delete()
        ContactIdentifier.objects.bulk_create(
            [row for contact, fields in rewrite for row in _identifier_rows(contact, fields)]
        )
    for contact, message in identifier_events:
        event_record(environment=environment, contact=contact, kind=EventKind.IDENTIFIERS_CHANGED, message=message,
                     system_actor="contacts sync")  # fmt: skip
    return counts


def _mark_deleted(environment: Environment, kind: str, present: set[str]) -> int:
    """Contacts no longer in AFAS are marked deleted (kept, with their history), never removed. Compared in Python:
    ``present`` can hold more keys than one SQL statement takes."""
    stored = Contact.objects.filter(environment=environment, kind=kind).exclude(afas_state=Contact.AfasState.DELETED)
    gone = [pk for pk, afas_id in stored.values_list("pk", "afas_id") if afas_id not in present]
    return Contact.objects.filter(pk__in=gone).update(
        afas_state=Contact.AfasState.DELETED, lookup_due_at=None, updated_at=timezone.now()
    )


# --- the sync of one environment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactsSyncResult:
    debtors: SyncCounts
    creditors: SyncCounts
    full: bool


def contacts_sync_eligible(environment: Environment) -> bool:
    """Contacts are read from AFAS Profit environments with an AFAS token."""
    return environment.afas_edition == Environment.Edition.PROFIT and environment.has_afas_token


def contacts_dispatch_syncs(*, now: datetime | None = None) -> list[int]:
    """The Profit environments with an AFAS token whose contacts sync is due; each is picked once."""
    return lifecycle.environments_due(
        next_field="next_contacts_sync_at",
        eligible=SYNC_ELIGIBLE,
        interval_seconds=settings.CONTACTS_SYNC_SECONDS,
        now=now,
    )


def contacts_sync(*, environment: Environment, full: bool | None = None) -> ContactsSyncResult | None:
    """Read debtors and creditors changed since the last sync (all of them once a day, or when ``full``), store
    them and move the cursors. None when another sync holds the environment or AFAS failed (the reason is kept on
    the environment and in its timeline; nothing is lost: the cursors stay where they were)."""
    if not lifecycle.lease_environment(
        environment, lease_field="contacts_sync_lease_until", duration=SYNC_LEASE, eligible=SYNC_ELIGIBLE
    ):
        return None
    now = timezone.now()
    environment.refresh_from_db(fields=["contacts_full_sync_at", "contacts_sync_error"])
    if full is None:
        last_full = environment.contacts_full_sync_at
        full = last_full is None or now - last_full >= timedelta(seconds=settings.CONTACTS_FULL_SYNC_SECONDS)
    try:
        with clients.afas_client_for(environment) as afas:
            debtors = _sync_stream(environment, SyncCursor.Stream.DEBTORS, Contact.Kind.DEBTOR, afas.debtors, full)
            creditors = _sync_stream(
                environment, SyncCursor.Stream.CREDITORS, Contact.Kind.CREDITOR, afas.creditors_changed, full
            )
    except RemoteError as exc:
        _sync_failed(environment, exc)
        return None
    finally:
        lifecycle.release_environment(environment, lease_field="contacts_sync_lease_until")
    update = {"contacts_synced_at": now, "contacts_sync_error": "", "contacts_sync_error_data": {}}
    if full:
        update["contacts_full_sync_at"] = now
    Environment.objects.filter(pk=environment.pk).update(**update)
    if environment.contacts_sync_error:
        event_record(environment=environment, kind=EventKind.CONTACTS_SYNC_RECOVERED, system_actor="contacts sync",
                     message=Msg("contacts.sync_recovered"))  # fmt: skip
    changes = (
        debtors.created + debtors.changed + debtors.deleted + creditors.created + creditors.changed + creditors.deleted
    )
    if changes:
        event_record(
            environment=environment,
            kind=EventKind.CONTACTS_SYNCED,
            system_actor="contacts sync",
            message=Msg(
                "contacts.synced_all" if full else "contacts.synced",
                debtors_new=debtors.created,
                debtors_changed=debtors.changed,
                debtors_deleted=debtors.deleted,
                creditors_new=creditors.created,
                creditors_changed=creditors.changed,
                creditors_deleted=creditors.deleted,
            ),
            data={"full": full},
        )
    return ContactsSyncResult(debtors=debtors, creditors=creditors, full=full)


def _sync_stream(
    environment: Environment, stream: str, kind: str, read: Callable[..., ChangedRows], full: bool
) -> SyncCounts:
    cursor, _ = SyncCursor.objects.get_or_create(environment=environment, stream=stream)
    since = None if full or not cursor.position else datetime.fromisoformat(cursor.position)
    changed = read(changed_since=since)
    counts = contacts_apply(environment=environment, kind=kind, relations=changed.rows)
    if full:
        counts.deleted = _mark_deleted(environment, kind, {relation.number for relation in changed.rows})
    if changed.cursor is not None:
        # Only now, with every row it covers committed, does the cursor move.
        SyncCursor.objects.filter(pk=cursor.pk).update(position=changed.cursor.isoformat())
    return counts


def _sync_failed(environment: Environment, exc: RemoteError) -> None:
    message = Msg("contacts.sync_failed", detail=exc.message)
    logger.warning("Contacts sync of environment %s failed: %s", environment.pk, exc.message)
    if environment.contacts_sync_error != message.english():  # one timeline entry per new problem, not per attempt
        event_record(environment=environment, kind=EventKind.CONTACTS_SYNC_FAILED, system_actor="contacts sync",
                     message=message, data={"transient": exc.transient})  # fmt: skip
    Environment.objects.filter(pk=environment.pk).update(**explained("contacts_sync_error", message))


# --- kept for the sending path ---------------------------------------------------------------------------------


def contact_upsert_debtor(*, environment: Environment, debtor: Debtor) -> Contact:
    """Store one AFAS debtor as it is now (used when an invoice of theirs is collected)."""
    contacts_apply(environment=environment, kind=Contact.Kind.DEBTOR, relations=[debtor])
    return Contact.objects.get(environment=environment, kind=Contact.Kind.DEBTOR, afas_id=debtor.number)


def contact_candidate_identifiers(contact: Contact | None) -> list[PeppolIdentifier]:
    """A contact's valid identifiers: its eConnect id first, then KvK, OIN, VAT."""
    if contact is None:
        return []
    return [PeppolIdentifier(item.scheme, item.value) for item in ordered_identifiers(contact.identifiers.all())]


def ordered_identifiers(identifiers) -> list[ContactIdentifier]:
    """Valid identifiers in the order they are tried: the eConnect id first, then KvK, OIN, VAT, then the rest."""
    order = {scheme: position for position, scheme in enumerate(DUTCH_ORDER)}
    valid = [item for item in identifiers if item.is_valid]
    valid.sort(
        key=lambda item: (item.source != ContactIdentifier.Source.ECONNECT_ID, order.get(item.scheme, len(order)))
    )
    return valid
