"""'Test connection' against both simulators, in-process over the real clients (see ``contacts_world``)."""

import pytest

from portal.events.models import Event
from portal.organisations import clients
from portal.organisations.connection_test import ConnectionTestResult, environment_test_connection
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from tests.portal.organisations.factories import EnvironmentFactory

WRONG_TOKEN = "<token><version>1</version><data>WRONG-TOKEN-VALUE</data></token>"


@pytest.fixture
def world(contacts_world, monkeypatch, settings):
    """``contacts_world`` with eConnect's SOAP API and AFAS Small Business mounted as well."""
    econnect_transport = contacts_world.lookup_transport.inner
    afas_transport = contacts_world.afas_transport
    make_gateway, make_sb = clients.econnect_gateway_for, clients.afas_small_business_client_for
    monkeypatch.setattr(clients, "econnect_gateway_for", lambda env: make_gateway(env, transport=econnect_transport))
    monkeypatch.setattr(clients, "afas_small_business_client_for", lambda env: make_sb(env, transport=afas_transport))
    settings.ECONNECT_SOAP_URL = "http://127.0.0.1:8102/soap/v3.1"
    settings.AFAS_SB_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/sb/{domain}/{environment}"
    return contacts_world


def test_a_working_profit_environment_passes_on_both_services(world):
    result = environment_test_connection(environment=world.environment, actor=None)

    assert result.ok
    assert result.afas.text.startswith("Connected to AFAS environment ")
    assert "(Profit " in result.afas.text
    assert result.econnect.text == "eConnect accepted the connection keys."


def test_the_outcome_is_recorded_on_the_timeline_and_as_connection_health(world):
    environment_test_connection(environment=world.environment, actor=None)

    event = Event.objects.get(environment=world.environment, kind="connection_tested")
    assert event.to_status == "ok"
    assert ConnectionTestResult.from_data(event.data).ok
    stored = Environment.objects.get(pk=world.environment.pk)
    assert stored.afas_last_success_at is not None
    assert stored.econnect_last_success_at is not None


def test_a_wrong_afas_token_is_named_with_the_status_and_afas_own_words(world):
    environment_set_credentials(environment=world.environment, actor=None, afas_token=WRONG_TOKEN)

    result = environment_test_connection(environment=world.environment, actor=None)

    assert not result.ok
    assert (result.afas.status, result.afas.problem, result.afas.error_type) == (
        401,
        "token_rejected",
        "AfasAuthenticationError",
    )
    assert result.afas.text == (
        "AFAS refused the token for metainfo: check that the token belongs to this environment and that its app "
        "connector includes this connector."
    )
    assert result.afas.summary.startswith("AFAS: HTTP 401, token rejected: AFAS refused the token")
    assert result.econnect.ok  # the other service is tested all the same


def test_wrong_econnect_keys_are_named_with_econnects_code(world):
    environment_set_credentials(
        environment=world.environment, actor=None, econnect_app_key="wrong-key", econnect_app_secret="WRONG-SECRET"
    )

    result = environment_test_connection(environment=world.environment, actor=None)

    assert result.afas.ok
    assert (result.econnect.problem, result.econnect.code, result.econnect.error_type) == (
        "credentials_rejected",
        "ERRIAU6000007",
        "InvalidCredentials",
    )
    assert "Invalid consumer key or security token" in result.econnect.text
    assert result.econnect.summary.startswith("eConnect: HTTP 500, credentials not accepted, ERRIAU6000007: ")


def test_no_secret_reaches_the_timeline(world):
    environment_set_credentials(
        environment=world.environment,
        actor=None,
        afas_token=WRONG_TOKEN,
        econnect_app_key="wrong-key",
        econnect_app_secret="WRONG-SECRET",
    )

    environment_test_connection(environment=world.environment, actor=None)

    event = Event.objects.get(environment=world.environment, kind="connection_tested")
    recorded = f"{event.message}{event.data}"
    assert "WRONG-TOKEN-VALUE" not in recorded
    assert "WRONG-SECRET" not in recorded
    assert "AFAS: HTTP 401, token rejected" in event.message


def test_an_afas_that_does_not_answer_in_time_is_cut_short(world):
    # 15 s is within the workers' 30 s read timeout: only the test's short timeout turns it into a timeout.
    world.afas_fault(operation="GET /metainfo", delay=15.0, count=1)

    result = environment_test_connection(environment=world.environment, actor=None)

    assert (result.afas.problem, result.afas.error_type) == ("timeout", "RemoteTimeout")
    assert result.afas.text == "AFAS did not answer in time (ReadTimeout)."


def test_afas_in_maintenance_is_asked_once_and_reported(world):
    world.afas_fault(operation="GET /metainfo", status=503, headers={"Retry-After": "600"}, count=None)
    asked_before = world.afas_transport.paths.count("/12345/rest/ProfitRestServices/metainfo")

    result = environment_test_connection(environment=world.environment, actor=None)

    assert (result.afas.status, result.afas.problem) == (503, "unavailable")
    assert world.afas_transport.paths.count("/12345/rest/ProfitRestServices/metainfo") == asked_before + 1


def test_an_econnect_server_error_is_reported_as_such(world):
    world.econnect_fault(operation="Login", status=500, body="Internal error", count=1)

    result = environment_test_connection(environment=world.environment, actor=None)

    assert (result.econnect.status, result.econnect.problem) == (500, "unavailable")
    assert result.econnect.text == "eConnect Login: HTTP 500 without a SOAP fault."


def test_missing_credentials_are_reported_without_calling(world):
    environment = EnvironmentFactory(organisation=world.environment.organisation)
    asked_before = len(world.afas_transport.paths)

    result = environment_test_connection(environment=environment, actor=None)

    assert (result.afas.problem, result.econnect.problem) == ("no_token", "no_keys")
    assert result.afas.text == "No AFAS token is set: set it in the settings."
    assert len(world.afas_transport.paths) == asked_before


def test_a_token_whose_app_connector_lacks_connectors_names_them(world):
    token = "<token><version>1</version><data>partial</data></token>"
    fixture = {"participant": "33333", "tokens": [{"token": token, "connectors": ["Profit_Creditor"]}]}
    assert world.afas.request("POST", "/_sim/fixtures", json={"environments": [fixture]}).status_code in (200, 201)
    environment = EnvironmentFactory(organisation=world.environment.organisation, afas_participant_number="33333")
    environment_set_credentials(environment=environment, actor=None, afas_token=token)

    result = environment_test_connection(environment=environment, actor=None)

    assert result.afas.problem == "connectors_missing"
    assert "ProfitSubjectsAuthorized" in result.afas.text


def test_a_small_business_environment_is_tested_with_its_app_token(world):
    environment = Environment.objects.get(afas_participant_number="67890")

    assert environment_test_connection(environment=environment, actor=None).afas.ok

    environment_set_credentials(environment=environment, actor=None, afas_token="wrong-app-token")
    result = environment_test_connection(environment=environment, actor=None)
    assert (result.afas.status, result.afas.problem) == (401, "token_rejected")
    assert "AFAS Small Business refused the token for getaccesstoken" in result.afas.text


def test_a_result_survives_the_round_trip_through_the_timeline(world):
    environment_set_credentials(environment=world.environment, actor=None, afas_token=WRONG_TOKEN)
    result = environment_test_connection(environment=world.environment, actor=None)

    again = ConnectionTestResult.from_data(Event.objects.get(kind="connection_tested").data)

    assert again == result
