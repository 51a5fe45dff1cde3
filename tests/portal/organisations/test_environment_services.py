import uuid

import pytest

from portal.events.models import Event
from portal.organisations.models import Environment, Organisation
from portal.organisations.services import (
    SendingRefused,
    SettingsRefused,
    environment_create,
    environment_set_credentials,
    environment_set_sending,
    environment_update_settings,
    organisation_create,
    sending_blockers,
)
from tests.portal.accounts.factories import UserFactory
from tests.portal.organisations.factories import (
    EnvironmentFactory,
    FirmFactory,
    OrganisationFactory,
    OwnPeppolIdentifierFactory,
)

pytestmark = pytest.mark.django_db

PROFIT = {
    "afas_participant_number": "54321",
    "afas_environment_type": Environment.Type.PRODUCTION,
    "afas_edition": Environment.Edition.PROFIT,
    "poll_interval_seconds": 300,
}


# --- organisations ---------------------------------------------------------------------------------------------------


def test_an_organisation_is_created_for_the_firm():
    firm = FirmFactory()

    organisation = organisation_create(firm=firm, name=" Bakkerij B.V. ", kvk_number="12345678", actor=None)

    assert (organisation.firm, organisation.name, organisation.kvk_number) == (firm, "Bakkerij B.V.", "12345678")


def test_a_kvk_number_is_unique_within_the_firm_only():
    existing = OrganisationFactory(kvk_number="12345678")

    with pytest.raises(SettingsRefused) as refused:
        organisation_create(firm=existing.firm, name="Again", kvk_number="12345678", actor=None)
    organisation_create(firm=FirmFactory(), name="Elsewhere", kvk_number="12345678", actor=None)

    assert refused.value.field == "kvk_number"
    assert "already has a client with KvK number 12345678" in refused.value.message
    assert Organisation.objects.filter(kvk_number="12345678").count() == 2


def test_a_malformed_kvk_number_is_refused():
    with pytest.raises(SettingsRefused) as refused:
        organisation_create(firm=FirmFactory(), name="X", kvk_number="1234", actor=None)

    assert refused.value.message == "A KvK number has exactly 8 digits."


# --- environments ----------------------------------------------------------------------------------------------------


def test_an_environment_is_created_switched_off_and_recorded():
    organisation, user = OrganisationFactory(), UserFactory()

    environment = environment_create(organisation=organisation, actor=user, **PROFIT)

    assert (environment.sending_enabled, environment.receiving_enabled) == (False, False)
    assert not environment.has_afas_token
    event = Event.objects.get(environment=environment, kind="environment_created")
    assert event.actor == user
    assert "54321" in event.message


def test_one_afas_environment_can_be_set_up_once_across_all_firms():
    EnvironmentFactory(afas_participant_number="54321", afas_environment_type=Environment.Type.PRODUCTION)

    with pytest.raises(SettingsRefused) as refused:
        environment_create(organisation=OrganisationFactory(), actor=None, **PROFIT)

    assert refused.value.field == "afas_participant_number"
    assert "AFAS participant 54321 (Production) is already set up in the portal" in refused.value.message


def test_the_same_participant_may_have_a_test_environment_too():
    EnvironmentFactory(afas_participant_number="54321", afas_environment_type=Environment.Type.PRODUCTION)

    environment = environment_create(
        organisation=OrganisationFactory(), actor=None, **{**PROFIT, "afas_environment_type": Environment.Type.TEST}
    )

    assert environment.pk


@pytest.mark.parametrize(
    "change, field",
    [
        ({"afas_participant_number": "12"}, "afas_participant_number"),
        ({"poll_interval_seconds": 59}, "poll_interval_seconds"),
        ({"afas_edition": Environment.Edition.SMALL_BUSINESS}, "afas_sb_domain"),
        ({"afas_sb_domain": "https://evil.example/"}, "afas_sb_domain"),
    ],
)
def test_settings_the_database_would_refuse_are_refused_with_a_reason(change, field):
    with pytest.raises(SettingsRefused) as refused:
        environment_create(organisation=OrganisationFactory(), actor=None, **{**PROFIT, **change})

    assert refused.value.field == field
    assert not Environment.objects.exists()


def test_only_settings_can_be_given():
    with pytest.raises(TypeError):
        environment_create(organisation=OrganisationFactory(), actor=None, sending_enabled=True, **PROFIT)


def test_changed_settings_are_saved_and_recorded_with_old_and_new_values():
    environment = EnvironmentFactory(afas_participant_number="11111", poll_interval_seconds=300)
    administration = uuid.uuid4()

    changed = environment_update_settings(
        environment=environment,
        actor=None,
        afas_participant_number="11111",
        poll_interval_seconds=600,
        afas_edition=Environment.Edition.SMALL_BUSINESS,
        afas_sb_domain="acme",
        afas_sb_administration_id=administration,
    )

    stored = Environment.objects.get(pk=environment.pk)
    assert changed == ["afas_edition", "poll_interval_seconds", "afas_sb_domain", "afas_sb_administration_id"]
    assert (stored.poll_interval_seconds, stored.afas_sb_domain, stored.afas_sb_administration_id) == (
        600,
        "acme",
        administration,
    )
    event = Event.objects.get(environment=environment, kind="settings_changed")
    assert event.data["poll_interval_seconds"] == {"from": 300, "to": 600}
    assert event.data["afas_sb_administration_id"] == {"from": "", "to": str(administration)}


def test_unchanged_settings_record_nothing():
    environment = EnvironmentFactory(poll_interval_seconds=300)

    assert environment_update_settings(environment=environment, actor=None, poll_interval_seconds=300) == []
    assert not Event.objects.filter(kind="settings_changed").exists()


def test_moving_an_environment_onto_another_ones_participant_number_is_refused():
    EnvironmentFactory(afas_participant_number="22222")
    environment = EnvironmentFactory(afas_participant_number="33333")

    with pytest.raises(SettingsRefused):
        environment_update_settings(environment=environment, actor=None, afas_participant_number="22222")

    assert Environment.objects.get(pk=environment.pk).afas_participant_number == "33333"


# --- the sending switch ----------------------------------------------------------------------------------------------


@pytest.fixture
def ready():
    environment = EnvironmentFactory()
    environment_set_credentials(
        environment=environment, actor=None, afas_token="t", econnect_app_key="k", econnect_app_secret="s"
    )
    OwnPeppolIdentifierFactory(environment=environment)
    return Environment.objects.get(pk=environment.pk)


def test_sending_is_switched_on_and_off_and_recorded(ready):
    user = UserFactory()

    environment_set_sending(environment=ready, enabled=True, actor=user)
    assert Environment.objects.get(pk=ready.pk).sending_enabled is True
    environment_set_sending(environment=ready, enabled=False, actor=user)

    assert Environment.objects.get(pk=ready.pk).sending_enabled is False
    events = Event.objects.filter(environment=ready, kind="sending_switched").order_by("created_at", "pk")
    assert [(e.to_status, e.actor) for e in events] == [("on", user), ("off", user)]


def test_sending_is_refused_without_an_afas_token_and_econnect_keys():
    environment = EnvironmentFactory()
    OwnPeppolIdentifierFactory(environment=environment)

    with pytest.raises(SendingRefused) as refused:
        environment_set_sending(environment=environment, enabled=True, actor=None)

    assert refused.value.message == (
        "Sending stays off: The AFAS token is not set. The eConnect connection keys (App Key and Secret) are not set."
    )
    assert Environment.objects.get(pk=environment.pk).sending_enabled is False
    assert not Event.objects.filter(kind="sending_switched").exists()


def test_sending_needs_an_own_identifier_to_send_from(ready):
    ready.own_identifiers.all().delete()

    assert sending_blockers(ready) == [
        "The organisation has no own Peppol identifier on this environment to send from; add it first."
    ]


def test_switching_off_is_always_allowed():
    environment = EnvironmentFactory(sending_enabled=True)

    environment_set_sending(environment=environment, enabled=False, actor=None)

    assert Environment.objects.get(pk=environment.pk).sending_enabled is False
