import pytest

from integrations.peppol.builder import build_ubl
from integrations.peppol.editing import with_customer_endpoint
from integrations.peppol.identifiers import parse_identifier
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected
from tests.integrations.peppol.builders import invoice


def test_the_customer_endpoint_is_replaced_and_nothing_else_changes():
    original = build_ubl(invoice(number="E-1"))

    edited = with_customer_endpoint(original, parse_identifier("0190:00000001001234567000"))

    before, after = parse_document(original), parse_document(edited)
    assert str(after.customer.endpoint_id) == "0190:00000001001234567000"
    assert (after.number, after.totals, after.supplier) == (before.number, before.totals, before.supplier)
    assert edited.count(b"EndpointID") == original.count(b"EndpointID")


def test_a_customer_without_an_endpoint_gets_one():
    original = build_ubl(invoice(number="E-2"))
    start = original.index(b"<cac:AccountingCustomerParty>")
    without = original[:start] + original[start:].replace(
        original[start:][original[start:].index(b"<cbc:EndpointID") :].split(b"</cbc:EndpointID>")[0]
        + b"</cbc:EndpointID>",
        b"",
        1,
    )
    assert parse_document(without).customer.endpoint_id is None

    edited = with_customer_endpoint(without, parse_identifier("0106:30123457"))

    assert str(parse_document(edited).customer.endpoint_id) == "0106:30123457"


def test_a_document_without_a_customer_is_refused():
    original = build_ubl(invoice(number="E-3"))
    start, end = original.index(b"<cac:AccountingCustomerParty>"), original.index(b"</cac:AccountingCustomerParty>")
    broken = original[:start] + original[end + len(b"</cac:AccountingCustomerParty>") :]

    with pytest.raises(XmlRejected):
        with_customer_endpoint(broken, parse_identifier("0106:30123457"))
