"""A firm admin adds and removes the organisation's own Peppol identifiers: checked, stored canonically, looked up in
the Peppol directory at once, with the one-route rule applied."""

import pytest
from django.urls import reverse
from django.utils import translation

from integrations.econnect.models import AccessPoint
from integrations.http import RemoteUnavailable
from portal.organisations import clients
from portal.organisations.models import Environment, OwnPeppolIdentifier, Registration
from portal.organisations.own_identifiers import IdentifierRefused, own_identifier_add, own_identifier_remove
from tests.portal.organisations.directory import FakeLookup, registered
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory, OwnPeppolIdentifierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, kvk_number="12345678"))


def test_either_notation_is_stored_canonically_with_where_the_directory_says_it_receives(environment):
    directory = FakeLookup(registered("0106:12345678"))

    own = own_identifier_add(environment=environment, text="  nl:kvk:12345678 ", actor=None, lookup=directory)

    assert (own.scheme, own.value, own.registration) == ("0106", "12345678", Registration.ECONNECT)
    assert own.registration_checked_at is not None and own.registration_endpoint
    assert [str(identifier) for identifier in directory.asked] == ["0106:12345678"]
    assert environment.events.get(kind="own_identifier_added").message == "Own Peppol identifier 0106:12345678 added."


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0106:1234567", "0106:1234567 is not valid"),
        ("NL:KVK:", "no number after scheme 0106"),
        ("hello", "scheme"),
        ("", "Enter the Peppol identifier"),
        ("0106:" + "1" * 200, "at most 120 characters"),
    ],
)
def test_a_wrong_identifier_is_refused_with_the_reason_and_nothing_is_stored(environment, text, reason):
    with pytest.raises(IdentifierRefused) as refused:
        own_identifier_add(environment=environment, text=text, actor=None, lookup=FakeLookup())

    assert reason in refused.value.message
    assert not OwnPeppolIdentifier.objects.exists()


def test_the_reason_is_in_dutch_for_a_dutch_reader(environment):
    with translation.override("nl"), pytest.raises(IdentifierRefused) as refused:
        own_identifier_add(environment=environment, text="0106:1234567", actor=None, lookup=FakeLookup())

    assert "is niet geldig" in refused.value.message and "KvK-nummer" in refused.value.message


def test_the_same_identifier_twice_is_refused(environment):
    own_identifier_add(environment=environment, text="0106:12345678", actor=None, lookup=FakeLookup())

    with pytest.raises(IdentifierRefused, match="already on this environment"):
        own_identifier_add(environment=environment, text="NL:KVK:12345678", actor=None, lookup=FakeLookup())


def test_while_receiving_is_on_an_identifier_registered_elsewhere_is_refused(environment):
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True)
    environment.refresh_from_db()
    directory = FakeLookup(registered("0106:12345678", AccessPoint.AFAS))

    with pytest.raises(IdentifierRefused, match="cannot be added: 0106:12345678 is registered elsewhere: AFAS"):
        own_identifier_add(environment=environment, text="0106:12345678", actor=None, lookup=directory)

    assert not OwnPeppolIdentifier.objects.exists()


def test_while_receiving_is_on_an_identifier_receiving_on_another_environment_is_refused(environment):
    other = OwnPeppolIdentifierFactory(value="12345678", receive_active=True)
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True)
    environment.refresh_from_db()

    with pytest.raises(IdentifierRefused, match="already receives via eConnect on"):
        own_identifier_add(
            environment=environment, text="0106:12345678", actor=None, lookup=FakeLookup(registered("0106:12345678"))
        )

    assert list(OwnPeppolIdentifier.objects.all()) == [other]


def test_while_receiving_is_on_a_new_identifier_registered_at_econnect_receives_at_once(environment):
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True)
    environment.refresh_from_db()

    own = own_identifier_add(
        environment=environment, text="0106:12345678", actor=None, lookup=FakeLookup(registered("0106:12345678"))
    )

    assert own.receive_active


def test_a_directory_outage_is_noted_while_receiving_is_off(environment):
    outage = FakeLookup(error=RemoteUnavailable("Lookup is down.", service="eConnect"))

    own = own_identifier_add(environment=environment, text="0106:12345678", actor=None, lookup=outage)

    assert own.registration == Registration.NOT_CHECKED
    assert own.registration_error == "The Peppol directory could not be asked: Lookup is down."


def test_a_directory_outage_refuses_the_identifier_while_receiving_is_on(environment):
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True)
    environment.refresh_from_db()
    outage = FakeLookup(error=RemoteUnavailable("Lookup is down.", service="eConnect"))

    with pytest.raises(IdentifierRefused, match="could not be asked"):
        own_identifier_add(environment=environment, text="0106:12345678", actor=None, lookup=outage)

    assert not OwnPeppolIdentifier.objects.exists()


def test_the_last_identifier_stays_while_sending_is_on(environment):
    own = OwnPeppolIdentifierFactory(environment=environment)
    Environment.objects.filter(pk=environment.pk).update(sending_enabled=True)

    with pytest.raises(IdentifierRefused, match="only own identifier"):
        own_identifier_remove(own=own, actor=None)

    assert OwnPeppolIdentifier.objects.filter(pk=own.pk).exists()


def test_an_identifier_is_removed_with_a_timeline_entry(environment):
    own = OwnPeppolIdentifierFactory(environment=environment)

    own_identifier_remove(own=own, actor=None)

    assert not OwnPeppolIdentifier.objects.exists()
    assert environment.events.filter(kind="own_identifier_removed").exists()


# --- the environment page ---------------------------------------------------------------------------------------------


@pytest.fixture
def directory(monkeypatch):
    lookup = FakeLookup(registered("0106:12345678"))
    monkeypatch.setattr(clients, "peppol_lookup", lambda: lookup)
    return lookup


def test_a_firm_admin_adds_an_identifier_and_sees_where_it_is_registered(firm_admin_client, environment, directory):
    response = firm_admin_client.post(
        reverse("web:environment_identifier_add", args=[environment.pk]), {"identifier": "NL:KVK:12345678"}, follow=True
    )

    page = response.content.decode()
    assert "0106:12345678 is added. Peppol directory: 0106:12345678 is registered at eConnect." in page
    assert environment.own_identifiers.get().identifier == "0106:12345678"


def test_the_identifier_field_is_bounded_on_the_server(firm_admin_client, environment, directory):
    response = firm_admin_client.post(
        reverse("web:environment_identifier_add", args=[environment.pk]), {"identifier": "0" * 100_000}, follow=True
    )

    assert "at most 120 characters" in response.content.decode()
    assert not environment.own_identifiers.exists()


def test_the_page_suggests_the_organisations_kvk_when_there_is_no_identifier(firm_admin_client, environment):
    page = firm_admin_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()

    assert 'value="0106:12345678"' in page


def test_a_firm_admin_removes_an_identifier(firm_admin_client, environment):
    own = OwnPeppolIdentifierFactory(environment=environment)

    firm_admin_client.post(reverse("web:environment_identifier_remove", args=[environment.pk, own.pk]))

    assert not environment.own_identifiers.exists()


def test_accountants_see_the_identifiers_but_cannot_change_them(accountant_client, environment):
    OwnPeppolIdentifierFactory(environment=environment)

    page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()
    refused = accountant_client.post(
        reverse("web:environment_identifier_add", args=[environment.pk]), {"identifier": "0106:12345678"}
    )

    assert "0106:12345678" in page and "Add and look it up" not in page
    assert refused.status_code == 403
