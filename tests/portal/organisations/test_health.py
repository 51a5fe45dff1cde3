"""Connection health: every AFAS and eConnect call through the environment's clients records whether it worked."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from integrations.econnect import simulator as econnect_simulator
from integrations.http import AccessDenied, AuthenticationError, RemoteUnavailable
from integrations.simulators.transport import SimulatorTransport
from portal.organisations import clients
from portal.organisations.health import (
    ObservedClient,
    Service,
    environment_record_credential_failure,
    environment_record_success,
)
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
AFAS_TOKEN = "<token><version>1</version><data>SECRET-AFAS-TOKEN-VALUE</data></token>"
ECONNECT_KEY, ECONNECT_SECRET = "APP-KEY-0123456789", "APP-SECRET-0123456789"
SIMULATOR_URLS = {
    "AFAS_BASE_URL_TEMPLATE": "http://afas.test/{participant}/{rest_host}/ProfitRestServices",
    "ECONNECT_SOAP_URL": "http://econnect.test/soap/v3.1",
    "ECONNECT_LOOKUP_URL": "http://econnect.test",
}


@pytest.fixture
def environment():
    environment = EnvironmentFactory()
    environment_set_credentials(
        environment=environment,
        actor=None,
        afas_token=AFAS_TOKEN,
        econnect_app_key=ECONNECT_KEY,
        econnect_app_secret=ECONNECT_SECRET,
    )
    return Environment.objects.get(pk=environment.pk)


def afas_answering(status: int, body: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


def reload(environment: Environment) -> Environment:
    return Environment.objects.get(pk=environment.pk)


# --- the two recording services -------------------------------------------------------------------------------


def test_a_success_records_when_the_service_last_answered(environment):
    assert environment_record_success(environment_id=environment.pk, service=Service.AFAS, now=T0)

    environment = reload(environment)
    assert environment.afas_last_success_at == T0
    assert environment.econnect_last_success_at is None


def test_successes_are_written_at_most_once_a_minute_also_by_another_process(environment):
    from portal.organisations import health

    environment_record_success(environment_id=environment.pk, service=Service.ECONNECT, now=T0)
    health._success_written.clear()  # another worker process: it does not know of that success

    with CaptureQueriesContext(connection) as queries:
        written = environment_record_success(
            environment_id=environment.pk, service=Service.ECONNECT, now=T0 + timedelta(seconds=59)
        )

    assert not written  # the conditional UPDATE matched no row
    assert sum(query["sql"].startswith("UPDATE") for query in queries.captured_queries) == 1  # and no SELECT first
    assert reload(environment).econnect_last_success_at == T0
    # That answer (a success under a minute old) also holds for this process for the next minute.
    assert not environment_record_success(
        environment_id=environment.pk, service=Service.ECONNECT, now=T0 + timedelta(seconds=61)
    )
    assert environment_record_success(
        environment_id=environment.pk, service=Service.ECONNECT, now=T0 + timedelta(seconds=120)
    )
    assert reload(environment).econnect_last_success_at == T0 + timedelta(seconds=120)


def test_a_credential_failure_is_recorded_with_when_and_the_exact_message(environment):
    environment_record_credential_failure(
        environment_id=environment.pk, service=Service.AFAS, message="AFAS refused the token.", now=T0
    )

    environment = reload(environment)
    assert environment.afas_failing_since == T0
    assert environment.afas_failure == "AFAS refused the token."
    assert environment.credentials_failing
    assert environment.econnect_failing_since is None


def test_a_repeated_failure_keeps_when_the_failing_started_and_the_latest_message(environment):
    environment_record_credential_failure(environment_id=environment.pk, service=Service.AFAS, message="A", now=T0)

    same = environment_record_credential_failure(
        environment_id=environment.pk, service=Service.AFAS, message="A", now=T0 + timedelta(hours=1)
    )
    environment_record_credential_failure(
        environment_id=environment.pk, service=Service.AFAS, message="B", now=T0 + timedelta(hours=2)
    )

    assert not same
    environment = reload(environment)
    assert environment.afas_failing_since == T0
    assert environment.afas_failure == "B"


def test_the_next_success_clears_a_failure_even_within_the_minute(environment):
    environment_record_success(environment_id=environment.pk, service=Service.AFAS, now=T0)
    environment_record_credential_failure(
        environment_id=environment.pk, service=Service.AFAS, message="refused", now=T0 + timedelta(seconds=10)
    )

    assert environment_record_success(
        environment_id=environment.pk, service=Service.AFAS, now=T0 + timedelta(seconds=20)
    )

    environment = reload(environment)
    assert environment.afas_failing_since is None
    assert environment.afas_failure == ""
    assert environment.afas_last_success_at == T0 + timedelta(seconds=20)
    assert not environment.credentials_failing


def test_a_failing_write_is_swallowed_and_leaves_the_callers_transaction_usable(environment, monkeypatch):
    def broken_filter(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_for_health")

    monkeypatch.setattr(Environment.objects, "filter", broken_filter)

    assert not environment_record_success(environment_id=environment.pk, service=Service.AFAS, now=T0)
    assert not environment_record_credential_failure(
        environment_id=environment.pk, service=Service.AFAS, message="x", now=T0
    )
    monkeypatch.undo()

    assert Environment.objects.filter(pk=environment.pk).exists()  # the test's transaction still works


# --- the observing wrapper -------------------------------------------------------------------------------------


class FakeClient:
    def __init__(self, error: Exception | None = None):
        self.error = error
        self.closed = False

    def fetch(self, value):
        if self.error:
            raise self.error
        return value

    def rows(self, count):
        for number in range(count):
            if self.error and number == 1:
                raise self.error
            yield number

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def observe(client, environment, secrets=()):
    return ObservedClient(client, environment_id=environment.pk, service=Service.ECONNECT, secrets=secrets)


def test_results_and_exceptions_pass_through_the_wrapper_unchanged(environment):
    error = RemoteUnavailable("down", service="eConnect")

    with observe(FakeClient(), environment) as client:
        assert client.fetch(42) == 42
    with pytest.raises(RemoteUnavailable) as raised, observe(FakeClient(error), environment) as failing:
        failing.fetch(1)

    assert raised.value is error


def test_a_transient_failure_says_nothing_about_the_credentials(environment):
    with pytest.raises(RemoteUnavailable):
        observe(FakeClient(RemoteUnavailable("down", service="eConnect")), environment).fetch(1)

    environment = reload(environment)
    assert environment.econnect_failing_since is None
    assert environment.econnect_last_success_at is None


@pytest.mark.parametrize("error_type", [AuthenticationError, AccessDenied])
def test_a_refusal_is_recorded_and_still_raised(environment, error_type):
    with pytest.raises(error_type):
        observe(FakeClient(error_type("eConnect: no access for this key", service="eConnect")), environment).fetch(1)

    assert reload(environment).econnect_failure == "eConnect: no access for this key"


def test_a_secret_echoed_in_a_refusal_is_not_stored(environment):
    error = AuthenticationError(f"key {ECONNECT_KEY} with secret {ECONNECT_SECRET} refused", service="eConnect")

    with pytest.raises(AuthenticationError):
        observe(FakeClient(error), environment, secrets=(ECONNECT_KEY, ECONNECT_SECRET)).fetch(1)

    stored = reload(environment).econnect_failure
    assert "refused" in stored
    assert ECONNECT_KEY not in stored
    assert ECONNECT_SECRET not in stored


def test_a_generator_counts_when_it_has_been_read(environment):
    rows = observe(FakeClient(), environment).rows(3)
    assert reload(environment).econnect_last_success_at is None  # nothing was called yet

    assert list(rows) == [0, 1, 2]

    assert reload(environment).econnect_last_success_at is not None


def test_a_refusal_while_reading_a_generator_is_recorded(environment):
    client = observe(FakeClient(AuthenticationError("refused halfway", service="eConnect")), environment)

    with pytest.raises(AuthenticationError):
        list(client.rows(3))

    assert reload(environment).econnect_failure == "refused halfway"


def test_the_real_call_survives_when_recording_fails(environment, monkeypatch):
    monkeypatch.setattr(Environment.objects, "filter", lambda *args, **kwargs: 1 / 0)

    assert observe(FakeClient(), environment).fetch("still works") == "still works"


# --- through the clients every part of the portal uses ----------------------------------------------------------


@override_settings(**SIMULATOR_URLS)
def test_an_afas_call_through_the_environments_client_records_a_success(environment):
    with clients.afas_client_for(environment, transport=afas_answering(200, {"version": "6.1"})) as afas:
        assert afas.profit_version() == "6.1"

    assert reload(environment).afas_last_success_at is not None


@override_settings(**SIMULATOR_URLS)
def test_a_refused_afas_token_is_recorded_and_cleared_by_the_next_success(environment):
    with (
        pytest.raises(AuthenticationError),
        clients.afas_client_for(environment, transport=afas_answering(401, {})) as afas,
    ):
        afas.profit_version()
    refused = reload(environment)
    with clients.afas_client_for(environment, transport=afas_answering(200, {"version": "6.1"})) as afas:
        afas.profit_version()

    assert refused.afas_failing_since is not None
    assert "AFAS refused the token" in refused.afas_failure
    assert "SECRET-AFAS-TOKEN-VALUE" not in refused.afas_failure
    cleared = reload(environment)
    assert cleared.afas_failing_since is None
    assert cleared.afas_failure == ""


@override_settings(**SIMULATOR_URLS)
def test_the_afas_connection_test_records_a_refused_token_it_reports_instead_of_raising(environment):
    with clients.afas_client_for(environment, transport=afas_answering(401, {})) as afas:
        result = afas.test_connection()

    assert not result.ok
    assert reload(environment).afas_failure == result.message


@override_settings(**SIMULATOR_URLS)
def test_wrong_econnect_keys_are_recorded_with_econnects_message(environment):
    transport = SimulatorTransport(econnect_simulator.create_app())

    with pytest.raises(AuthenticationError), clients.econnect_gateway_for(environment, transport=transport) as gateway:
        gateway.login()

    environment = reload(environment)
    assert environment.econnect_failing_since is not None
    assert "ERRIAU6000007" in environment.econnect_failure
    assert environment.afas_failing_since is None


@override_settings(**SIMULATOR_URLS)
def test_a_successful_econnect_login_records_a_success(environment):
    app = econnect_simulator.create_app()
    app.add_account(app_key=ECONNECT_KEY, app_secret=ECONNECT_SECRET, network="production", parties=[])

    with clients.econnect_gateway_for(environment, transport=SimulatorTransport(app)) as gateway:
        gateway.login()

    assert reload(environment).econnect_last_success_at is not None


@override_settings(**SIMULATOR_URLS)
def test_missing_econnect_keys_are_a_credential_failure():
    environment = EnvironmentFactory()

    with pytest.raises(AuthenticationError):
        clients.econnect_gateway_for(environment)

    assert "required" in reload(environment).econnect_failure


@override_settings(**SIMULATOR_URLS)
def test_a_page_where_a_person_waits_can_ask_for_a_shorter_timeout(environment):
    short = httpx.Timeout(4.0)

    with clients.afas_client_for(environment, timeout=short) as afas, clients.afas_client_for(environment) as default:
        assert afas.http._client.timeout == short
        assert default.http._client.timeout != short
    with clients.econnect_gateway_for(environment, timeout=short) as gateway:
        assert gateway._http._client.timeout == short


def test_a_success_within_the_interval_costs_no_statement_in_the_process_that_recorded_one(environment):
    environment_record_success(environment_id=environment.pk, service=Service.AFAS, now=T0)

    with CaptureQueriesContext(connection) as within:
        environment_record_success(environment_id=environment.pk, service=Service.AFAS, now=T0 + timedelta(seconds=30))
    with CaptureQueriesContext(connection) as after:
        environment_record_success(environment_id=environment.pk, service=Service.AFAS, now=T0 + timedelta(seconds=61))

    assert within.captured_queries == []
    assert [query["sql"].split()[0] for query in after.captured_queries if "UPDATE" in query["sql"]] == ["UPDATE"]


def test_a_failure_recorded_by_the_process_makes_its_next_success_write_at_once(environment):
    environment_record_success(environment_id=environment.pk, service=Service.AFAS, now=T0)
    environment_record_credential_failure(
        environment_id=environment.pk, service=Service.AFAS, message="token refused", now=T0 + timedelta(seconds=5)
    )

    assert environment_record_success(
        environment_id=environment.pk, service=Service.AFAS, now=T0 + timedelta(seconds=10)
    )
    environment.refresh_from_db()
    assert environment.afas_failing_since is None and environment.afas_failure == ""
