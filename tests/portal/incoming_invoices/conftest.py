"""A complete receiving world: both simulators seeded (in-process), the portal's demo data, receiving switched on."""

from dataclasses import dataclass

import pytest

from integrations.afas import simulator as afas_simulator
from integrations.econnect import simulator as econnect_simulator
from integrations.http import HttpClient
from integrations.simulators.transport import SimulatorTransport
from portal.organisations import clients
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment


@dataclass
class World:
    environment: Environment
    afas: HttpClient
    econnect: HttpClient

    def delivered_to_afas(self) -> list[dict]:
        key = f"{self.environment.afas_participant_number}-{self.environment.afas_environment_type}"
        deliveries = self.afas.request("GET", f"/_sim/environments/{key}/delivered").json()["purchase_invoices"]
        return [{**delivery, "sha256": delivery["xml_sha256"]} for delivery in deliveries]

    def econnect_fault(self, **spec) -> None:
        assert self.econnect.request("POST", "/_sim/faults", json=spec).status_code == 201

    def afas_fault(self, **spec) -> None:
        assert self.afas.request("POST", "/_sim/faults", json=spec).status_code == 201


@pytest.fixture
def world(db, monkeypatch, settings):
    afas_app = afas_simulator.create_app()
    afas_simulator.seed_demo(afas_app)
    econnect_app = econnect_simulator.create_app()
    econnect_simulator.seed_demo(econnect_app)
    afas_transport, econnect_transport = SimulatorTransport(afas_app), SimulatorTransport(econnect_app)
    make_afas, make_gateway, release = (
        clients.afas_client_for,
        clients.econnect_gateway_for,
        clients.econnect_release_duplicate,
    )
    monkeypatch.setattr(
        clients,
        "econnect_release_duplicate",
        lambda environment, external_id: release(environment, external_id, transport=econnect_transport),
    )
    settings.ECONNECT_SIMULATOR_CONTROL_URL = "http://127.0.0.1:8102"
    monkeypatch.setattr(
        clients, "afas_client_for", lambda environment: make_afas(environment, transport=afas_transport)
    )
    monkeypatch.setattr(
        clients, "econnect_gateway_for", lambda environment: make_gateway(environment, transport=econnect_transport)
    )
    settings.AFAS_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices"
    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True, sending_enabled=False)
    environment.refresh_from_db()
    with (
        HttpClient(service="AFAS sim", base_url="http://sim", transport=afas_transport) as afas,
        HttpClient(service="eConnect sim", base_url="http://sim", transport=econnect_transport) as econnect,
    ):
        yield World(environment, afas, econnect)
