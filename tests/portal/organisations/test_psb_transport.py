"""An environment on eConnect PSB (REST): its settings and write-only credentials, the gateway it gets, 'test
connection' against the simulator's PSB API, and what stays off until PSB receiving exists (no inbox to poll)."""

from __future__ import annotations

import pytest
from django.db import connection

from integrations.econnect.errors import InvalidCredentials
from integrations.econnect.psb.auth import forget_tokens
from integrations.econnect.psb.gateway import PsbGateway
from integrations.econnect.simulator import create_app
from integrations.simulators.transport import SimulatorTransport
from portal.incoming_invoices.fetching import incoming_dispatch_fetches
from portal.organisations import clients
from portal.organisations.connection_test import environment_test_connection
from portal.organisations.models import Environment
from portal.organisations.routes import receiving_blockers
from portal.organisations.services import SettingsRefused, environment_set_credentials, environment_update_settings
from portal.web.forms.environments import CredentialsForm
from tests.portal.organisations.factories import EnvironmentFactory, psb_environment

PSB = Environment.EConnectTransport.PSB
PARTY = "0106:12345678"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture(name="psb_environment")
def psb_environment_fixture(db):
    return psb_environment(PARTY)


@pytest.fixture
def simulator(settings):
    app = create_app()
    app.add_psb_client(client_id="portal-client", client_secret="s3cret", parties=[PARTY])
    settings.ECONNECT_PSB_URL = settings.ECONNECT_PSB_IDENTITY_URL = "http://127.0.0.1:8102"
    return app


def test_psb_credentials_are_stored_encrypted_and_stamped(psb_environment):
    assert psb_environment.has_econnect_keys
    assert psb_environment.econnect_psb_keys_set_at is not None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT econnect_psb_client_id, econnect_psb_client_secret FROM {Environment._meta.db_table} WHERE id = %s",
            [psb_environment.pk],
        )
        raw_columns = cursor.fetchone()
    assert all(raw.startswith("gAAAAA") for raw in raw_columns)  # Fernet tokens
    assert "s3cret" not in "".join(raw_columns)


def test_a_psb_environment_without_its_party_has_no_usable_keys(psb_environment):
    Environment.objects.filter(pk=psb_environment.pk).update(econnect_psb_party_id="")
    psb_environment.refresh_from_db()

    assert not psb_environment.has_econnect_keys


def test_the_party_id_is_stored_in_icd_notation_and_a_bad_one_is_refused(db):
    environment = EnvironmentFactory()

    changed = environment_update_settings(
        environment=environment, actor=None, econnect_transport=PSB, econnect_psb_party_id="NL:KVK:12345678"
    )
    environment.refresh_from_db()

    assert set(changed) == {"econnect_transport", "econnect_psb_party_id"}
    assert environment.econnect_psb_party_id == PARTY
    assert environment_update_settings(environment=environment, actor=None, econnect_psb_party_id="0106:12345678") == []
    with pytest.raises(SettingsRefused) as refused:
        environment_update_settings(environment=environment, actor=None, econnect_psb_party_id="not an id")
    assert refused.value.field == "econnect_psb_party_id"


def test_half_a_psb_credential_pair_is_refused_in_the_form():
    form = CredentialsForm({"econnect_psb_client_id": "only-the-id"})

    assert not form.is_valid()
    assert (
        "The eConnect PSB client id and secret belong together: enter both."
        in form.errors["econnect_psb_client_secret"]
    )


def test_clearing_psb_credentials_clears_both(psb_environment):
    form = CredentialsForm({"clear_econnect_psb_keys": "on"})
    assert form.is_valid()

    environment_set_credentials(environment=psb_environment, actor=None, **form.changes())
    psb_environment.refresh_from_db()

    assert (psb_environment.econnect_psb_client_id, psb_environment.econnect_psb_keys_set_at) == ("", None)


def test_a_psb_environment_gets_the_psb_gateway(psb_environment, simulator):
    gateway = clients.econnect_gateway_for(psb_environment, transport=SimulatorTransport(simulator))

    assert isinstance(gateway._client, PsbGateway)  # inside the connection-health wrapper
    gateway.login()


def test_missing_psb_credentials_are_a_credential_failure_on_the_environment(db):
    environment = EnvironmentFactory(econnect_transport=PSB, econnect_psb_party_id=PARTY)

    with pytest.raises(InvalidCredentials):
        clients.econnect_gateway_for(environment)

    environment.refresh_from_db()
    assert environment.econnect_failing_since is not None
    assert "PSB client id" in environment.econnect_failure


def test_test_connection_over_psb_names_the_party(psb_environment, simulator, monkeypatch):
    make = clients.econnect_gateway_for
    monkeypatch.setattr(
        clients, "econnect_gateway_for", lambda env, **kw: make(env, transport=SimulatorTransport(simulator), **kw)
    )

    result = environment_test_connection(environment=psb_environment, actor=None)

    assert result.econnect.ok
    assert result.econnect.text == f"eConnect PSB accepted the client id and secret for party {PARTY}."


def test_test_connection_over_psb_says_which_parties_the_credentials_hold(psb_environment, simulator, monkeypatch):
    Environment.objects.filter(pk=psb_environment.pk).update(econnect_psb_party_id="0106:99999999")
    psb_environment.refresh_from_db()
    make = clients.econnect_gateway_for
    monkeypatch.setattr(
        clients, "econnect_gateway_for", lambda env, **kw: make(env, transport=SimulatorTransport(simulator), **kw)
    )

    result = environment_test_connection(environment=psb_environment, actor=None)

    assert not result.econnect.ok
    assert PARTY in result.econnect.message


def test_a_psb_environment_without_credentials_gets_the_psb_hint(db):
    environment = EnvironmentFactory(econnect_transport=PSB, econnect_psb_party_id=PARTY)

    result = environment_test_connection(environment=environment, actor=None)

    assert result.econnect.text.startswith("The eConnect PSB client id, client secret and party id are not all set")


def test_psb_environments_are_not_polled_for_an_inbox(psb_environment):
    soap = EnvironmentFactory()
    Environment.objects.filter(pk__in=[psb_environment.pk, soap.pk]).update(receiving_enabled=True)

    assert incoming_dispatch_fetches() == [soap.pk]


def test_receiving_over_psb_waits_for_connected_webhooks(psb_environment, settings):
    settings.PORTAL_PUBLIC_URL = "https://portal.example"

    problems = receiving_blockers(psb_environment)

    assert any("webhooks are not connected" in problem for problem in problems)


def test_the_checklist_asks_for_the_psb_credentials_of_a_psb_environment(db):
    from portal.organisations.checklist import environment_checklist
    from tests.portal.organisations.factories import EnvironmentFactory

    environment = EnvironmentFactory(econnect_transport=Environment.EConnectTransport.PSB)

    checklist = environment_checklist(environment, identifiers=[])
    step = next(step for step in checklist.steps if step.key == "econnect_keys")

    assert "PSB client id and secret" in step.title.render()
    assert "PSB party id" in step.detail.render()
