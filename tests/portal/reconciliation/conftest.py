"""A world for the reconciliation: both simulators seeded (in-process, over the real clients), the portal's demo
data with sending and receiving on, and helpers that make eConnect, the portal and AFAS disagree."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from django.utils import timezone

from integrations.afas import simulator as afas_simulator
from integrations.econnect import simulator as econnect_simulator
from integrations.econnect.models import OutgoingDocument
from integrations.http import HttpClient
from integrations.peppol.builder import build_ubl
from integrations.peppol.identifiers import parse_identifier
from integrations.peppol.model import Identifier
from integrations.simulators.transport import SimulatorTransport
from portal.incoming_invoices import services as incoming
from portal.organisations import clients
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment
from tests.integrations.peppol.builders import dutch_customer, dutch_supplier, invoice

CUSTOMER = "0106:87654321"  # registered at eConnect's access point in the simulator's directory


@dataclass
class World:
    environment: Environment
    afas: HttpClient  # control APIs
    econnect: HttpClient

    @property
    def afas_key(self) -> str:
        return f"{self.environment.afas_participant_number}-{self.environment.afas_environment_type}"

    @property
    def own_identifier(self) -> str:
        own = self.environment.own_identifiers.first()
        return f"{own.scheme}:{own.value}"

    def fetch(self, capture) -> None:
        with capture(execute=True):
            incoming.incoming_fetch(environment=self.environment)

    def delivered_to_afas(self) -> list[dict]:
        response = self.afas.request("GET", f"/_sim/environments/{self.afas_key}/delivered")
        return response.json()["purchase_invoices"]

    def remove_from_afas(self, entry_id: int) -> None:
        response = self.afas.request(
            "DELETE", f"/_sim/environments/{self.afas_key}/delivered/purchase-invoices/{entry_id}"
        )
        assert response.status_code == 200, response.text

    def inject(self, number: str = "REC-1", *, supplier_kvk: str = "40000099") -> dict:
        supplier = dutch_supplier(
            name=f"Leverancier {supplier_kvk}",
            endpoint=Identifier("0106", supplier_kvk),
            legal_id=Identifier("0106", supplier_kvk),
        )
        own = parse_identifier(self.own_identifier)
        customer = dutch_customer(
            endpoint=Identifier(own.scheme, own.value), legal_id=Identifier(own.scheme, own.value)
        )
        payload = build_ubl(invoice(number=number, issue_date=date(2026, 11, 2), supplier=supplier, customer=customer))
        response = self.econnect.request(
            "POST",
            "/_sim/inbox",
            json={"receiver": self.own_identifier, "payload_base64": base64.b64encode(payload).decode()},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def send_outside_the_portal(self, number: str = "OUT-1") -> str:
        """A sales invoice sent with the environment's keys by something other than the portal."""
        own = parse_identifier(self.own_identifier)
        customer = parse_identifier(CUSTOMER)
        payload = build_ubl(
            invoice(
                number=number,
                supplier=dutch_supplier(endpoint=Identifier(own.scheme, own.value)),
                customer=dutch_customer(endpoint=Identifier(customer.scheme, customer.value)),
            )
        )
        document = OutgoingDocument(
            reference=uuid.uuid4().hex,
            sender=own,
            recipient=customer,
            payload=payload,
            prepared_at=timezone.now(),
        )
        with clients.econnect_gateway_for(self.environment) as gateway:
            return gateway.send_document(document).external_id

    def set_outbox_state(self, external_id: str, state: str) -> None:
        response = self.econnect.request("POST", f"/_sim/outbox/{external_id}/state", json={"state": state})
        assert response.status_code == 200, response.text

    def set_inbox_status(self, external_id: str, state: str) -> None:
        response = self.econnect.request("POST", f"/_sim/inbox/{external_id}/status", json={"state": state})
        assert response.status_code == 200, response.text

    def inbox_state(self, external_id: str) -> str:
        documents = self.econnect.request("GET", "/_sim/inbox").json()["documents"]
        return next(d["state"] for d in documents if d["external_id"] == external_id)

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
    make_afas, make_gateway = clients.afas_client_for, clients.econnect_gateway_for
    monkeypatch.setattr(
        clients, "afas_client_for", lambda environment, **kw: make_afas(environment, transport=afas_transport)
    )
    monkeypatch.setattr(
        clients,
        "econnect_gateway_for",
        lambda environment, **kw: make_gateway(environment, transport=econnect_transport),
    )
    monkeypatch.setattr(clients, "econnect_release_duplicate", lambda environment, external_id: None)
    settings.AFAS_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices"
    settings.ECONNECT_SOAP_URL = "http://127.0.0.1:8102/soap/v3.1"
    settings.ECONNECT_LOOKUP_URL = "http://127.0.0.1:8102"
    settings.RECONCILIATION_GRACE_MINUTES = 0  # judge everything at once: nothing in these tests is in flight
    demo_seed()
    environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True, sending_enabled=True)
    environment.refresh_from_db()
    with (
        HttpClient(service="AFAS sim", base_url="http://sim", transport=afas_transport) as afas,
        HttpClient(service="eConnect sim", base_url="http://sim", transport=econnect_transport) as econnect,
    ):
        econnect.request("PUT", f"/_sim/directory/production/{CUSTOMER}", json={"access_point": "other"})
        yield World(environment, afas, econnect)
