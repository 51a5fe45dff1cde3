"""A valid Peppol test invoice from an organisation to itself, for "send a test invoice".

It carries a marker in its note, ``[peppol-bridge-test:<token>]``, with the token of the outgoing test invoice: when
it comes back through the inbox, receiving recognises it by that marker (and by its sender and receiver both being
the environment's own identifier), acknowledges it at eConnect and never delivers it to AFAS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from integrations.peppol.builder import build_ubl
from integrations.peppol.document_types import DocumentType
from integrations.peppol.model import (
    Address,
    Identifier,
    InvoiceDocument,
    InvoiceLine,
    Party,
    PaymentMeans,
    Vat,
)

# The organisation's address is not kept in the portal yet; the Dutch rules (BR-NL-3) need one on the invoice.
TEST_ADDRESS = Address(street="Testinvoice 1", city="Amsterdam", postal_zone="1000 AA", country_code="NL")
TEST_IBAN = "NL91ABNA0417164300"  # the IBAN standard's own example account: nothing is ever paid
TEST_MARKER = "peppol-bridge-test"
_TEST_MARKER = re.compile(rf"\[{TEST_MARKER}:([0-9a-f]{{32}})\]")


def test_marker(token: str) -> str:
    return f"[{TEST_MARKER}:{token}]"


def test_token_in(notes: Iterable[str]) -> str | None:
    """The token of the portal's test-invoice marker in a document's notes, or None."""
    for note in notes:
        found = _TEST_MARKER.search(note or "")
        if found:
            return found.group(1)
    return None


def build_test_invoice(
    *, organisation_name: str, identifier: Identifier, kvk: str, number: str, issue_date: date, token: str
) -> bytes:
    party = Party(name=organisation_name, endpoint=identifier, legal_id=Identifier("0106", kvk), address=TEST_ADDRESS)
    document = InvoiceDocument(
        document_type=DocumentType.INVOICE,
        number=number,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=30),
        currency="EUR",
        supplier=party,
        customer=party,
        buyer_reference="Peppol bridge test",
        note="Test invoice sent from the Peppol bridge to check the connection. Do not pay or book it. / "
        f"Testfactuur van de Peppol-brug om de verbinding te controleren. Niet betalen of boeken. {test_marker(token)}",
        lines=(
            InvoiceLine(
                id="1",
                name="Test of the Peppol connection",
                quantity=Decimal("1"),
                unit_code="C62",
                price=Decimal("0.01"),
                vat=Vat.not_subject(),  # no VAT consequences, and no VAT number needed on a test invoice
            ),
        ),
        payment_means=(PaymentMeans.sepa_credit_transfer(TEST_IBAN, payment_id=number),),
    )
    return build_ubl(document)
