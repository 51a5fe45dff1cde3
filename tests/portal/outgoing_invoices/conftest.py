"""A complete sending world: both simulators seeded (in-process), the portal's demo data, clients pointed at them."""

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
    afas: HttpClient  # the AFAS simulator's control API
    econnect: HttpClient  # the eConnect simulator's control API
    afas_app: object = None  # the AFAS simulator itself (its webhooks are sent by calling it)

    def issue_sales_invoice(self, debtor: str, *, lines=None, **extra) -> dict:
        lines = lines or [{"description": "Brood en banket", "quantity": "10", "price": "2.50", "vat": "9"}]
        response = self.afas.request(
            "POST",
            f"/_sim/environments/{self.environment.afas_participant_number}-{self.environment.afas_environment_type}/sales-invoices",
            json={"debtor": debtor, "lines": lines, **extra},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def sent_counts(self) -> dict[str, int]:
        return self.econnect.request("GET", "/_sim/sent").json()["counts"]

    def fault(self, **spec) -> None:
        assert self.econnect.request("POST", "/_sim/faults", json=spec).status_code == 201

    def advance_econnect_clock(self, seconds: int) -> None:
        assert self.econnect.request("POST", "/_sim/clock", json={"advance": seconds}).status_code == 200


@pytest.fixture
def world(db, monkeypatch, settings):
    afas_app = afas_simulator.create_app()
    afas_simulator.seed_demo(afas_app)
    econnect_app = econnect_simulator.create_app()
    econnect_simulator.seed_demo(econnect_app)
    afas_transport, econnect_transport = SimulatorTransport(afas_app), SimulatorTransport(econnect_app)
    make_afas, make_gateway = clients.afas_client_for, clients.econnect_gateway_for
    monkeypatch.setattr(
        clients, "afas_client_for", lambda environment: make_afas(environment, transport=afas_transport)
    )
    monkeypatch.setattr(
        clients, "econnect_gateway_for", lambda environment: make_gateway(environment, transport=econnect_transport)
    )
    settings.AFAS_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices"
    settings.ECONNECT_SOAP_URL = "http://127.0.0.1:8102/soap/v3.1"
    settings.ECONNECT_LOOKUP_URL = "http://127.0.0.1:8102"
    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
    Environment.objects.filter(pk=environment.pk).update(sending_enabled=True)
    environment.refresh_from_db()
    with (
        HttpClient(service="AFAS sim", base_url="http://sim", transport=afas_transport) as afas,
        HttpClient(service="eConnect sim", base_url="http://sim", transport=econnect_transport) as econnect,
    ):
        yield World(environment, afas, econnect, afas_app)
