import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from integrations.econnect.models import AccessPoint, ParticipantLookup, Reachability
from integrations.http import TransientError
from integrations.peppol.identifiers import PeppolIdentifier
from portal.accounts.models import Membership
from portal.organisations import clients, routes
from portal.organisations.models import OwnPeppolIdentifier, Registration
from portal.organisations.services import environment_set_credentials
from tests.portal.organisations.directory import FakeLookup
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory, OwnPeppolIdentifierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(monkeypatch):
    lookup = FakeLookup()
    monkeypatch.setattr(clients, "peppol_lookup", lambda: lookup)
    return lookup


@pytest.fixture
def environment(membership):
    environment = EnvironmentFactory(
        organisation=OrganisationFactory(firm=membership.firm, kvk_number="12345678", name="Own Client B.V.")
    )
    environment_set_credentials(
        environment=environment, actor=None, afas_token="t", econnect_app_key="k", econnect_app_secret="s"
    )
    return environment


@pytest.fixture
def own(environment):
    return OwnPeppolIdentifierFactory(environment=environment)


def registered_at_afas(own):
    identifier = PeppolIdentifier(own.scheme, own.value)
    return {
        identifier: ParticipantLookup(
            identifier=identifier,
            reachability=Reachability.REGISTERED,
            access_point=AccessPoint.AFAS,
            endpoint_url="https://ap.afas.example/as4",
        )
    }


def switch(client, environment, enabled):
    return client.post(reverse("web:environment_set_receiving", args=[environment.pk]), {"enabled": enabled})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_refusal_is_shown_and_receiving_stays_off(accountant_client, environment, own, monkeypatch):
    def refuse(*, environment, enabled, actor):
        raise routes.ReceivingRefused("0106:12345678 is registered elsewhere: AFAS.")

    monkeypatch.setattr(routes, "environment_set_receiving", refuse)

    response = switch(accountant_client, environment, "on")

    environment.refresh_from_db()
    assert response["Location"] == reverse("web:environment_detail", args=[environment.pk])
    assert messages_of(response) == ["0106:12345678 is registered elsewhere: AFAS."]
    assert environment.receiving_enabled is False


def test_the_switch_passes_the_choice_and_the_user_to_the_service(
    accountant_client, membership, environment, monkeypatch
):
    calls = []
    monkeypatch.setattr(routes, "environment_set_receiving", lambda **kwargs: calls.append(kwargs))

    switch(accountant_client, environment, "off")

    assert [(c["environment"].pk, c["enabled"], c["actor"]) for c in calls] == [
        (environment.pk, False, membership.user)
    ]


def test_switching_on_succeeds_when_the_directory_names_no_other_access_point(
    accountant_client, environment, own, directory
):
    response = switch(accountant_client, environment, "on")

    environment.refresh_from_db()
    own.refresh_from_db()
    assert messages_of(response) == ["Receiving is switched on."]
    assert environment.receiving_enabled is True
    assert own.receive_active is True
    assert own.registration == Registration.NOT_REGISTERED


def test_switching_on_is_refused_when_the_identifier_is_registered_at_afas(
    accountant_client, environment, own, directory
):
    directory.found = registered_at_afas(own)

    response = switch(accountant_client, environment, "on")

    environment.refresh_from_db()
    assert environment.receiving_enabled is False
    assert "0106:12345678 is registered elsewhere: AFAS" in messages_of(response)[0]


def test_switching_off_stops_receiving(accountant_client, environment, own, directory):
    switch(accountant_client, environment, "on")

    response = switch(accountant_client, environment, "off")

    environment.refresh_from_db()
    assert messages_of(response)[-1] == "Receiving is switched off."
    assert environment.receiving_enabled is False


def test_an_unknown_switch_value_is_a_bad_request(accountant_client, environment, own, directory):
    response = switch(accountant_client, environment, "yes")

    environment.refresh_from_db()
    assert response.status_code == 400
    assert environment.receiving_enabled is False
    assert directory.asked == []


def test_a_viewer_cannot_switch_receiving_on(client, membership, environment, own, directory):
    membership.role = Membership.Role.VIEWER
    membership.save(update_fields=["role"])
    client.force_login(membership.user)

    response = switch(client, environment, "on")

    environment.refresh_from_db()
    assert response.status_code == 403
    assert environment.receiving_enabled is False


# --- the environment page ------------------------------------------------------------------------------------------


def page_of(client, environment) -> str:
    return client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()


def test_the_environment_page_shows_prominently_that_the_identifier_is_registered_at_afas(
    accountant_client, environment, own
):
    OwnPeppolIdentifier.objects.filter(pk=own.pk).update(
        registration=Registration.AFAS,
        registration_endpoint="https://ap.afas.example/as4",
        registration_checked_at=timezone.now(),
    )

    page = page_of(accountant_client, environment)

    assert '<div class="alert"><strong>Registered elsewhere: AFAS</strong>' in page
    assert "https://ap.afas.example/as4" in page
    # Receiving is off, so the reason it cannot be switched on is listed.
    assert "0106:12345678 is registered elsewhere: AFAS." in page
    assert "Switch receiving on" in page


def test_the_environment_page_notes_a_support_override(accountant_client, membership, environment, own):
    OwnPeppolIdentifier.objects.filter(pk=own.pk).update(
        registration=Registration.AFAS, route_override_at=timezone.now(), route_override_reason="Moving next week"
    )

    page = page_of(accountant_client, environment)

    assert "Support allowed receiving via eConnect anyway" in page
    assert "Moving next week" in page
    assert "is registered elsewhere" not in page  # the override lifts the blocker


def test_the_environment_page_lists_no_blockers_while_receiving_is_on(accountant_client, environment, own, directory):
    switch(accountant_client, environment, "on")
    OwnPeppolIdentifier.objects.filter(pk=own.pk).update(registration=Registration.AFAS)

    page = page_of(accountant_client, environment)

    assert "Receiving cannot be switched on yet" not in page
    assert "Switch receiving off" in page


def test_the_environment_page_shows_the_contacts_sync_and_links_to_the_customers(accountant_client, environment):
    environment.contacts_sync_error = "Debtors and creditors could not be read from AFAS: token refused"
    environment.save(update_fields=["contacts_sync_error"])

    page = page_of(accountant_client, environment)

    assert "token refused" in page
    assert reverse("web:environment_contacts", args=[environment.pk]) in page


def test_viewers_see_the_registration_but_no_switch(client, membership, environment, own):
    membership.role = Membership.Role.VIEWER
    membership.save(update_fields=["role"])
    client.force_login(membership.user)

    page = page_of(client, environment)

    assert "0106:12345678" in page
    assert "Switch receiving" not in page
    assert "Check directory now" not in page


# --- check directory now -----------------------------------------------------------------------------------------


def test_check_directory_now_records_where_the_identifier_is_registered(accountant_client, environment, own, directory):
    directory.found = registered_at_afas(own)

    response = accountant_client.post(reverse("web:environment_route_check", args=[environment.pk]))

    own.refresh_from_db()
    assert response.status_code == 302
    assert own.registration == Registration.AFAS
    assert own.registration_endpoint == "https://ap.afas.example/as4"


def test_check_directory_now_shows_a_directory_failure(accountant_client, environment, own, directory):
    directory.error = TransientError("timed out", service="Peppol directory")

    response = accountant_client.post(reverse("web:environment_route_check", args=[environment.pk]))

    own.refresh_from_db()
    assert messages_of(response) == ["The Peppol directory could not be asked: timed out"]
    assert "timed out" in own.registration_error
