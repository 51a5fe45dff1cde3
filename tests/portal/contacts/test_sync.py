"""The contacts sync against the AFAS simulator: paging, cursors, derivation, deletions and failures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.demo_data import CUSTOMERS
from portal.contacts.models import Contact
from portal.contacts.services import NO_IDENTIFIERS, contacts_dispatch_syncs, contacts_sync
from portal.events.models import Event
from portal.organisations.models import Environment, SyncCursor
from tests.portal.organisations.factories import EnvironmentFactory

Outcome = Contact.LookupOutcome


def debtors(environment):
    return {c.afas_id: c for c in Contact.objects.filter(environment=environment, kind=Contact.Kind.DEBTOR)}


def test_a_first_sync_stores_every_debtor_and_creditor_with_checked_identifiers(contacts_world):
    result = contacts_sync(environment=contacts_world.environment)

    assert result.full
    assert result.debtors.created == len(CUSTOMERS) and result.creditors.created == 3
    stored = debtors(contacts_world.environment)
    restaurant = stored["10001"]
    assert restaurant.econnect_id == "NL:KVK:30123456" and restaurant.issue_method == "R"
    assert restaurant.email == "administratie@10001.example.nl"
    assert {(i.scheme, i.source) for i in restaurant.identifiers.all()} == {("0106", "econnect_id"), ("9944", "vat")}
    assert restaurant.lookup_outcome == Outcome.NOT_CHECKED and restaurant.lookup_due_at is not None
    municipality = stored["10003"]
    assert [(i.scheme, i.value) for i in municipality.identifiers.all()] == [("0190", "00000001001234567000")]


def test_a_debtor_without_any_usable_identifier_is_invalid_with_the_reason_and_never_looked_up(contacts_world):
    contacts_sync(environment=contacts_world.environment)
    stored = debtors(contacts_world.environment)

    seven_digits = stored["10005"]  # KvK typed with 7 digits
    assert seven_digits.lookup_outcome == Outcome.IDENTIFIER_INVALID
    assert "KvK number '3012346'" in seven_digits.lookup_detail and "has 8" in seven_digits.lookup_detail
    assert seven_digits.lookup_due_at is None
    nothing = stored["10013"]
    assert nothing.lookup_outcome == Outcome.IDENTIFIER_INVALID and nothing.lookup_detail == NO_IDENTIFIERS.english()


def test_an_invalid_econnect_id_is_explained_while_the_valid_kvk_number_is_looked_up(contacts_world):
    contacts_sync(environment=contacts_world.environment)

    printer = debtors(contacts_world.environment)["10011"]  # EnId NL:KVK:3012346X, KvK 30123466

    assert printer.lookup_outcome == Outcome.NOT_CHECKED
    assert "eConnect id (EnId) 'NL:KVK:3012346X'" in printer.lookup_detail
    assert [(i.scheme, i.value, i.is_valid) for i in printer.identifiers.all()] == [("0106", "30123466", True)]


def test_the_sync_pages_through_many_debtors(contacts_world):
    rows = [
        {"DebtorId": f"3{n:04d}", "DebtorName": f"Klant {n}", "CcNr": f"{40000000 + n}", "InPv": "R",
         "Blocked": False, "ModifiedDate": "2025-02-01T00:00:00Z"}
        for n in range(250)
    ]  # fmt: skip
    response = contacts_world.afas.request(
        "POST", f"/_sim/environments/{contacts_world.afas_key}/rows/Peppol_Debtors", json={"rows": rows}
    )
    assert response.status_code == 201

    result = contacts_sync(environment=contacts_world.environment)

    assert result.debtors.created == len(CUSTOMERS) + 250
    debtor_reads = [p for p in contacts_world.afas_transport.paths if p.endswith("/connectors/Peppol_Debtors")]
    assert len(debtor_reads) >= 3  # 265 rows in pages of 100


def test_an_incremental_sync_reads_only_what_changed_since_the_cursor(contacts_world):
    environment = contacts_world.environment
    contacts_sync(environment=environment)
    cursor = SyncCursor.objects.get(environment=environment, stream=SyncCursor.Stream.DEBTORS).position
    assert cursor.startswith("2025-01-24")  # the latest ModifiedDate of the demo debtors

    contacts_world.change_debtor("10002", CcNr="30999998", EnId=None)
    result = contacts_sync(environment=environment, full=False)

    assert not result.full
    assert result.debtors.created == 0 and result.debtors.changed == 1 and result.debtors.identifiers_changed == 1
    hotel = debtors(environment)["10002"]
    assert [(i.scheme, i.value) for i in hotel.identifiers.all()] == [("0106", "30999998")]
    assert hotel.lookup_outcome == Outcome.NOT_CHECKED and hotel.lookup_due_at <= timezone.now()
    event = Event.objects.get(contact=hotel, kind="identifiers_changed")
    assert "0106:30123457 → 0106:30999998" in event.message
    new_cursor = SyncCursor.objects.get(environment=environment, stream=SyncCursor.Stream.DEBTORS).position
    assert new_cursor > cursor


def test_a_sync_with_nothing_changed_changes_nothing(contacts_world):
    environment = contacts_world.environment
    contacts_sync(environment=environment)
    before = {c.pk: (c.updated_at, c.lookup_due_at) for c in Contact.objects.filter(environment=environment)}

    result = contacts_sync(environment=environment, full=True)

    assert result.debtors.changed == 0 and result.creditors.changed == 0 and result.debtors.deleted == 0
    assert {c.pk: (c.updated_at, c.lookup_due_at) for c in Contact.objects.filter(environment=environment)} == before


def test_blocked_and_deleted_debtors_are_marked_not_lost(contacts_world):
    environment = contacts_world.environment
    contacts_sync(environment=environment)
    contacts_world.change_debtor("10001", Blocked=True)
    contacts_world.delete_debtor("10002")

    contacts_sync(environment=environment, full=False)
    stored = debtors(environment)
    assert stored["10001"].afas_state == Contact.AfasState.BLOCKED and stored["10001"].lookup_due_at is None
    assert stored["10002"].afas_state == Contact.AfasState.ACTIVE  # an incremental read cannot see deletions

    result = contacts_sync(environment=environment, full=True)
    stored = debtors(environment)
    assert result.debtors.deleted == 1
    assert stored["10002"].afas_state == Contact.AfasState.DELETED and stored["10002"].identifiers.exists()

    contacts_world.change_debtor("10002", DebtorName="Hotel Zeezicht B.V.", CcNr="30123457")
    contacts_sync(environment=environment, full=False)
    assert debtors(environment)["10002"].afas_state == Contact.AfasState.ACTIVE


def test_a_full_sync_is_due_once_a_day(contacts_world, settings):
    environment = contacts_world.environment
    assert contacts_sync(environment=environment).full
    assert not contacts_sync(environment=environment).full

    Environment.objects.filter(pk=environment.pk).update(
        contacts_full_sync_at=timezone.now() - timedelta(seconds=settings.CONTACTS_FULL_SYNC_SECONDS + 1)
    )
    assert contacts_sync(environment=environment).full


def test_an_afas_failure_keeps_the_cursor_and_says_why_once(contacts_world):
    environment = contacts_world.environment
    contacts_sync(environment=environment)
    cursor = SyncCursor.objects.get(environment=environment, stream=SyncCursor.Stream.DEBTORS).position
    contacts_world.change_debtor("10002", CcNr="30999998")
    contacts_world.afas_fault(operation="GET /connectors/Peppol_Debtors", status=401, count=None)

    assert contacts_sync(environment=environment, full=False) is None
    assert contacts_sync(environment=environment, full=False) is None

    environment.refresh_from_db()
    assert "could not be read from AFAS" in environment.contacts_sync_error
    assert Event.objects.filter(environment=environment, kind="contacts_sync_failed").count() == 1
    assert SyncCursor.objects.get(environment=environment, stream=SyncCursor.Stream.DEBTORS).position == cursor

    contacts_world.afas.request("DELETE", "/_sim/faults")
    assert contacts_sync(environment=environment, full=False).debtors.changed == 1
    environment.refresh_from_db()
    assert environment.contacts_sync_error == ""
    assert Event.objects.filter(environment=environment, kind="contacts_sync_recovered").exists()


def test_a_sync_already_running_is_not_started_twice(contacts_world):
    environment = contacts_world.environment
    Environment.objects.filter(pk=environment.pk).update(
        contacts_sync_lease_until=timezone.now() + timedelta(minutes=5)
    )

    assert contacts_sync(environment=environment) is None
    assert not Contact.objects.filter(environment=environment).exists()


@pytest.mark.django_db
def test_syncs_are_dispatched_for_profit_environments_with_a_token_once_per_interval():
    from portal.organisations.services import environment_set_credentials

    ready = EnvironmentFactory()
    environment_set_credentials(environment=ready, actor=None, afas_token="<token><version>1</version></token>")
    EnvironmentFactory()  # no token
    small_business = EnvironmentFactory(afas_edition=Environment.Edition.SMALL_BUSINESS)
    environment_set_credentials(environment=small_business, actor=None, afas_token="<token/>")

    assert contacts_dispatch_syncs() == [ready.pk]
    assert contacts_dispatch_syncs() == []
    later = timezone.now() + timedelta(hours=1)
    assert contacts_dispatch_syncs(now=later) == [ready.pk]


def test_the_sync_task_looks_new_identifiers_up_at_once(contacts_world, monkeypatch):
    from portal.contacts import tasks

    queued = []
    monkeypatch.setattr(tasks.look_up_due, "delay", lambda: queued.append("look_up_due"))

    tasks.sync(contacts_world.environment.pk, True)
    assert queued == ["look_up_due"]

    tasks.sync(contacts_world.environment.pk, False)  # nothing changed
    assert queued == ["look_up_due"]
