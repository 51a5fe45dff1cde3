"""Recognising the organisation's own test invoice when it comes back through the inbox.

It carries the portal's marker with the token of the outgoing test invoice, and its supplier and customer are both
one of the receiving environment's own identifiers. Such a document is acknowledged at eConnect and never delivered
to AFAS. A document with the marker that fails either check is held for a person: it is not booked as a test, and
not delivered as if it were an ordinary invoice either.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.peppol.identifiers import IdentifierSyntaxError, parse_identifier
from integrations.peppol.parser import DocumentSummary, Party
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.round_trip import outgoing_test_invoice_for_token
from portal.outgoing_invoices.sample_invoice import test_token_in


@dataclass(frozen=True)
class TestInvoiceMark:
    """A document carrying the test-invoice marker; ``sent`` is the outgoing test invoice it is, if it checks out."""

    token: str
    sent: OutgoingInvoice | None


def own_test_invoice(*, environment: Environment, summary: DocumentSummary) -> TestInvoiceMark | None:
    """None for every document without the marker."""
    token = test_token_in(summary.notes)
    if token is None:
        return None
    own = {own.identifier for own in environment.own_identifiers.all()}
    supplier, customer = _endpoint(summary.supplier), _endpoint(summary.customer)
    if supplier is None or supplier != customer or supplier not in own:
        return TestInvoiceMark(token, None)
    return TestInvoiceMark(
        token, outgoing_test_invoice_for_token(organisation_id=environment.organisation_id, token=token)
    )


def _endpoint(party: Party | None) -> str | None:
    if party is None or party.endpoint_id is None:
        return None
    try:
        return parse_identifier(f"{party.endpoint_id.scheme or ''}:{party.endpoint_id.value}").icd
    except IdentifierSyntaxError:
        return None
