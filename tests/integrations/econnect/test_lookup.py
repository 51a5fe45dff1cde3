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


def test_many_identifiers_are_asked_in_batches_of_ten_with_one_answer_each(demo):
    requests = []

    class Counting(SimulatorTransport):
        def handle_request(self, request):
            requests.append(request.url.params.get_list("partyIds"))
            return super().handle_request(request)

    many = ids(*(f"0106:{30123456 + n}" for n in range(23)))
    with PeppolLookup(base_url=SIM, transport=Counting(demo)) as client:
        found = client.participants(many + many[:3])  # repeats are asked once

    assert [len(batch) for batch in requests] == [10, 10, 3]
    assert set(found) == set(many)
    assert found[parse_identifier("0106:30123456")].reachability is Reachability.REGISTERED
    assert found[parse_identifier("0106:30123458")].reachability is Reachability.NOT_REGISTERED


def test_a_registration_at_afas_wins_over_an_econnect_account_hosting_the_party(demo):
    demo.register("production", "0106:34567890", access_point="afas")  # the demo bakery's own identifier

    with PeppolLookup(base_url=SIM, transport=SimulatorTransport(demo)) as client:
        found = client.participants(ids("0106:34567890"))

    assert found[parse_identifier("0106:34567890")].access_point is AccessPoint.AFAS


def test_the_lookup_waits_for_its_rate_limiter(demo):
    from integrations.ratelimit import RateLimiter

    waits = []
    limiter = RateLimiter(1.0, burst=1, clock=lambda: 0.0, sleep=waits.append)
    with PeppolLookup(base_url=SIM, transport=SimulatorTransport(demo), rate_limiter=limiter) as client:
        client.participants(ids(*(f"0106:{30123456 + n}" for n in range(25))))

    assert waits == [1.0, 2.0]  # three requests at a frozen clock: the second and third wait
