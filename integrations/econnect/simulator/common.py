"""What the parts of the eConnect simulator share: namespaces, documented codes, timings, the SOAP fault and XML helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree

from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import IdentifierSyntaxError, parse_identifier
from integrations.peppol.xml import parse_untrusted_xml

NS = "http://api.everbinding.nl/v3_1/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
INVOICE_TEMPLATE_ID = "GLDT9223370666504283001RA000000006DTP2000001"
TOKEN_EXPIRED = ("DEFAULT_ERROR_MESSAGE", "DEFAULT_ERROR_CODE999")  # documented code for an expired token
XML_INVALID = "ERRIER8000006"
# Error codes from eConnect's pages (SOURCES.md section 2.1, errorHandling.html); the simulator's own list.
INVALID_KEY_OR_TOKEN = "ERRIAU6000007"
NO_PERMISSION_FOR_VIA = "ERRGRP3000006"
RECEIVER_UNREACHABLE = "ERRSND4000001"
NAMESPACE_MISMATCH = "ERRCDO4000041"
DOCUMENT_NOT_FOUND = "ERRDOC4000004"  # [GUESS G-EC-7] no "not found" code is published
STATUS_NOT_ALLOWED = "ERRSTA4000002"  # [GUESS G-EC-8] no "status not allowed" code is published
TEMPLATE_ERROR = "ERRXSL4000001"
DEFAULT_TOKEN_TTL = 4 * 3600.0
# [GUESS G-EC-9] how long a sent document takes to be in progress and final
IN_PROGRESS_AFTER = 10.0
FINAL_AFTER = 60.0
PAGE_TOKEN = re.compile(r"p([0-9]{1,9})")  # longer is not a page eConnect handed out (and int() would refuse it)
MAX_CLOCK_OFFSET = 100 * 365 * 24 * 3600.0  # the clock stays within what a date can hold
MAX_TOKEN_TTL = 10 * 365 * 24 * 3600.0

INVOICE_DOCTYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
CREDIT_NOTE_DOCTYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
DOCTYPE_IDS = {DocumentType.INVOICE.value: INVOICE_DOCTYPE, DocumentType.CREDIT_NOTE.value: CREDIT_NOTE_DOCTYPE}
PROCESS_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
ACCESS_POINT_URLS = {  # [GUESS G-EC-10] hosts; the lookup client tells access points apart by host
    "econnect": "https://ap.econnect.eu/as4",
    "afas": "https://peppol.afas.nl/as4",
    "other": "https://ap.other-provider.example/as4",
}
NETWORKS = ("production", "test")


class SoapFault(Exception):
    def __init__(self, message: str, code: str, *, faultcode: str = "soap:Client"):
        super().__init__(message)
        self.message, self.code, self.faultcode = message, code, faultcode


def soap_fault_body(message: str, code: str, *, faultcode: str = "soap:Client") -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = faultcode
    etree.SubElement(fault, "faultstring").text = f"{message} [{code}]" if code else message
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso_time(text: str) -> float | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def canonical_party(party_id: str) -> str:
    try:
        return parse_identifier(party_id).icd
    except IdentifierSyntaxError:
        return party_id.strip()


def strip_prolog(data: bytes) -> bytes:
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if data.startswith(b"<?xml"):
        declaration_end = data.find(b"?>")
        declaration = data[:declaration_end].lower()
        encoding = re.search(rb"encoding\s*=\s*[\"']([^\"']+)", declaration)
        if encoding and encoding.group(1).decode("ascii", "replace").lower().replace("_", "-") not in ("utf-8", "utf8"):
            # Not splicable into a UTF-8 envelope as is: re-serialise (eConnect stores XML, not bytes, anyway).
            return etree.tostring(parse_untrusted_xml(data).getroot(), encoding="utf-8")
        data = data[declaration_end + 2 :]
    return data.strip()


def qualified(name: str) -> str:
    return f"{{{NS}}}{name}"


def sub_element(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, qualified(name))
    if text is not None:
        element.text = text
    return element


def find_text(parent: etree._Element | None, path: str) -> str:
    if parent is None:
        return ""
    element = parent.find(path, namespaces={"e": NS})
    return (element.text or "").strip() if element is not None else ""
