import threading

import httpx
import pytest

from integrations.afas.models import SIMULATOR_BASE_URL_TEMPLATE
from integrations.afas.profit import ProfitClient
from integrations.afas.simulator import create_app, seed_demo
from integrations.demo_data import ENVIRONMENTS
from integrations.http import HttpClient
from integrations.simulators.server import make_server
from integrations.simulators.transport import SimulatorTransport

DEMO = ENVIRONMENTS[0]  # 12345 production, Profit
BASE = "http://sim/{participant}/{rest_host}/ProfitRestServices"


@pytest.fixture
def simulator():
    app = create_app()
    seed_demo(app)
    return app


@pytest.fixture
def control(simulator):
    """The simulator's control API (/_sim/...)."""
    with HttpClient(service="AFAS sim", base_url="http://sim", transport=SimulatorTransport(simulator)) as client:
        yield client


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(simulator, sleeps):
    clients = []

    def make(**overrides):
        options = {
            "participant": DEMO.participant,
            "environment_type": DEMO.environment_type,
            "token": DEMO.afas_token,
            "base_url_template": BASE,
            "transport": SimulatorTransport(simulator),
            "timeout": httpx.Timeout(0.5),
            "sleep": sleeps.append,
        } | overrides
        client = ProfitClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def profit(make_client):
    return make_client()


@pytest.fixture
def live_simulator(simulator):
    """The same simulator served over a real socket; yields the base-URL template for it."""
    server = make_server(simulator)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SIMULATOR_BASE_URL_TEMPLATE.replace("8101", str(server.server_port))
    finally:
        server.shutdown()
        server.server_close()


def fault(control, **spec):
    response = control.request("POST", "/_sim/faults", json=spec)
    assert response.status_code == 201, response.text


def settings(control, key=DEMO.key, **values):
    response = control.request("POST", f"/_sim/environments/{key}/settings", json=values)
    assert response.status_code == 200, response.text
