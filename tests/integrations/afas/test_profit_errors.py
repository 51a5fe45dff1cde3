import base64

import pytest

from integrations.afas.errors import (
    AfasAccessDenied,
    AfasAuthenticationError,
    AfasFunctionalError,
    AfasMaintenance,
    AfasQueryTooLong,
    AfasRecordLocked,
)
from integrations.afas.models import Condition, ConnectionProblem, ConnectorNames, Filter, Operator
from integrations.http import MAX_RETRY_AFTER_SECONDS, MalformedResponse, RemoteTimeout, RemoteUnavailable
from tests.integrations.afas.conftest import DEMO, fault, settings

LOCKED = '{"externalMessage":"The journal is locked by user 12345.JANSEN.","errorNumber":-2147220469,"profitLogReference":"AB12"}'


def test_an_unknown_token_is_a_permanent_authentication_error_naming_the_fix(make_client):
    client = make_client(token="<token><version>1</version><data>wrong</data></token>", read_attempts=1)

    with pytest.raises(AfasAuthenticationError) as caught:
        client.creditors()

    assert not caught.value.transient
    assert "token" in caught.value.message and "app connector" in caught.value.message


def test_a_token_of_another_environment_is_refused(make_client):
    client = make_client(environment_type="test")  # the production token against the test environment

    with pytest.raises(AfasAuthenticationError):
        client.creditors()


def test_a_connector_outside_the_app_connector_is_refused_with_401(control, make_client):
    token = "<token><version>1</version><data>limited</data></token>"
    fixture = {"participant": "22222", "tokens": [{"token": token, "connectors": ["Profit_Creditor"]}]}
    control.request("POST", "/_sim/fixtures", json={"environments": [fixture]})
    client = make_client(participant="22222", token=token)

    assert client.creditors() == []
    with pytest.raises(AfasAuthenticationError):
        client.debtors()


def test_a_plain_token_that_is_not_base64_gets_profit_s_500(simulator, control):
    response = control.request(
        "GET", "/12345/rest/ProfitRestServices/profitversion", headers={"Authorization": f"AfasToken {DEMO.afas_token}"}
    )

    assert response.status_code == 500 and "externalMessage" in response.json()


def test_a_missing_token_is_401(control):
    assert control.request("GET", "/12345/rest/ProfitRestServices/metainfo").status_code == 401


def test_path_segments_are_case_insensitive(control):
    auth = {"Authorization": "AfasToken " + base64.b64encode(DEMO.afas_token.encode()).decode()}
    for path in ("/12345/rest/profitrestservices/ProfitVersion", "/12345/REST/ProfitRestServices/PROFITVERSION"):
        assert control.request("GET", path, headers=auth).status_code == 200


def test_ip_restriction_is_access_denied(control, profit):
    settings(control, ip_blocked=True)

    with pytest.raises(AfasAccessDenied) as caught:
        profit.creditors()

    assert "IP" in caught.value.message and not caught.value.transient


def test_maintenance_is_transient_and_its_retry_after_is_honoured(control, profit, sleeps):
    fault(control, operation="GET /connectors/Profit_Creditor", status=503, headers={"Retry-After": "2"})

    creditors = profit.creditors()

    assert len(creditors) == 3
    assert sleeps == [2.0]


def test_a_long_maintenance_is_raised_with_its_delay_for_the_task_to_reschedule(control, profit, sleeps):
    settings(control, maintenance_retry_after=7200)

    with pytest.raises(AfasMaintenance) as caught:
        profit.creditors()

    assert caught.value.transient
    assert caught.value.retry_after == MAX_RETRY_AFTER_SECONDS
    assert "maintenance" in caught.value.message
    assert sleeps == []


def test_a_functional_500_is_permanent_with_profit_s_message_and_log_reference(profit):
    with pytest.raises(AfasFunctionalError) as caught:
        profit.get_page("Profit_Creditor", order_by=("NoSuchField",))

    assert "Connector field 'NoSuchField' not found" in caught.value.message
    assert len(caught.value.log_reference) == 32
    assert not caught.value.transient


def test_a_record_locked_500_is_transient(control, profit):
    fault(control, operation="PUT /connectors/KnSalesRelationOrg", status=500, body=LOCKED)

    with pytest.raises(AfasRecordLocked) as caught:
        profit.set_debtor_econnect_id("10002", "0106:30123457")

    assert caught.value.transient and caught.value.log_reference == "AB12"


def test_timeouts_and_dropped_connections_are_transient_and_retried(control, profit, sleeps):
    fault(control, operation="GET /connectors/Profit_Creditor", delay=1.0)
    fault(control, operation="GET /connectors/Profit_Creditor", drop=True)

    assert len(profit.creditors()) == 3
    assert len(sleeps) == 2


def test_a_timeout_on_every_attempt_is_raised_as_a_timeout(control, make_client):
    client = make_client(read_attempts=2)
    fault(control, operation="GET /metainfo", delay=1.0, count=2)

    with pytest.raises(RemoteTimeout):
        client.metainfo()


def test_a_proxy_page_instead_of_json_is_malformed_and_transient(control, make_client):
    client = make_client(read_attempts=1)
    fault(control, operation="GET /profitversion", body="<html>Bad gateway</html>")

    with pytest.raises(MalformedResponse):
        client.profit_version()


def test_a_bare_500_without_profit_s_body_is_transient(control, make_client):
    client = make_client(read_attempts=1)
    fault(control, operation="GET /metainfo", status=500, body="oops")

    with pytest.raises(RemoteUnavailable):
        client.metainfo()


def test_the_simulator_refuses_a_query_over_2049_characters_with_404(control):
    auth = {"Authorization": "AfasToken " + base64.b64encode(DEMO.afas_token.encode()).decode()}
    path = "/12345/rest/ProfitRestServices/connectors/Profit_Creditor?filtervalues=" + "x" * 2100

    assert control.request("GET", path, headers=auth).status_code == 404


def test_one_filter_group_too_long_for_any_query_is_refused_before_sending(profit):
    too_long = Filter.where(Condition("CreditorName", Operator.CONTAINS, "x" * 2100))

    with pytest.raises(AfasQueryTooLong):
        list(profit.iter_rows("Profit_Creditor", order_by=("CreditorId",), filter=too_long))


@pytest.mark.parametrize(
    ("skip", "take", "status"),
    [("0", "10", 200), ("-1", "-1", 200), ("2", "-1", 500), ("-3", "5", 500), ("0", "0", 500), ("a", "1", 500)],
)
def test_skip_and_take_combinations(control, skip, take, status):
    auth = {"Authorization": "AfasToken " + base64.b64encode(DEMO.afas_token.encode()).decode()}
    response = control.request(
        "GET", f"/12345/rest/ProfitRestServices/connectors/Profit_Creditor?skip={skip}&take={take}", headers=auth
    )

    assert response.status_code == status
    if status == 500:
        assert response.json()["externalMessage"] == "An unexpected error has occurred."


def test_skip_and_take_default_to_0_and_100(control):
    auth = {"Authorization": "AfasToken " + base64.b64encode(DEMO.afas_token.encode()).decode()}
    body = control.request("GET", "/12345/rest/ProfitRestServices/connectors/Profit_Creditor", headers=auth).json()

    assert (body["skip"], body["take"]) == (0, 100)


# --- test_connection -----------------------------------------------------------------------------------------


def test_test_connection_succeeds_with_the_environment_and_version(profit):
    result = profit.test_connection()

    assert result.ok and result.problem is ConnectionProblem.NONE
    assert result.environment_id == "O12345AA" and result.profit_version == "6.6.9"


def test_test_connection_names_a_rejected_token(make_client):
    result = make_client(token="<token><data>nope</data></token>").test_connection()

    assert (result.ok, result.problem) == (False, ConnectionProblem.TOKEN_REJECTED)


def test_test_connection_names_the_missing_connectors(control, make_client):
    token = "<token><version>1</version><data>partial</data></token>"
    fixture = {
        "participant": "33333",
        "tokens": [{"token": token, "connectors": ["Profit_Creditor", "Peppol_Debtors"]}],
    }
    control.request("POST", "/_sim/fixtures", json={"environments": [fixture]})

    result = make_client(participant="33333", token=token).test_connection()

    assert result.problem is ConnectionProblem.MISSING_CONNECTORS
    assert result.missing_get_connectors == (
        "ProfitSubjectsAuthorized",
        "Profit_Subject_Attachments",
        "Profit_SubjectFile",
    )
    assert result.missing_update_connectors == ("FiElectronicInvoicePurchase", "KnSalesRelationOrg")
    assert "ProfitSubjectsAuthorized" in result.message


def test_test_connection_names_ip_restriction_maintenance_and_unreachable(control, make_client):
    settings(control, ip_blocked=True)
    assert make_client().test_connection().problem is ConnectionProblem.IP_RESTRICTED
    settings(control, ip_blocked=False, maintenance_retry_after=600)
    assert make_client().test_connection().problem is ConnectionProblem.MAINTENANCE
    settings(control, maintenance_retry_after=None)
    fault(control, operation="GET /metainfo", drop=True, count=3)
    assert make_client().test_connection().problem is ConnectionProblem.UNREACHABLE


def test_test_connection_honours_configured_connector_names(make_client):
    result = make_client(connectors=ConnectorNames(debtors="Other_Debtors")).test_connection()

    assert result.missing_get_connectors == ("Other_Debtors",)
