from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from integrations.econnect.models import OutgoingDocument
from integrations.econnect.simulator import create_app
from integrations.econnect.soap import PlatformSoapGateway
from integrations.peppol.builder import build_ubl
from integrations.peppol.identifiers import parse_identifier
from integrations.peppol.model import Identifier
from integrations.simulators.transport import SimulatorTransport
from tests.integrations.peppol.builders import dutch_customer, dutch_supplier, invoice

KEY, SECRET = "key-1234", "secret-very-private-5678"
SUBSCRIPTION_KEY = "subscription-key-9012"
OWN = "0106:12345678"  # the supplier of tests.integrations.peppol.builders.invoice()
CUSTOMER = "0106:87654321"
SIM = "http://econnect.sim"


class RecordingTransport(httpx.BaseTransport):
    """The simulator in-process, keeping every request so tests can look at what the client sent."""

    def __init__(self, app):
        self.inner = SimulatorTransport(app)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.fixture
def app():
    simulator = create_app()
    simulator.data["subscription_keys"] = [SUBSCRIPTION_KEY]
    simulator.add_account(app_key=KEY, app_secret=SECRET, network="production", name="De Boer", parties=[{"id": OWN}])
    simulator.register("production", CUSTOMER, access_point="econnect")
    return simulator


@pytest.fixture
def transport(app):
    return RecordingTransport(app)


@pytest.fixture
def control(app):
    with httpx.Client(base_url=SIM, transport=SimulatorTransport(app)) as client:
        yield client


def make_gateway(
    transport, *, key=KEY, secret=SECRET, timeout=2.0, base=SIM, subscription_key=SUBSCRIPTION_KEY, **kwargs
) -> PlatformSoapGateway:
    return PlatformSoapGateway(
        app_key=key,
        app_secret=secret,
        subscription_key=subscription_key,
        soap_url=f"{base}/soap/v3.1",
        lookup_url=base,
        transport=transport,
        timeout=httpx.Timeout(timeout),
        **kwargs,
    )


@pytest.fixture
def gateway(transport):
    with make_gateway(transport) as gateway:
        yield gateway


def outgoing(number="F2025-0001", recipient=CUSTOMER, reference="3f1c9a52-ref", **overrides) -> OutgoingDocument:
    customer_id = parse_identifier(recipient)
    document = invoice(
        number=number,
        supplier=dutch_supplier(),
        customer=dutch_customer(endpoint=Identifier(customer_id.scheme, customer_id.value)),
        **overrides,
    )
    return OutgoingDocument(
        reference=reference,
        sender=parse_identifier(OWN),
        recipient=customer_id,
        payload=build_ubl(document),
        prepared_at=datetime.now(UTC),
    )


def add_fault(control, **spec):
    assert control.post("/_sim/faults", json=spec).status_code == 201


def soap_fault(control, **spec):
    assert control.post("/_sim/soap-faults", json=spec).status_code == 201


def advance(control, seconds):
    control.post("/_sim/clock", json={"advance": seconds}).raise_for_status()
