"""Shared by the portal tests: a contacts world with both simulators seeded with the demo (in-process, over the real
clients), the portal's demo data, and the AFAS client and Peppol lookup pointed at them."""

from dataclasses import dataclass, field

import httpx
import pytest

from integrations.afas import simulator as afas_simulator
from integrations.econnect import simulator as econnect_simulator
from integrations.http import HttpClient
from integrations.simulators.transport import SimulatorTransport
from portal.organisations import clients
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment


@pytest.fixture
def psb_simulator(settings, monkeypatch):
    """eConnect's simulator in-process, every eConnect gateway pointed at it; call it with the parties the PSB
    credentials of ``psb_environment`` may act for. No access token is cached before or after."""
    from integrations.econnect.psb.auth import forget_tokens
    from tests.portal.organisations.factories import PSB_CLIENT_ID, PSB_CLIENT_SECRET

    forget_tokens()
    app = econnect_simulator.create_app()
    settings.ECONNECT_PSB_URL = settings.ECONNECT_PSB_IDENTITY_URL = "http://127.0.0.1:8102"
    transport = SimulatorTransport(app)
    make = clients.econnect_gateway_for
    monkeypatch.setattr(clients, "econnect_gateway_for", lambda env, **kw: make(env, transport=transport, **kw))

    def for_parties(*parties: str):
        app.add_psb_client(client_id=PSB_CLIENT_ID, client_secret=PSB_CLIENT_SECRET, parties=list(parties))
        return app

    yield for_parties
    forget_tokens()


class CountingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.inner.handle_request(request)


@dataclass
class ContactsWorld:
    environment: Environment
    afas: HttpClient  # the AFAS simulator's control API
    econnect: HttpClient  # the eConnect simulator's control API
    lookup_transport: CountingTransport
    afas_transport: CountingTransport
    requests: list = field(default_factory=list)

    @property
    def afas_key(self) -> str:
        return f"{self.environment.afas_participant_number}-{self.environment.afas_environment_type}"

    def change_debtor(self, number: str, **fields) -> dict:
        response = self.afas.request("POST", f"/_sim/environments/{self.afas_key}/debtors/{number}", json=fields)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def delete_debtor(self, number: str) -> None:
        assert self.afas.request("DELETE", f"/_sim/environments/{self.afas_key}/debtors/{number}").status_code == 200

    def debtor_rows(self) -> dict[str, dict]:
        afas_app = self.afas_transport.inner.app
        rows = afas_app.environments[self.afas_key]["get_connectors"]["Peppol_Debtors"]["rows"]
        return {str(row["DebtorId"]): row for row in rows}

    def register(self, party_id: str, *, access_point="econnect", document_types=("invoice", "credit_note")):
        response = self.econnect.request(
            "PUT",
            f"/_sim/directory/production/{party_id}",
            json={"access_point": access_point, "document_types": list(document_types)},
        )
        assert response.status_code in (200, 201), response.text

    def afas_fault(self, **spec) -> None:
        assert self.afas.request("POST", "/_sim/faults", json=spec).status_code == 201

    def econnect_fault(self, **spec) -> None:
        assert self.econnect.request("POST", "/_sim/faults", json=spec).status_code == 201

    @property
    def lookup_requests(self) -> int:
        return sum(1 for path in self.lookup_transport.paths if path.endswith("/peppol/deliveryOption"))


class _AppTransport(SimulatorTransport):
    def __init__(self, app):
        super().__init__(app)
        self.app = app


@pytest.fixture
def contacts_world(db, monkeypatch, settings):
    afas_app = afas_simulator.create_app()
    afas_simulator.seed_demo(afas_app)
    econnect_app = econnect_simulator.create_app()
    econnect_simulator.seed_demo(econnect_app)
    afas_transport = CountingTransport(_AppTransport(afas_app))
    lookup_transport = CountingTransport(_AppTransport(econnect_app))
    make_afas, make_lookup = clients.afas_client_for, clients.peppol_lookup
    monkeypatch.setattr(
        clients, "afas_client_for", lambda environment: make_afas(environment, transport=afas_transport)
    )
    monkeypatch.setattr(clients, "peppol_lookup", lambda: make_lookup(transport=lookup_transport))
    settings.AFAS_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices"
    settings.ECONNECT_LOOKUP_URL = "http://127.0.0.1:8102"
    settings.PEPPOL_LOOKUP_MAX_PER_SECOND = 1000.0
    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
    with (
        HttpClient(service="AFAS sim", base_url="http://sim", transport=afas_transport.inner) as afas,
        HttpClient(service="eConnect sim", base_url="http://sim", transport=lookup_transport.inner) as econnect,
    ):
        yield ContactsWorld(environment, afas, econnect, lookup_transport, afas_transport)
