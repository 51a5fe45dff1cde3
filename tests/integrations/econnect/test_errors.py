import pytest

from integrations.econnect.errors import EConnectServerError, InvalidRequest
from integrations.http import MalformedResponse, RemoteTimeout, RemoteUnavailable
from tests.integrations.econnect.conftest import add_fault, soap_fault


def test_a_soap_server_fault_is_transient_and_keeps_the_code(gateway, control):
    soap_fault(control, operation="GetInboxDocuments", code="ERRSYS5000001", message="Interne fout")

    with pytest.raises(EConnectServerError) as failed:
        gateway.list_inbox_documents()

    assert failed.value.transient and failed.value.code == "ERRSYS5000001" and failed.value.status == 500


def test_an_unexplained_client_fault_is_permanent(gateway, control):
    soap_fault(control, operation="GetInboxDocuments", code="ERRXYZ4000001", faultcode="soap:Client")

    with pytest.raises(InvalidRequest) as failed:
        gateway.list_inbox_documents()

    assert not failed.value.transient


def test_http_503_with_retry_after_is_transient_and_says_when(gateway, control):
    add_fault(control, operation="GetInboxDocuments", status=503, headers={"Retry-After": "30"})

    with pytest.raises(RemoteUnavailable) as failed:
        gateway.list_inbox_documents()

    assert failed.value.transient and failed.value.retry_after == 30


def test_http_500_without_a_soap_fault_is_a_transient_server_error(gateway, control):
    add_fault(control, operation="GetInboxDocuments", status=500, body="<html>oops</html>")

    with pytest.raises(EConnectServerError):
        gateway.list_inbox_documents()


def test_a_malformed_answer_is_reported_as_such(gateway, control):
    gateway.login()
    add_fault(control, operation="GetInboxDocuments", body="<html><body>Proxy error</body></html>")

    with pytest.raises(MalformedResponse):
        gateway.list_inbox_documents()


def test_a_hostile_answer_with_a_dtd_is_refused_safely(gateway, control):
    gateway.login()
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    add_fault(control, operation="GetInboxDocuments", body=hostile, headers={"Content-Type": "text/xml"})

    with pytest.raises(MalformedResponse):
        gateway.list_inbox_documents()


def test_a_timeout_is_a_remote_timeout(gateway, control):
    gateway.login()
    add_fault(control, operation="GetInboxDocuments", delay=5)

    with pytest.raises(RemoteTimeout):
        gateway.list_inbox_documents()


def test_a_dropped_connection_is_remote_unavailable(gateway, control):
    add_fault(control, operation="Login", drop=True)

    with pytest.raises(RemoteUnavailable):
        gateway.login()
