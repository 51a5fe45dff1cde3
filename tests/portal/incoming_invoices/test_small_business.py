"""Received invoices booked in AFAS Small Business: the portal breaks the VAT down, against both simulators."""

import base64
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.afas import simulator as afas_simulator
from integrations.afas.simulator.demo import SB_ADMINISTRATION_ID, SB_LEDGER_ACCOUNTS
from integrations.demo_data import ENVIRONMENTS
from integrations.econnect import simulator as econnect_simulator
from integrations.econnect.models import InboxState
from integrations.http import HttpClient
from integrations.peppol.builder import build_ubl
from integrations.peppol.model import (
    Address,
    Attachment,
    DocumentType,
    Identifier,
    InvoiceDocument,
    InvoiceLine,
    Party,
    PaymentMeans,
    Vat,
)
from integrations.peppol.parser import parse_document
from integrations.simulators.transport import SimulatorTransport
from portal.incoming_invoices import services
from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.small_business import small_business_booking
from portal.organisations import clients
from portal.organisations.demo import demo_seed
from portal.organisations.models import Environment

Status = IncomingInvoice.Status
SB_DEMO = ENVIRONMENTS[2]
LEDGER = SB_LEDGER_ACCOUNTS[0]["Id"]
PDF = b"%PDF-1.4 purchase invoice\n%%EOF\n"
JOURNAL_ENTRY = "SB POST /api/purchasejournalentry"


@dataclass
class SmallBusinessWorld:
    environment: Environment
    afas: HttpClient
    econnect: HttpClient

    def receive(self, ubl: bytes, django_capture_on_commit_callbacks) -> IncomingInvoice:
        """Put the UBL in the eConnect inbox, fetch it; processing and delivery run as the tasks would."""
        injected = self.econnect.request(
            "POST",
            "/_sim/inbox",
            json={"receiver": SB_DEMO.own_identifier, "network": "production", "payload_base64": _b64(ubl)},
        )
        assert injected.status_code == 201, injected.text
        with django_capture_on_commit_callbacks(execute=True):
            services.incoming_fetch(environment=self.environment)
        return IncomingInvoice.objects.get(econnect_document_id=injected.json()["external_id"])

    def journal_entries(self) -> list[dict]:
        delivered = self.afas.request("GET", f"/_sim/environments/{SB_DEMO.key}/delivered").json()
        return delivered["journal_entries"]

    def econnect_state(self, invoice: IncomingInvoice) -> str:
        documents = self.econnect.request("GET", "/_sim/inbox").json()["documents"]
        return next(d["state"] for d in documents if d["external_id"] == invoice.econnect_document_id)

    def afas_fault(self, **spec) -> None:
        assert self.afas.request("POST", "/_sim/faults", json=spec).status_code == 201


@pytest.fixture
def sb_world(db, monkeypatch, settings):
    """The demo's Small Business environment (67890) receiving, with the demo documents already processed."""
    afas_app = afas_simulator.create_app()
    afas_simulator.seed_demo(afas_app)
    econnect_app = econnect_simulator.create_app()
    econnect_simulator.seed_demo(econnect_app)
    afas_transport, econnect_transport = SimulatorTransport(afas_app), SimulatorTransport(econnect_app)
    make_sb, make_gateway = clients.afas_small_business_client_for, clients.econnect_gateway_for
    monkeypatch.setattr(
        clients, "afas_small_business_client_for", lambda environment: make_sb(environment, transport=afas_transport)
    )
    monkeypatch.setattr(
        clients, "econnect_gateway_for", lambda environment: make_gateway(environment, transport=econnect_transport)
    )
    settings.AFAS_SB_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/sb/{domain}/{environment}"
    demo_seed()
    environment = Environment.objects.get(afas_participant_number=SB_DEMO.participant)
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True, sending_enabled=False)
    environment.refresh_from_db()
    with clients.econnect_gateway_for(environment) as gateway:
        for state in (InboxState.NEW, InboxState.DUPLICATE):
            for document in gateway.list_inbox_documents(state=state, limit=100).documents:
                gateway.set_inbox_document_status(
                    document.external_id, "35"
                )  # "Ter goedkeuring": handled before the test
    with (
        HttpClient(service="AFAS sim", base_url="http://sim", transport=afas_transport) as afas,
        HttpClient(service="eConnect sim", base_url="http://sim", transport=econnect_transport) as econnect,
    ):
        yield SmallBusinessWorld(environment, afas, econnect)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _party(name: str, kvk: str, vat: str) -> Party:
    return Party(
        name=name,
        endpoint=Identifier("0106", kvk),
        legal_id=Identifier("0106", kvk),
        vat_id=vat,
        address=Address(country_code="NL", street="Havenweg 2", city="Groningen", postal_zone="9700 AA"),
    )


def purchase_invoice(number: str, lines: list[tuple[str, str, Vat]], *, pdf: bool = True, **more) -> bytes:
    """A supplier's UBL to the SB demo organisation; lines are (description, price, VAT)."""
    return build_ubl(
        InvoiceDocument(
            document_type=DocumentType.INVOICE,
            number=number,
            issue_date=date(2025, 3, 3),
            due_date=date(2025, 4, 2),
            currency="EUR",
            supplier=_party("Installatiegroothandel Oost B.V.", "50000009", "NL850000099B01"),
            customer=_party(SB_DEMO.organisation_name, SB_DEMO.organisation_kvk, "NL004567890B01"),
            lines=tuple(
                InvoiceLine(
                    id=str(index), name=name, quantity=Decimal("1"), unit_code="C62", price=Decimal(price), vat=vat
                )
                for index, (name, price, vat) in enumerate(lines, start=1)
            ),
            buyer_reference="NOORDHOEK",
            payment_means=(PaymentMeans.sepa_credit_transfer("NL91ABNA0417164300", payment_id=number),),
            attachments=(Attachment("1", f"{number}.pdf", "application/pdf", PDF),) if pdf else (),
            **more,
        )
    )


THREE_RATES = [
    ("Radiatoren", "1234.56", Vat.standard(Decimal("21"))),
    ("Montagemateriaal", "33.33", Vat.standard(Decimal("9"))),
    ("Export verpakking", "50.00", Vat.zero_rated()),
]


def amounts(line: dict) -> tuple[Decimal, Decimal]:
    return Decimal(str(line["AmountExcludingVat"])), Decimal(str(line.get("AmountVat") or 0))


def test_three_vat_rates_are_booked_one_line_each_adding_up_exactly_then_acknowledged(
    sb_world, django_capture_on_commit_callbacks
):
    ubl = purchase_invoice("OOST-2025-001", THREE_RATES)

    invoice = sb_world.receive(ubl, django_capture_on_commit_callbacks)

    summary = parse_document(ubl)
    [booked] = sb_world.journal_entries()
    entry = booked["entry"]
    assert invoice.status == Status.ACKNOWLEDGED
    assert sb_world.econnect_state(invoice) == InboxState.PROCESSED.value
    assert invoice.afas_reference == booked["number"]
    assert (entry["AdministrationId"], entry["InvoiceNumber"], entry["InvoiceDate"], entry["DueDate"]) == (
        SB_ADMINISTRATION_ID,
        "OOST-2025-001",
        "2025-03-03",
        "2025-04-02",
    )
    assert [(line["VatType"], line.get("VatCalculation"), *amounts(line)) for line in entry["InvoiceLine"]] == [
        ("high", None, Decimal("1234.56"), Decimal("259.26")),
        ("low", None, Decimal("33.33"), Decimal("3.00")),
        ("zero", None, Decimal("50.00"), Decimal("0.00")),
    ]
    assert [amounts(line) for line in entry["InvoiceLine"]] == [
        (item.taxable_amount, item.tax_amount) for item in summary.vat_breakdown
    ]
    assert sum(sum(amounts(line)) for line in entry["InvoiceLine"]) == summary.totals.payable == Decimal("1580.15")
    assert all(line["LedgerAccountId"] == LEDGER for line in entry["InvoiceLine"])
    assert all("door Peppol bridge uit de UBL" in line["Description"] for line in entry["InvoiceLine"])
    assert [base64.b64decode(a["data_b64"]) for a in booked["attachments"]] == [bytes(invoice.raw_xml), PDF]
    assert [a["content_type"] for a in booked["attachments"]] == ["application/xml", "application/pdf"]
    delivered_event = invoice.events.get(to_status=Status.DELIVERED)
    assert "VAT broken down by the portal from the UBL" in delivered_event.message


def test_reverse_charge_is_booked_as_a_reverse_charged_line_without_vat(sb_world, django_capture_on_commit_callbacks):
    ubl = purchase_invoice("OOST-2025-002", [("Onderaanneming", "880.00", Vat.reverse_charge())], pdf=False)

    invoice = sb_world.receive(ubl, django_capture_on_commit_callbacks)

    [booked] = sb_world.journal_entries()
    [line] = booked["entry"]["InvoiceLine"]
    assert invoice.status == Status.ACKNOWLEDGED
    assert (line["VatType"], line["VatCalculation"], *amounts(line)) == (
        "zero",
        "reversecharged",
        Decimal("880.00"),
        Decimal("0.00"),
    )
    assert [base64.b64decode(a["data_b64"]) for a in booked["attachments"]] == [bytes(invoice.raw_xml)]


def test_a_vat_rate_sb_cannot_express_is_held_with_the_reason_and_nothing_sent(
    sb_world, django_capture_on_commit_callbacks
):
    ubl = purchase_invoice("OOST-2025-003", [("Duitse levering", "100.00", Vat.standard(Decimal("19")))])

    invoice = sb_world.receive(ubl, django_capture_on_commit_callbacks)

    assert (invoice.status, invoice.hold_reason) == (Status.HELD, IncomingInvoice.HoldReason.VAT_NOT_MAPPABLE)
    assert "VAT category S at 19% cannot be booked in AFAS Small Business" in invoice.last_error_message
    assert "19%" in invoice.events.get(to_status=Status.HELD).message
    assert sb_world.journal_entries() == []
    assert sb_world.econnect_state(invoice) == InboxState.NEW.value


def test_an_environment_without_its_sb_settings_fails_naming_them(sb_world, django_capture_on_commit_callbacks):
    Environment.objects.filter(pk=sb_world.environment.pk).update(afas_sb_domain="", afas_sb_relation_id=None)

    invoice = sb_world.receive(purchase_invoice("OOST-2025-004", THREE_RATES), django_capture_on_commit_callbacks)

    assert invoice.status == Status.FAILED
    assert "missing AFAS SB domain, AFAS SB relation id" in invoice.last_error_message
    assert sb_world.journal_entries() == []
    assert sb_world.econnect_state(invoice) == InboxState.NEW.value


def test_a_timeout_after_sb_booked_is_retried_and_booked_exactly_once(sb_world, django_capture_on_commit_callbacks):
    sb_world.afas_fault(operation=JOURNAL_ENTRY, phase="after", delay=3600)

    invoice = sb_world.receive(purchase_invoice("OOST-2025-005", THREE_RATES), django_capture_on_commit_callbacks)

    assert invoice.status == Status.RETRY_WAIT
    assert len(sb_world.journal_entries()) == 1  # SB booked it; the answer was lost
    services.incoming_deliver(invoice=invoice, now=timezone.now() + timedelta(hours=1))

    invoice.refresh_from_db()
    [booked] = sb_world.journal_entries()
    assert invoice.status == Status.ACKNOWLEDGED
    assert invoice.attempts == 2
    assert invoice.afas_reference == booked["number"]
    assert sb_world.econnect_state(invoice) == InboxState.PROCESSED.value


def test_a_payable_rounding_goes_on_a_line_of_its_own_that_says_so(sb_world, django_capture_on_commit_callbacks):
    ubl = purchase_invoice("OOST-2025-006", THREE_RATES, rounding_amount=Decimal("-0.05"))

    invoice = sb_world.receive(ubl, django_capture_on_commit_callbacks)

    [booked] = sb_world.journal_entries()
    *rates, rounding = booked["entry"]["InvoiceLine"]
    assert invoice.status == Status.ACKNOWLEDGED
    assert len(rates) == 3
    assert (rounding["VatType"], *amounts(rounding)) == ("zero", Decimal("-0.05"), Decimal("0.00"))
    assert "afrondingsverschil -0.05" in rounding["Description"]
    assert "payable rounding" in rounding["Description"]
    total = sum(sum(amounts(line)) for line in booked["entry"]["InvoiceLine"])
    assert total == parse_document(ubl).totals.payable == Decimal("1580.10")


def test_a_vat_total_a_cent_off_its_rates_gets_an_explicit_vat_rounding_line():
    ubl = purchase_invoice("OOST-2025-007", THREE_RATES)
    # A sloppy supplier: the VAT total (and so the totals with VAT) one cent above the sum of its rates.
    for old, new in ((b">262.26<", b">262.27<"), (b">1580.15<", b">1580.16<")):
        assert old in ubl
        ubl = ubl.replace(old, new)
    summary = parse_document(ubl)

    booking = small_business_booking(summary, ledger_account_id=LEDGER)

    *rates, vat_rounding = booking.lines
    assert [(line.amount_excluding_vat, line.amount_vat) for line in rates] == [
        (item.taxable_amount, item.tax_amount) for item in summary.vat_breakdown
    ]
    assert (vat_rounding.vat_type, vat_rounding.amount_excluding_vat, vat_rounding.amount_vat) == (
        "high",
        Decimal("0.00"),
        Decimal("0.01"),
    )
    assert "btw-afrondingsverschil +0.01" in vat_rounding.description
    assert sum(line.amount_vat for line in booking.lines) == summary.totals.vat_total
    assert sum(line.amount_excluding_vat + line.amount_vat for line in booking.lines) == summary.totals.payable
    assert booking.adjustments == ("VAT rounding +0.01: the UBL's VAT total is 262.27, its rates add up to 262.26",)


def test_a_foreign_currency_invoice_is_not_booked_and_the_message_gives_its_vat_in_euros():
    from pathlib import Path

    from portal.incoming_invoices.small_business import VatNotMappable

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "peppol" / "edge" / "dkk_invoice_vat_in_eur.xml"
    summary = parse_document(fixture.read_bytes())

    with pytest.raises(VatNotMappable) as refused:
        small_business_booking(summary, ledger_account_id="4000")

    assert "in DKK" in refused.value.message
    assert "VAT in euros (BT-111, for the VAT return) is EUR 3.62" in refused.value.message
