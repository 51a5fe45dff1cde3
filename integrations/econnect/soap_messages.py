"""The eConnect SOAP messages: the envelope and operation elements the gateway sends, and the answers it receives
read into typed objects (inbox and outbox summaries, statuses, parties), with the payload cut out byte for byte."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from lxml import etree

from integrations.econnect import statuses
from integrations.econnect.errors import SERVICE, DocumentRejected
from integrations.econnect.models import (
    DeliveryMethod,
    DocumentParty,
    InboxDocumentSummary,
    OutboxDocumentSummary,
    OutboxStatus,
    OutgoingDocument,
)
from integrations.http import MalformedResponse
from integrations.peppol.identifiers import IdentifierSyntaxError, PeppolIdentifier, parse_identifier
from integrations.peppol.parser import DocumentSummary, parse_document
from integrations.peppol.xml import XmlRejected, parse_untrusted_xml

logger = logging.getLogger(__name__)
NS = "http://api.everbinding.nl/v3_1/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_RESPONSE_BYTES = 60 * 1024 * 1024  # a payload may embed PDFs

ERROR_CODE_PATTERN = re.compile(r"\[\s*([A-Za-z0-9_]+)\s*\]\s*$")


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def sub_element(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(name))
    if text is not None:
        element.text = text
    return element


def build_envelope(body: etree._Element, *, token: str | None) -> bytes:
    """A SOAP 1.1 envelope around ``body`` (an element in the v3_1 namespace), with the token header if given."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    if token is not None:
        authentication = etree.SubElement(header, q("Authentication"), nsmap={None: NS})
        sub_element(authentication, "SecurityToken", token)
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(body)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def operation_element(operation: str) -> etree._Element:
    return etree.Element(q(operation), nsmap={None: NS})


def child_text(parent: etree._Element | None, path: str) -> str:
    if parent is None:
        return ""
    element = parent.find(path, namespaces={"e": NS})
    return (element.text or "").strip() if element is not None else ""


def parse_datetime(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def xml_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _party(element: etree._Element | None) -> DocumentParty | None:
    if element is None:
        return None
    return DocumentParty(child_text(element, "e:EConnectPartyId"), child_text(element, "e:Name"))


def _receiver(element: etree._Element) -> DocumentParty | None:
    """The WSDL spells it "Reciever", eConnect's pages "Receiver": either is read."""
    found = element.find(q("Reciever"))
    return _party(found if found is not None else element.find(q("Receiver")))


def read_inbox_summary(element: etree._Element) -> InboxDocumentSummary:
    code, name = child_text(element, "e:Status/e:Code"), child_text(element, "e:Status/e:Name")
    external_id = child_text(element, "e:ExternalId")
    if not external_id:
        raise MalformedResponse("An eConnect document without an ExternalId.", service=SERVICE)
    return InboxDocumentSummary(
        external_id=external_id,
        subject=child_text(element, "e:Subject"),
        created_on=parse_datetime(child_text(element, "e:CreatedOn")),
        modified_on=parse_datetime(child_text(element, "e:ModifiedOn")),
        sender=_party(element.find(q("Sender"))),
        receiver=_receiver(element),
        state=statuses.inbox_state(code, name),
        status_name=name,
        status_code=code,
    )


def read_outbox_status(external_id: str, status: etree._Element | None) -> OutboxStatus | None:
    if status is None:
        return None
    code, name = child_text(status, "e:Code"), child_text(status, "e:Name")
    return OutboxStatus(
        external_id=external_id,
        state=statuses.outbox_state(code, name),
        name=name,
        code=code,
        changed_on=parse_datetime(child_text(status, "e:Info/e:ChangedOn")),
    )


def read_outbox_summary(element: etree._Element) -> OutboxDocumentSummary:
    external_id = child_text(element, "e:ExternalId")
    if not external_id:
        raise MalformedResponse("An eConnect outbox document without an ExternalId.", service=SERVICE)
    return OutboxDocumentSummary(
        external_id=external_id,
        subject=child_text(element, "e:Subject"),
        created_on=parse_datetime(child_text(element, "e:CreatedOn")),
        modified_on=parse_datetime(child_text(element, "e:ModifiedOn")),
        receiver=_receiver(element),
        status=read_outbox_status(external_id, element.find(q("Status"))),
        delivery_method=read_delivery_method(child_text(element, "e:Transaction/e:DeliveryMethod")),
    )


def read_delivery_method(value: str) -> DeliveryMethod:
    try:
        return DeliveryMethod(value)
    except ValueError:
        return DeliveryMethod.UNKNOWN


def strip_prolog(data: bytes) -> bytes:
    """The document without BOM and XML declaration: the platform wants the payload "without the XML prolog"."""
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if data.startswith(b"<?xml"):
        end = data.find(b"?>")
        data = data[end + 2 :].lstrip() if end != -1 else data
    return data


def payload_bytes(raw: bytes, payload: etree._Element) -> bytes:
    """The document inside ``Payload`` exactly as eConnect wrote it into the response, from the root element's start
    tag to its end tag (whitespace around it is not part of the document).

    Re-serialising the element would change bytes (inherited namespace declarations, quoting, empty tags), so
    the bytes between the Payload tags are cut out of the raw response and then checked: they must parse, with the
    hardened parser, to the same canonical XML as the element the response parser saw. If not (e.g. a comment that
    looks like a tag), the canonical serialisation is returned instead.
    """
    children = [child for child in payload if isinstance(child.tag, str)]
    if len(children) != 1:
        raise MalformedResponse("The eConnect Payload does not hold exactly one document.", service=SERVICE)
    document = children[0]
    prefix = payload.prefix
    tag = f"{prefix}:Payload" if prefix else "Payload"
    open_match = re.search(rb"<" + re.escape(tag.encode()) + rb"(\s[^>]*)?>", raw)
    close_at = raw.rfind(b"</" + tag.encode())
    canonical = etree.tostring(document, method="c14n", exclusive=True)
    if open_match and close_at > open_match.end():
        candidate = raw[open_match.end() : close_at].strip()
        try:
            parsed = parse_untrusted_xml(candidate, max_bytes=MAX_RESPONSE_BYTES).getroot()
        except XmlRejected:
            parsed = None
        if parsed is not None and etree.tostring(parsed, method="c14n", exclusive=True) == canonical:
            return candidate
    logger.warning("eConnect payload could not be cut out byte for byte; using its canonical form")
    return canonical


@dataclass(frozen=True)
class OutgoingFacts:
    """What identifies our own document at eConnect: number, issue date and supplier, and whether it credits."""

    number: str | None
    issue_date: date | None
    supplier: str | None  # canonical ICD form
    credit_note: bool

    @property
    def key(self) -> tuple[str | None, date | None, str | None]:
        return self.number, self.issue_date, self.supplier

    @property
    def subject(self) -> str:
        return f"{'Creditnota' if self.credit_note else 'Factuur'} {self.number or ''}".strip()


def outgoing_facts(document: OutgoingDocument) -> OutgoingFacts:
    """The facts the portal stored with the document; read from the payload only when it did not store them."""
    if document.invoice_number:
        return OutgoingFacts(document.invoice_number, document.issue_date, document.sender.icd, document.credit_note)
    try:
        summary = parse_document(document.payload)
    except XmlRejected as exc:
        raise DocumentRejected(f"The document cannot be sent: {exc}", service=SERVICE, code=exc.kind) from exc
    return facts_of(summary)


def facts_of(summary: DocumentSummary) -> OutgoingFacts:
    endpoint = summary.supplier.endpoint_id if summary.supplier else None
    supplier = None
    if endpoint is not None:
        try:
            supplier = parse_identifier(f"{endpoint.scheme or ''}:{endpoint.value}").icd
        except IdentifierSyntaxError:
            supplier = str(endpoint)
    return OutgoingFacts(summary.number, summary.issue_date, supplier, summary.is_credit_note)


def outgoing_root(document: OutgoingDocument) -> etree._Element:
    """Our own document as the SOAP payload, read like any other XML; one that cannot be read is refused."""
    try:
        return parse_untrusted_xml(strip_prolog(document.payload)).getroot()
    except XmlRejected as exc:
        raise DocumentRejected(f"The document cannot be sent: {exc}", service=SERVICE, code=exc.kind) from exc


def party_reference(identifier: PeppolIdentifier) -> str:
    """Registry ids in eConnect notation (NL:KVK:...) where there is one; newer pages also accept 0106:..."""
    return identifier.econnect or identifier.icd
