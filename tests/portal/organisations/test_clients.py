"""The demo environments reach the simulators that `make run` starts, with the credentials the demo seed stored."""

import httpx
import pytest
from django.test import override_settings

from integrations.afas import simulator as afas_simulator
from integrations.econnect import simulator as econnect_simulator
from integrations.peppol.identifiers import parse_identifier
from integrations.simulators.transport import SimulatorTransport
from portal.organisations.clients import afas_client_for, econnect_gateway_for
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment

pytestmark = pytest.mark.django_db

SIMULATOR_URLS = {
    "AFAS_BASE_URL_TEMPLATE": "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices",
    "ECONNECT_SOAP_URL": "http://127.0.0.1:8102/soap/v3.1",
    "ECONNECT_LOOKUP_URL": "http://127.0.0.1:8102",
}


@pytest.fixture
def afas_transport():
    app = afas_simulator.create_app()
    afas_simulator.seed_demo(app)
    return SimulatorTransport(app)


@pytest.fixture
def econnect_transport():
    app = econnect_simulator.create_app()
    econnect_simulator.seed_demo(app)
    return SimulatorTransport(app)


@override_settings(**SIMULATOR_URLS)
def test_every_demo_profit_environment_passes_the_afas_connection_test(afas_transport):
    demo_seed()

    for environment in Environment.objects.filter(afas_edition=Environment.Edition.PROFIT):
        with afas_client_for(environment, transport=afas_transport) as client:
            result = client.test_connection()
        assert result.ok, (str(environment), result.message)


@override_settings(**SIMULATOR_URLS)
def test_every_demo_environment_logs_in_at_econnect_with_its_stored_keys(econnect_transport):
    demo_seed()

    for environment in Environment.objects.all():
        with econnect_gateway_for(environment, transport=econnect_transport) as gateway:
            gateway.login()


@override_settings(**SIMULATOR_URLS)
def test_a_wrong_stored_token_is_reported_by_the_connection_test(afas_transport):
    from portal.organisations.services import environment_set_credentials

    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
    environment_set_credentials(environment=environment, actor=None, afas_token="<token><data>wrong</data></token>")
    environment.refresh_from_db()

    with afas_client_for(environment, transport=afas_transport) as client:
        result = client.test_connection()

    assert not result.ok
    assert "token" in result.message.lower()


@override_settings(**SIMULATOR_URLS)
def test_the_demo_lookup_finds_a_customer_registered_at_econnect(econnect_transport):
    from integrations.peppol.document_types import DocumentType

    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")

    with econnect_gateway_for(environment, transport=econnect_transport) as gateway:
        result = gateway.look_up_participants([parse_identifier("0106:30123456")], DocumentType.INVOICE)

    assert result.best is not None


@override_settings(**SIMULATOR_URLS)
def test_no_credential_or_url_key_reaches_the_logs(econnect_transport, afas_transport, caplog):
    import logging

    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
    caplog.set_level(logging.DEBUG, logger="integrations")
    caplog.set_level(logging.INFO)  # what production logs for httpx and everything else
    with override_settings(ECONNECT_SOAP_URL="http://127.0.0.1:8102/soap/v3.1?subscriptionKey=SUBSCRIPTION-SECRET"):
        with econnect_gateway_for(environment, transport=econnect_transport) as gateway:
            gateway.login()
    with afas_client_for(environment, transport=afas_transport) as client:
        client.test_connection()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the calls were logged at all
    for secret in (
        "SUBSCRIPTION-SECRET",
        environment.econnect_app_key,
        environment.econnect_app_key[-4:],
        environment.econnect_app_secret,
        "demo-12345-production",
    ):
        assert secret not in logged


class _Recording(httpx.BaseTransport):
    def __init__(self, inner):
        self.inner, self.requests = inner, []

    def handle_request(self, request):
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("integration_id", ["12345_678900", ""])
def test_the_afas_integration_id_goes_on_every_call_when_configured(afas_transport, settings, integration_id):
    settings.AFAS_BASE_URL_TEMPLATE = SIMULATOR_URLS["AFAS_BASE_URL_TEMPLATE"]
    settings.AFAS_INTEGRATION_ID = integration_id
    demo_seed()
    recording = _Recording(afas_transport)
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")

    with afas_client_for(environment, transport=recording) as client:
        client.metainfo()
        client.debtors()

    sent = {request.headers.get("IntegrationId") for request in recording.requests}
    assert sent == ({integration_id} if integration_id else {None})
    assert len(recording.requests) >= 2


def test_the_econnect_subscription_key_goes_on_every_soap_call(econnect_transport, settings):
    from integrations.demo_data import SIMULATOR_SUBSCRIPTION_KEY

    settings.ECONNECT_SOAP_URL = SIMULATOR_URLS["ECONNECT_SOAP_URL"]
    settings.ECONNECT_SUBSCRIPTION_KEY = SIMULATOR_SUBSCRIPTION_KEY
    demo_seed()
    recording = _Recording(econnect_transport)
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")

    with econnect_gateway_for(environment, transport=recording) as gateway:
        gateway.login()
        gateway.list_inbox_documents()

    assert {r.url.params.get("subscriptionKey") for r in recording.requests} == {SIMULATOR_SUBSCRIPTION_KEY}
