"""The demo world of ``integrations.demo_data`` inside the eConnect simulator. Idempotent: run it as often as you like."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integrations.demo_data import CUSTOMERS, SIMULATED_ENVIRONMENTS, SIMULATOR_SUBSCRIPTION_KEY
from integrations.econnect.simulator.common import iso_time
from integrations.peppol.builder import build_ubl
from integrations.peppol.model import (
    Address,
    BillingReference,
    DocumentType,
    Identifier,
    InvoiceDocument,
    InvoiceLine,
    Party,
    PaymentMeans,
    Vat,
)

# Suppliers of the demo firm's purchase invoices. Two different suppliers use the same invoice number on the same
# day: eConnect flags the second one "Duplicate" although it is a different invoice (PEERS.md section 3).
SUPPLIERS = {
    "meel": ("Meelfabriek De Molen B.V.", "50000001", "NL850000011B01"),
    "energie": ("Energie Noord B.V.", "50000002", "NL850000022B01"),
    "verpakking": ("Verpakkingen Zuid B.V.", "50000003", "NL850000033B01"),
}


def _party(name: str, kvk: str, vat: str = "") -> Party:
    return Party(
        name=name,
        endpoint=Identifier("0106", kvk),
        legal_id=Identifier("0106", kvk),
        vat_id=vat,
        address=Address(country_code="NL", street="Industrieweg 1", city="Zwolle", postal_zone="8000 AA"),
    )


def _document(supplier: str, customer: Party, number: str, issued: date, amount: str, *, credit_of: str = "") -> bytes:
    name, kvk, vat = SUPPLIERS[supplier]
    return build_ubl(
        InvoiceDocument(
            document_type=DocumentType.CREDIT_NOTE if credit_of else DocumentType.INVOICE,
            number=number,
            issue_date=issued,
            due_date=None if credit_of else date.fromordinal(issued.toordinal() + 30),
            currency="EUR",
            supplier=_party(name, kvk, vat),
            customer=customer,
            lines=(
                InvoiceLine(
                    id="1",
                    name="Levering",
                    quantity=Decimal("1"),
                    unit_code="C62",
                    price=Decimal(amount),
                    vat=Vat.standard(Decimal("21")),
                ),
            ),
            buyer_reference="DEMO",
            billing_references=(BillingReference(credit_of),) if credit_of else (),
            payment_means=(PaymentMeans.sepa_credit_transfer("NL91ABNA0417164300", payment_id=number),),
        )
    )


def demo_incoming(customer: Party) -> list[tuple[str, bytes]]:
    """(label, UBL) in the order they arrive."""
    flour = _document("meel", customer, "2025-0042", date(2025, 3, 3), "812.50")
    return [
        ("invoice", flour),
        ("invoice", _document("energie", customer, "F-1001", date(2025, 3, 10), "1250.00")),
        # Another supplier, same number and date: eConnect's flaw flags it "Duplicate".
        ("false duplicate", _document("verpakking", customer, "F-1001", date(2025, 3, 10), "99.95")),
        ("true resend", flour),  # the same invoice again: rightly "Duplicate"
        ("credit note", _document("energie", customer, "CN-2025-7", date(2025, 3, 17), "150.00", credit_of="F-1001")),
    ]


def _customer_identifiers(customer) -> list[str]:
    ids = []
    if customer.kvk and len(customer.kvk) == 8:
        ids.append(f"0106:{customer.kvk}")
    if customer.oin:
        ids.append(f"0190:{customer.oin}")
    if customer.vat:
        ids.append(f"9944:{customer.vat}")
    return ids


def seed_demo(app) -> None:
    with app.state.lock:
        app.data["subscription_keys"] = [SIMULATOR_SUBSCRIPTION_KEY]
        for spec in SIMULATED_ENVIRONMENTS:
            if spec.transport == "psb":
                _seed_psb(app, spec)
                continue
            if spec.econnect_app_key in app.data["accounts"]:
                continue
            app.add_account(
                app_key=spec.econnect_app_key,
                app_secret=spec.econnect_app_secret,
                network=spec.econnect_network,
                name=spec.organisation_name,
                parties=[{"id": spec.own_identifier, "name": spec.organisation_name}],
                duplicates_visible=True,  # the portal shows eConnect's flag beside its own verdict
            )
            if spec.registered_at != "econnect":
                app.register(spec.econnect_network, spec.own_identifier, access_point=spec.registered_at,
                             name=spec.organisation_name)  # fmt: skip
                continue
            if spec.econnect_network == "production":
                customer = _party(spec.organisation_name, spec.organisation_kvk)
                for _, payload in demo_incoming(customer):
                    app.receive(receiver_key=spec.econnect_app_key, receiver_party=spec.own_identifier, payload=payload)
        for customer in CUSTOMERS:
            if customer.peppol == "none":
                continue
            types = ["invoice", "credit_note"] if customer.receives_credit_notes else ["invoice"]
            for party_id in _customer_identifiers(customer):
                app.register(
                    "production", party_id, access_point=customer.peppol, document_types=types, name=customer.name
                )
        app.state.save()


def _seed_psb(app, spec) -> None:
    """A PSB client for the environment's party, the hook its portal registers, and its first purchase invoices
    (announced by webhook as soon as the portal answers)."""
    if spec.psb_client_id in app.psb["clients"]:
        return
    app.add_psb_client(
        client_id=spec.psb_client_id,
        client_secret=spec.psb_client_secret,
        parties=[spec.own_identifier],
        name=spec.organisation_name,
        network=spec.econnect_network,
    )
    app.psb["hooks"].setdefault(spec.own_identifier, {})[spec.hook["id"]] = {
        **spec.hook,
        "changedOn": iso_time(app.now()),
    }
    customer = _party(spec.organisation_name, spec.organisation_kvk)
    for label, payload in demo_incoming(customer):
        if label in ("invoice", "credit note"):
            app.psb_receive(spec.own_identifier, payload)
