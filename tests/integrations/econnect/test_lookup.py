import pytest

from integrations.econnect.lookup import PeppolLookup
from integrations.econnect.models import AccessPoint, Reachability
from integrations.econnect.simulator import create_app, seed_demo
from integrations.http import MalformedResponse, RemoteUnavailable
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import parse_identifier
from integrations.simulators.transport import SimulatorTransport
from tests.integrations.econnect.conftest import SIM, add_fault


@pytest.fixture
def demo():
    app = create_app()
    seed_demo(app)
    return app


@pytest.fixture
def lookup(demo):
    client = PeppolLookup(base_url=SIM, transport=SimulatorTransport(demo))
    yield client
    client.close()


def ids(*texts):
    return [parse_identifier(t) for t in texts]


def test_a_customer_registered_at_econnect_can_receive_invoices(lookup):
    result = lookup.look_up(ids("NL:KVK:30123456"), DocumentType.INVOICE)

    [participant] = result.participants
    assert participant.reachability is Reachability.REGISTERED
    assert participant.access_point is AccessPoint.ECONNECT
    assert result.best == participant


def test_each_candidate_gets_its_own_answer_in_the_callers_order(lookup):
    result = lookup.look_up(ids("0106:30123459", "0106:30123461"), DocumentType.INVOICE)

    assert [p.reachability for p in result.participants] == [Reachability.NOT_REGISTERED, Reachability.REGISTERED]
    assert result.best.access_point is AccessPoint.AFAS


def test_a_customer_registered_for_invoices_only_cannot_receive_credit_notes(lookup):
    [participant] = lookup.look_up(ids("0106:30123463"), DocumentType.CREDIT_NOTE).participants

    assert participant.reachability is Reachability.OTHER_DOCUMENT_TYPES_ONLY
    assert participant.document_types == (DocumentType.INVOICE,)


def test_a_customer_at_another_access_point_is_recognised(lookup):
    result = lookup.look_up(ids("0190:00000001001234568000"), DocumentType.INVOICE)

    assert result.best.access_point is AccessPoint.OTHER


def test_the_lookup_is_made_without_a_token_through_the_gateway(demo):
    from tests.integrations.econnect.conftest import make_gateway

    with make_gateway(SimulatorTransport(demo)) as gateway:
        result = gateway.look_up_participants(ids("0106:30123457"), DocumentType.INVOICE)

    assert result.best is not None
    assert "Login" not in [c["operation"] for c in demo.data["calls"]]


def test_lookup_failures_are_typed(demo, lookup):
    import httpx

    with httpx.Client(base_url=SIM, transport=SimulatorTransport(demo)) as control:
        add_fault(control, operation="deliveryOption", status=503)
        with pytest.raises(RemoteUnavailable):
            lookup.look_up(ids("0106:30123457"), DocumentType.INVOICE)
        add_fault(control, operation="deliveryOption", body='{"not": "a list"}')
        with pytest.raises(MalformedResponse):
            lookup.look_up(ids("0106:30123457"), DocumentType.INVOICE)
