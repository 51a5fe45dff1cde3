"""Changing one business term of a UBL document the portal is about to send, keeping every other byte's meaning.

Only the buyer's electronic address (BT-49, ``cac:AccountingCustomerParty/cac:Party/cbc:EndpointID``) is ever
changed: eConnect PSB routes on it, and the Peppol lookup may have found the customer under another identifier
than the one AFAS wrote.
"""

from __future__ import annotations

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.i18n import Text
from integrations.peppol.identifiers import PeppolIdentifier
from integrations.peppol.xml import XmlRejected, find_ubl_document, parse_untrusted_xml

_CUSTOMER_PARTY = f"{{{ns.CAC}}}AccountingCustomerParty/{{{ns.CAC}}}Party"
_ENDPOINT = f"{{{ns.CBC}}}EndpointID"


def with_customer_endpoint(ubl: bytes, identifier: PeppolIdentifier) -> bytes:
    """The document with the buyer's electronic address set to ``identifier`` (added as the party's first element
    when it has none)."""
    tree = parse_untrusted_xml(ubl)
    document, _ = find_ubl_document(tree)
    party = document.find(_CUSTOMER_PARTY)
    if party is None:
        raise XmlRejected(
            "not_ubl",
            Text(
                "The document names no customer (AccountingCustomerParty).",
                "Het document noemt geen klant (AccountingCustomerParty).",
            ),
        )
    endpoint = party.find(_ENDPOINT)
    if endpoint is None:
        endpoint = etree.Element(_ENDPOINT)
        party.insert(0, endpoint)
    endpoint.text = identifier.value
    endpoint.attrib.clear()
    endpoint.set("schemeID", identifier.scheme)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
