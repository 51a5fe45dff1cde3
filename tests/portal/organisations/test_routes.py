"""One route per Peppol identifier: the directory check, the receiving switch and the support override."""

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.events.models import Event
from portal.organisations.models import Environment, OwnPeppolIdentifier, Registration, SyncCursor
from portal.organisations.routes import (
    ReceivingRefused,
    environment_set_receiving,
    own_identifier_clear_override,
    own_identifier_override_route,
    own_identifiers_check,
    receiving_blockers,
    routes_check_due,
    routes_due,
)
from tests.portal.accounts.factories import UserFactory
from tests.portal.organisations.factories import EnvironmentFactory, OwnPeppolIdentifierFactory


@pytest.fixture
def garage(contacts_world):
    """The demo garage: its identifier 0106:56789012 receives via AFAS's own access point."""
    return Environment.objects.get(afas_participant_number="24680")


def test_the_check_records_where_each_own_identifier_is_registered(contacts_world, garage):
    [own] = own_identifiers_check(environment=garage)

    assert own.registration == Registration.AFAS and own.registered_elsewhere
    assert own.registration_endpoint.startswith("https://peppol.afas.nl")
    assert Event.objects.get(environment=garage, kind="route_registration").message.startswith(
        "Peppol directory: 0106:56789012 is registered elsewhere: AFAS"
    )
    [bakery] = own_identifiers_check(environment=contacts_world.environment)
    assert bakery.registration == Registration.ECONNECT and not bakery.blocks_receiving


def test_receiving_is_refused_while_the_identifier_is_registered_at_afas(contacts_world, garage):
    with pytest.raises(ReceivingRefused, match="registered elsewhere: AFAS") as refused:
        environment_set_receiving(environment=garage, enabled=True, actor=None)

    assert "deregistered there first" in refused.value.message
    garage.refresh_from_db()
    assert not garage.receiving_enabled and not garage.own_identifiers.get().receive_active


def test_a_deliberate_override_by_support_is_audited_and_lets_receiving_on(contacts_world, garage):
    support = UserFactory(is_staff=True)
    own = garage.own_identifiers.get()
    own_identifiers_check(environment=garage)

    assert own_identifier_override_route(own=own, actor=support, reason="AFAS deregisters it on 1 December")
    environment_set_receiving(environment=garage, enabled=True, actor=support)

    garage.refresh_from_db()
    assert garage.receiving_enabled and garage.own_identifiers.get().receive_active
    override = Event.objects.get(environment=garage, kind="route_override")
    assert override.actor == support and override.reason == "AFAS deregisters it on 1 December"

    assert own_identifier_clear_override(own=own, actor=support)
    assert garage.own_identifiers.get().blocks_receiving


def test_an_override_needs_a_reason(contacts_world, garage):
    with pytest.raises(ValueError):
        own_identifier_override_route(own=garage.own_identifiers.get(), actor=UserFactory(), reason="  ")


def test_a_second_environment_cannot_receive_for_the_same_identifier(contacts_world):
    bakery = contacts_world.environment  # receives for 0106:34567890
    test_environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="test")

    with pytest.raises(ReceivingRefused, match="already receives via eConnect on .*Production \\(12345\\)"):
        environment_set_receiving(environment=test_environment, enabled=True, actor=None)

    test_environment.refresh_from_db()
    assert not test_environment.receiving_enabled
    # And the database holds the line when someone goes around the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        test_environment.own_identifiers.update(receive_active=True)
    assert bakery.own_identifiers.get().receive_active


def test_switching_off_frees_the_identifier_for_another_environment(contacts_world):
    bakery = contacts_world.environment
    test_environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="test")

    environment_set_receiving(environment=bakery, enabled=False, actor=None)
    environment_set_receiving(environment=test_environment, enabled=True, actor=None)

    bakery.refresh_from_db()
    test_environment.refresh_from_db()
    assert not bakery.receiving_enabled and test_environment.receiving_enabled
    assert Event.objects.filter(environment=test_environment, kind="receiving_switched", to_status="on").exists()


def test_receiving_stays_off_when_the_directory_cannot_be_asked(contacts_world):
    bakery = contacts_world.environment
    environment_set_receiving(environment=bakery, enabled=False, actor=None)
    contacts_world.econnect_fault(operation="deliveryOption", status=503, count=None)

    with pytest.raises(ReceivingRefused, match="could not be asked"):
        environment_set_receiving(environment=bakery, enabled=True, actor=None)

    bakery.refresh_from_db()
    assert not bakery.receiving_enabled
    assert "could not be asked" in bakery.own_identifiers.get().registration_error


@pytest.mark.django_db
def test_receiving_needs_an_own_identifier_and_keys():
    environment = EnvironmentFactory()

    problems = receiving_blockers(environment)

    assert any("no own Peppol identifier" in p for p in problems)
    assert any("eConnect connection keys" in p for p in problems)
    with pytest.raises(ReceivingRefused, match="no own Peppol identifier"):
        environment_set_receiving(environment=environment, enabled=True, actor=None)


def test_the_daily_check_notices_a_new_registration_at_afas_while_receiving(contacts_world, settings):
    bakery = contacts_world.environment
    own_identifiers_check(environment=bakery)
    assert bakery.pk not in routes_due()

    contacts_world.register("0106:34567890", access_point="afas")  # someone enrolled it at AFAS
    later = timezone.now() + timedelta(seconds=settings.ROUTE_CHECK_SECONDS + 1)
    assert bakery.pk in routes_due(now=later)
    checked, failed = routes_check_due(now=later)

    assert checked >= 1 and failed == 0
    conflict = Event.objects.get(environment=bakery, kind="route_conflict")
    assert "registered elsewhere: AFAS" in conflict.message and "Receiving via eConnect is on" in conflict.message
    assert OwnPeppolIdentifier.objects.get(environment=bakery).blocks_receiving


@pytest.mark.django_db
def test_environments_without_own_identifiers_are_not_checked():
    without = EnvironmentFactory()
    with_one = OwnPeppolIdentifierFactory().environment

    due = routes_due()

    assert with_one.pk in due and without.pk not in due


def test_switching_receiving_on_starts_the_inbox_cursor_then_and_keeps_it_when_switched_on_again(contacts_world):
    environment = contacts_world.environment
    SyncCursor.objects.filter(environment=environment).delete()
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=False)
    environment.refresh_from_db()
    before = timezone.now()

    environment_set_receiving(environment=environment, enabled=True, actor=None)
    first = SyncCursor.objects.get(environment=environment, stream=SyncCursor.Stream.ECONNECT_INBOX).position
    environment_set_receiving(environment=environment, enabled=False, actor=None)
    environment_set_receiving(environment=environment, enabled=True, actor=None)

    assert datetime.fromisoformat(first) >= before  # never the inbox's history
    assert SyncCursor.objects.get(environment=environment, stream=SyncCursor.Stream.ECONNECT_INBOX).position == first
