"""The eConnect simulator: the platform SOAP API v3.1 (``/soap/v3.1``) and the public Peppol lookup
(``/api/v1/peppol/deliveryOption``; ``/accp/...`` for the test network), with persistent state.

Faithful where eConnect is documented (SOURCES.md section 2, APIS.md 1.4/1.6/1.8); everything else is marked
[GUESS]. The control API under ``/_sim/`` (see ``EConnectSimulator.__init__``) is simulator-only.

Time is the simulator's clock (real time plus an offset that ``POST /_sim/clock`` advances), so tests move
documents through their lifecycle and tokens past their expiry without waiting. Progress is applied lazily on every
request: a document sent at t is "accepted" at t, "in progress" from t+10 s and final (delivered, failed or
rejected, per the recipient's directory entry) from t+60 s [GUESS timings].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from integrations.econnect.errors import (
    DOCUMENT_NOT_FOUND,
    INVALID_KEY_OR_TOKEN,
    NAMESPACE_MISMATCH,
    NO_PERMISSION_FOR_VIA,
    RECEIVER_UNREACHABLE,
    STATUS_NOT_ALLOWED,
)
from integrations.econnect.models import InboxState, OutboxState
from integrations.econnect.statuses import INBOX_CODES, OUTBOX_CODES
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import IdentifierSyntaxError, parse_identifier
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected, parse_untrusted_xml
from integrations.simulators.app import MAX_REQUEST_BYTES, Request, Response, SimulatorApp
from integrations.simulators.control import ControlError
from integrations.simulators.faults import Fault
from integrations.simulators.state import StateStore

NS = "http://api.everbinding.nl/v3_1/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
INVOICE_TEMPLATE_ID = "GLDT9223370666504283001RA000000006DTP2000001"
TOKEN_EXPIRED = ("DEFAULT_ERROR_MESSAGE", "DEFAULT_ERROR_CODE999")  # documented code for an expired token
XML_INVALID = "ERRIER8000006"
TEMPLATE_ERROR = "ERRXSL4000001"
DEFAULT_TOKEN_TTL = 4 * 3600.0
IN_PROGRESS_AFTER = 10.0  # [GUESS]
FINAL_AFTER = 60.0  # [GUESS]
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
ACCESS_POINT_URLS = {  # [GUESS] hosts; the lookup client tells access points apart by host
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


def _initial() -> dict[str, Any]:
    return {
        "clock_offset": 0.0,
        "token_ttl": DEFAULT_TOKEN_TTL,
        "seq": 1000,
        "accounts": {},
        "tokens": {},
        "directory": {network: {} for network in NETWORKS},
        "outbox": [],
        "inbox": [],
        "calls": [],
    }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> float | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _canonical(party_id: str) -> str:
    try:
        return parse_identifier(party_id).icd
    except IdentifierSyntaxError:
        return party_id.strip()


def _strip_prolog(data: bytes) -> bytes:
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


def _ns(name: str) -> str:
    return f"{{{NS}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _ns(name))
    if text is not None:
        element.text = text
    return element


def _find_text(parent: etree._Element | None, path: str) -> str:
    if parent is None:
        return ""
    element = parent.find(path, namespaces={"e": NS})
    return (element.text or "").strip() if element is not None else ""


class EConnectSimulator(SimulatorApp):
    name = "econnect"

    def __init__(self, state_dir: Path | None = None) -> None:
        super().__init__()
        self.state = StateStore(state_dir, name="econnect", initial=_initial)
        self.route("POST", r"/soap/v3\.1/?", self.soap, operation="SOAP", ignore_case=True)
        self.route(
            "GET", r"(?P<prefix>/accp)?/api/v1/peppol/deliveryOption", self.delivery_option, operation="deliveryOption"
        )
        self.route("GET", r"/_sim/state", self.sim_state)
        self.route("GET", r"/_sim/clock", self.sim_clock)
        self.route("POST", r"/_sim/clock", self.sim_clock_advance)
        self.route("POST", r"/_sim/config", self.sim_config)
        self.route("POST", r"/_sim/accounts", self.sim_add_account)
        self.route("POST", r"/_sim/accounts/(?P<app_key>[^/]+)/expire-tokens", self.sim_expire_tokens)
        self.route("PUT", r"/_sim/directory/(?P<network>[a-z]+)/(?P<party_id>[^/]+)", self.sim_register)
        self.route("DELETE", r"/_sim/directory/(?P<network>[a-z]+)/(?P<party_id>[^/]+)", self.sim_unregister)
        self.route("POST", r"/_sim/inbox", self.sim_inject)
        self.route("GET", r"/_sim/inbox", self.sim_inbox)
        self.route("POST", r"/_sim/inbox/(?P<external_id>[^/]+)/release", self.sim_release)
        self.route("GET", r"/_sim/sent", self.sim_sent)
        self.route("GET", r"/_sim/calls", self.sim_calls)
        self.route("POST", r"/_sim/soap-faults", self.sim_soap_fault)
        # Reconciliation: make eConnect disagree with the portal, as happens when someone acts in eConnect's platform.
        self.route("POST", r"/_sim/outbox/(?P<external_id>[^/]+)/state", self.sim_outbox_state)
        self.route("POST", r"/_sim/inbox/(?P<external_id>[^/]+)/status", self.sim_inbox_status)

    # --- plumbing ----------------------------------------------------------------------------------------------
    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    def now(self) -> float:
        return time.time() + self.data["clock_offset"]

    def reset(self) -> None:
        self.state.reset()

    def _next_id(self, prefix: str) -> str:
        self.data["seq"] += 1
        return f"{prefix}{self.data['seq']}"

    def operation_for(self, request: Request, route, match) -> str:
        if route.operation == "SOAP":
            return request.headers.get("soapaction", "").strip().strip('"').rsplit("/", 1)[-1] or "SOAP"
        return super().operation_for(request, route, match)

    def handle(self, request: Request) -> Response:
        if not request.path.startswith("/_sim/"):
            with self.state.lock:
                self._progress()
        return super().handle(request)

    # --- accounts, parties, directory --------------------------------------------------------------------------
    def add_account(
        self,
        *,
        app_key: str,
        app_secret: str,
        network: str,
        parties: list[dict[str, str]],
        name: str = "",
        duplicates_visible: bool = False,
    ) -> dict[str, Any]:
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}")
        with self.state.lock:
            hosted = {
                party["id"]: key
                for key, account in self.data["accounts"].items()
                if account["network"] == network
                for party in account["parties"]
            }
            account_parties = []
            for party in parties:
                party_id = _canonical(party["id"])
                if hosted.get(party_id, app_key) != app_key:
                    raise ValueError(f"{party_id} is already hosted by another account in the {network} network")
                account_parties.append(
                    {
                        "id": party_id,
                        "name": party.get("name", name),
                        "econnect_party_id": party.get("econnect_party_id") or self._next_id("XCNL"),
                    }
                )
            account = {
                "app_key": app_key,
                "app_secret": app_secret,
                "network": network,
                "name": name,
                "parties": account_parties,
                "duplicates_visible": duplicates_visible,
            }
            self.data["accounts"][app_key] = account
            self.state.save()
            return account

    def register(
        self,
        network: str,
        party_id: str,
        *,
        access_point: str = "econnect",
        document_types: list[str] | None = None,
        behaviour: str = "deliver",
        name: str = "",
    ) -> dict[str, Any]:
        if network not in NETWORKS or access_point not in ACCESS_POINT_URLS:
            raise ValueError("unknown network or access point")
        if behaviour not in ("deliver", "fail", "reject"):
            raise ValueError("behaviour must be deliver, fail or reject")
        types = document_types or [t.value for t in DocumentType]
        if not set(types) <= set(DOCTYPE_IDS):
            raise ValueError(f"document types must be among {sorted(DOCTYPE_IDS)}")
        entry = {"access_point": access_point, "document_types": types, "behaviour": behaviour, "name": name}
        with self.state.lock:
            self.data["directory"][network][_canonical(party_id)] = entry
            self.state.save()
        return entry

    def _hosting_account(self, network: str, party_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for account in self.data["accounts"].values():
            if account["network"] != network:
                continue
            for party in account["parties"]:
                if party_id in (party["id"], party["econnect_party_id"]):
                    return account, party
        return None

    def _directory_entry(self, network: str, party_id: str) -> dict[str, Any] | None:
        # A registration in the directory wins: a party eConnect hosts may still be registered at AFAS's access point
        # (the conflict the portal must notice before it switches receiving on).
        registered = self.data["directory"][network].get(party_id)
        if registered is not None:
            return registered
        if self._hosting_account(network, party_id):
            return {"access_point": "econnect", "document_types": list(DOCTYPE_IDS), "behaviour": "deliver"}
        return None

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def _progress(self) -> None:
        now, changed = self.now(), False
        for doc in self.data["outbox"]:
            if OutboxState(doc["state"]).is_final:
                continue
            elapsed = now - doc["created_at"]
            if elapsed >= FINAL_AFTER:
                final = {"deliver": OutboxState.DELIVERED, "fail": OutboxState.FAILED, "reject": OutboxState.REJECTED}
                self._set_outbox_state(doc, final[doc["behaviour"]], doc["created_at"] + FINAL_AFTER)
                if doc["state"] == OutboxState.DELIVERED and doc["delivery_method"] == "ToInbox":
                    self._deliver_to_inbox(doc)
                changed = True
            elif elapsed >= IN_PROGRESS_AFTER and doc["state"] == OutboxState.ACCEPTED:
                self._set_outbox_state(doc, OutboxState.IN_PROGRESS, doc["created_at"] + IN_PROGRESS_AFTER)
                changed = True
        if changed:
            self.state.save()

    @staticmethod
    def _set_outbox_state(doc: dict[str, Any], state: OutboxState, at: float) -> None:
        doc["state"] = state.value
        doc["modified_at"] = at
        doc["history"].append({"state": state.value, "at": _iso(at)})

    def _deliver_to_inbox(self, doc: dict[str, Any]) -> None:
        account = self.data["accounts"][doc["account"]]
        hosted = self._hosting_account(account["network"], doc["recipient"])
        if hosted is None:
            return
        sender = self._hosting_account(account["network"], doc["sender"])
        self.receive(
            receiver_key=hosted[0]["app_key"],
            receiver_party=hosted[1]["id"],
            payload=base64.b64decode(doc["payload"]),
            sender_party_id=sender[1]["econnect_party_id"] if sender else doc["sender"],
            sender_name=sender[1]["name"] if sender else "",
        )

    def receive(
        self,
        *,
        receiver_key: str,
        receiver_party: str,
        payload: bytes,
        sender_party_id: str = "",
        sender_name: str = "",
        unchecked: bool = False,
    ) -> dict[str, Any]:
        """A document arrives for a hosted party, as if over Peppol. Reproduces eConnect's duplicate flaw: an earlier
        document for the same receiver with the same invoice number and issue date makes this one a "Duplicate",
        whoever the supplier is (PEERS.md section 3)."""
        if unchecked:  # well-formed XML that is not a readable UBL document, passed on as eConnect would
            return self._receive_unchecked(receiver_key, receiver_party, _strip_prolog(payload), sender_name)
        summary = parse_document(payload)
        payload = _strip_prolog(payload)
        supplier = summary.supplier
        supplier_id = str(supplier.endpoint_id) if supplier and supplier.endpoint_id else ""
        issue_date = summary.issue_date.isoformat() if summary.issue_date else ""
        earlier = next(
            (
                doc
                for doc in self.data["inbox"]
                if doc["account"] == receiver_key
                and doc["receiver"] == receiver_party
                and (doc["number"], doc["issue_date"]) == (summary.number, issue_date)
            ),
            None,
        )
        state = InboxState.DUPLICATE if earlier else InboxState.NEW
        now = self.now()
        doc = {
            "external_id": self._next_id("XCNIN"),
            "account": receiver_key,
            "receiver": receiver_party,
            "sender_party_id": sender_party_id or supplier_id,
            "sender_name": sender_name or (supplier.display_name if supplier else "") or "",
            "supplier_id": supplier_id,
            "number": summary.number,
            "issue_date": issue_date,
            "document_type": summary.document_type.value,
            "subject": f"{'Creditnota' if summary.is_credit_note else 'Factuur'} {summary.number or ''}".strip(),
            "payload": base64.b64encode(payload).decode(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "status_code": INBOX_CODES[state][0],
            "duplicate_of": earlier["external_id"] if earlier else None,
            "released": False,
            "created_at": now,
            "modified_at": now,
        }
        self.data["inbox"].append(doc)
        self.state.save()
        return doc

    def _receive_unchecked(
        self, receiver_key: str, receiver_party: str, payload: bytes, sender_name: str
    ) -> dict[str, Any]:
        now = self.now()
        doc = {
            "external_id": self._next_id("XCNIN"),
            "account": receiver_key,
            "receiver": receiver_party,
            "sender_party_id": "",
            "sender_name": sender_name,
            "supplier_id": "",
            "number": None,
            "issue_date": "",
            "document_type": "invoice",
            "subject": "Document",
            "payload": base64.b64encode(payload).decode(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "status_code": INBOX_CODES[InboxState.NEW][0],
            "duplicate_of": None,
            "released": False,
            "created_at": now,
            "modified_at": now,
        }
        self.data["inbox"].append(doc)
        self.state.save()
        return doc

    # --- SOAP ----------------------------------------------------------------------------------------------------
    def soap(self, request: Request) -> Response:
        if "chunked" in request.headers.get("transfer-encoding", "").lower():
            return Response.text("Chunked transfer encoding is not supported.", 411)  # [GUESS] status
        action = request.headers.get("soapaction", "").strip().strip('"')
        try:
            body = self._soap_body(request.body)
            operation = etree.QName(body).localname
            if not action.startswith(NS) or etree.QName(body).namespace != NS or action[len(NS) :] != operation:
                raise SoapFault("Namespace not supported or not matching the SOAPAction", NAMESPACE_MISMATCH)
            handler = getattr(self, f"op_{operation}", None)
            if handler is None:
                raise SoapFault(f"Operation {operation} is not simulated", NAMESPACE_MISMATCH)
            with self.state.lock:
                account = None if operation == "Login" else self._authenticate(request.body)
                self.data["calls"].append({"operation": operation, "account": account, "at": _iso(self.now())})
                answer = handler(body, account)
                self.state.save()
                if isinstance(answer, _WithPayload):
                    return self._envelope(answer.answer, payload=answer.payload)
        except SoapFault as fault:
            return Response(
                500,
                soap_fault_body(fault.message, fault.code, faultcode=fault.faultcode),
                {"Content-Type": "text/xml; charset=utf-8"},
            )
        return self._envelope(answer)

    @staticmethod
    def _soap_body(data: bytes) -> etree._Element:
        try:
            root = parse_untrusted_xml(data).getroot()
        except XmlRejected as exc:
            raise SoapFault(f"XML not valid: {exc}", XML_INVALID) from exc
        body = root.find(f"{{{SOAP_ENV}}}Body") if root.tag == f"{{{SOAP_ENV}}}Envelope" else None
        children = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        if len(children) != 1:
            raise SoapFault("XML not valid: no SOAP body with one operation", XML_INVALID)
        return children[0]

    def _authenticate(self, data: bytes) -> str:
        root = parse_untrusted_xml(data).getroot()
        token = _find_text(root, f"{{{SOAP_ENV}}}Header/e:Authentication/e:SecurityToken")
        entry = self.data["tokens"].get(token)
        if entry is None:
            raise SoapFault("Invalid consumer key or security token", INVALID_KEY_OR_TOKEN)
        if entry["expires_at"] <= self.now():
            raise SoapFault(TOKEN_EXPIRED[0], TOKEN_EXPIRED[1])
        return entry["app_key"]

    def _envelope(self, answer: etree._Element, *, payload: bytes | None = None) -> Response:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(answer)
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        if payload is not None:
            # The stored document goes in byte for byte, as eConnect's payload is the document it holds.
            body = body.replace(b"<Payload>__PAYLOAD__</Payload>", b"<Payload>" + payload + b"</Payload>", 1)
        return Response(200, body, {"Content-Type": "text/xml; charset=utf-8"})

    def _answer(self, operation: str) -> etree._Element:
        return etree.Element(_ns(f"{operation}Response"), nsmap={None: NS})

    def op_Login(self, body: etree._Element, account: None) -> etree._Element:
        key, secret = _find_text(body, "e:ConsumerKey"), _find_text(body, "e:ConsumerSecret")
        found = self.data["accounts"].get(key)
        if found is None or not secrets.compare_digest(found["app_secret"], secret):
            raise SoapFault("Invalid consumer key or security token", INVALID_KEY_OR_TOKEN)
        token = base64.b64encode(secrets.token_bytes(96)).decode()  # opaque, ~128 characters
        self.data["tokens"][token] = {"app_key": key, "expires_at": self.now() + self.data["token_ttl"]}
        answer = self._answer("Login")
        _sub(answer, "SecurityToken", token)
        return answer

    def op_SendDocument(self, body: etree._Element, key: str) -> etree._Element:
        account = self.data["accounts"][key]
        network = account["network"]
        via = _canonical(_find_text(body, "e:Via/e:ReferenceId"))
        own = self._hosting_account(network, via)
        if own is None or own[0]["app_key"] != key:
            raise SoapFault(
                "You do not have permission to send document via the specified group", NO_PERMISSION_FOR_VIA
            )
        sender = own[1]["id"]
        if _find_text(body, "e:TemplateId") != INVOICE_TEMPLATE_ID:
            raise SoapFault("Unknown template", TEMPLATE_ERROR)  # [GUESS] code for an unknown template
        payload_element = body.find(_ns("Payload"))
        documents = [c for c in payload_element if isinstance(c.tag, str)] if payload_element is not None else []
        if len(documents) != 1:
            raise SoapFault("XML not valid: the Payload must hold one document", XML_INVALID)
        payload = etree.tostring(documents[0], encoding="utf-8")
        try:
            summary = parse_document(payload)
        except XmlRejected as exc:
            raise SoapFault(f"There was an error transforming the document: {exc}", TEMPLATE_ERROR) from exc
        supplier = summary.supplier.endpoint_id if summary.supplier else None
        if supplier is None or _canonical(str(supplier)) != sender or not summary.number:
            raise SoapFault(
                "There was an error transforming the document: the supplier's EndpointID is not the sender",
                TEMPLATE_ERROR,
            )
        recipient = _canonical(_find_text(body, "e:To/e:ReferenceId"))
        email = _find_text(body, "e:To/e:EmailAddress")
        entry = self._directory_entry(network, recipient)
        hosted = self._hosting_account(network, recipient)
        if hosted:
            method, behaviour = "ToInbox", "deliver"
        elif entry and summary.document_type.value in entry["document_types"]:
            method, behaviour = "ToPeppol", entry["behaviour"]
        elif email:
            method, behaviour = "ToEmail", "deliver"
        else:
            raise SoapFault("The receiver is not reachable and no e-mail address was given", RECEIVER_UNREACHABLE)
        now = self.now()
        doc = {
            "external_id": self._next_id("XCNUT"),  # [GUESS] prefix; inbox ids look like XCNIN97968
            "account": key,
            "sender": sender,
            "recipient": recipient,
            "number": summary.number,
            "issue_date": summary.issue_date.isoformat() if summary.issue_date else "",
            "subject": f"Factuur {summary.number}",  # "Subject will be overwritten ... to {template} {invoiceid}"
            "payload": base64.b64encode(payload).decode(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "delivery_method": method,
            "behaviour": behaviour,
            "state": OutboxState.ACCEPTED.value,
            "created_at": now,
            "modified_at": now,
            "history": [{"state": OutboxState.ACCEPTED.value, "at": _iso(now)}],
        }
        self.data["outbox"].append(doc)
        answer = self._answer("SendDocument")
        _sub(answer, "ExternalId", doc["external_id"])
        return answer

    def _party_element(self, parent: etree._Element, name: str, party_id: str, party_name: str) -> None:
        party = _sub(parent, name)
        _sub(party, "EConnectPartyId", party_id)
        _sub(party, "Name", party_name)

    def _document_element(
        self, parent: etree._Element, name: str, doc: dict[str, Any], *, outbox: bool
    ) -> etree._Element:
        account = self.data["accounts"][doc["account"]]
        element = _sub(parent, name)
        _sub(element, "ExternalId", doc["external_id"])
        _sub(element, "Subject", doc["subject"])
        _sub(element, "CreatedOn", _iso(doc["created_at"]))
        _sub(element, "ModifiedOn", _iso(doc["modified_at"]))
        if outbox:
            own = self._hosting_account(account["network"], doc["sender"])
            self._party_element(
                element, "Sender", own[1]["econnect_party_id"] if own else doc["sender"], account["name"]
            )
            self._party_element(element, "Reciever", doc["recipient"], "")
            code, status_name = OUTBOX_CODES[OutboxState(doc["state"])]
        else:
            own = self._hosting_account(account["network"], doc["receiver"])
            self._party_element(element, "Sender", doc["sender_party_id"], doc["sender_name"])
            self._party_element(
                element, "Reciever", own[1]["econnect_party_id"] if own else doc["receiver"], account["name"]
            )
            code = doc["status_code"]
            status_name = next(n for c, n in INBOX_CODES.values() if c == code)
        status = _sub(element, "Status")
        _sub(status, "Name", status_name)
        _sub(status, "Code", code)
        if name == "Details":
            info = _sub(status, "Info")
            _sub(info, "AccountName", account["name"])
            _sub(info, "ChangedOn", _iso(doc["modified_at"]))
        template = _sub(element, "Template")
        _sub(template, "MasterId", INVOICE_TEMPLATE_ID)
        _sub(template, "MasterName", "Factuur")
        transaction = _sub(element, "Transaction")
        _sub(transaction, "DeliveryMethod", doc.get("delivery_method", "ToInbox"))
        return element

    def _list(
        self, body: etree._Element, docs: list[dict[str, Any]], operation: str, *, outbox: bool
    ) -> etree._Element:
        try:
            limit = max(1, min(int(_find_text(body, "e:Paging/e:Limit") or "10"), 100))
        except ValueError as exc:
            raise SoapFault("XML not valid: Paging/Limit", XML_INVALID) from exc
        start = PAGE_TOKEN.fullmatch(_find_text(body, "e:Paging/e:StartPage") or "p0")
        offset = int(start.group(1)) if start else 0
        created_from = _parse_iso(_find_text(body, "e:Search/e:CreatedOn/e:From"))
        if created_from is not None:
            docs = [d for d in docs if d["created_at"] >= created_from]
        subject = _find_text(body, "e:Search/e:Subject")
        if subject:
            docs = [d for d in docs if subject.lower() in d["subject"].lower()]  # [GUESS] "contains" match
        page = docs[offset : offset + limit]
        answer = self._answer(operation)
        results = _sub(answer, "Results")
        for doc in page:
            self._document_element(results, "Document", doc, outbox=outbox)
        more = offset + limit < len(docs)
        _sub(_sub(answer, "PagingResponse"), "NextPage", f"p{offset + limit}" if more else "")
        return answer

    def op_GetInboxDocuments(self, body: etree._Element, key: str) -> etree._Element:
        account = self.data["accounts"][key]
        docs = [d for d in self.data["inbox"] if d["account"] == key]
        party = _find_text(body, "e:EConnectPartyId") or _find_text(body, "e:GroupId")
        if party:
            hosted = self._hosting_account(account["network"], _canonical(party)) or self._hosting_account(
                account["network"], party
            )
            docs = [d for d in docs if hosted and d["receiver"] == hosted[1]["id"]]
        duplicate = INBOX_CODES[InboxState.DUPLICATE][0]
        if not account["duplicates_visible"]:
            docs = [d for d in docs if d["status_code"] != duplicate]  # held back until released
        code = _find_text(body, "e:Search/e:Status/e:Code")
        docs = (
            [d for d in docs if d["status_code"] == code]
            if code
            else [d for d in docs if d["status_code"] != duplicate]
        )
        return self._list(body, docs, "GetInboxDocuments", outbox=False)

    def _inbox_doc(self, key: str, external_id: str) -> dict[str, Any]:
        account = self.data["accounts"][key]
        for doc in self.data["inbox"]:
            if doc["account"] == key and doc["external_id"] == external_id:
                hidden = (
                    doc["status_code"] == INBOX_CODES[InboxState.DUPLICATE][0] and not account["duplicates_visible"]
                )
                if not hidden:
                    return doc
        raise SoapFault(f"Document {external_id} not found", DOCUMENT_NOT_FOUND)  # [GUESS] code

    def op_GetInboxDocument(self, body: etree._Element, key: str) -> _WithPayload:
        doc = self._inbox_doc(key, _find_text(body, "e:ExternalId"))
        answer = self._answer("GetInboxDocument")
        details = self._document_element(answer, "Details", doc, outbox=False)
        _sub(details, "Payload", "__PAYLOAD__")
        allowed = _sub(answer, "Statuses")
        for state, (code, status_name) in INBOX_CODES.items():
            if state is not InboxState.DUPLICATE:
                status = _sub(allowed, "Status")
                _sub(status, "Name", status_name)
                _sub(status, "Code", code)
        return _WithPayload(answer, base64.b64decode(doc["payload"]))

    def op_SetInboxDocumentStatus(self, body: etree._Element, key: str) -> etree._Element:
        doc = self._inbox_doc(key, _find_text(body, "e:ExternalId"))
        code = _find_text(body, "e:StatusCode")
        allowed = {c for state, (c, _) in INBOX_CODES.items() if state is not InboxState.DUPLICATE}
        if code not in allowed:
            raise SoapFault(f"Status {code!r} is not allowed for this document", STATUS_NOT_ALLOWED)  # [GUESS]
        doc["status_code"], doc["modified_at"] = code, self.now()
        answer = self._answer("SetInboxDocumentStatus")
        _sub(answer, "ExternalId", doc["external_id"])
        return answer

    def _outbox_doc(self, key: str, external_id: str) -> dict[str, Any]:
        for doc in self.data["outbox"]:
            if doc["account"] == key and doc["external_id"] == external_id:
                return doc
        raise SoapFault(f"Document {external_id} not found", DOCUMENT_NOT_FOUND)  # [GUESS] code

    def op_GetOutboxDocuments(self, body: etree._Element, key: str) -> etree._Element:
        docs = [d for d in self.data["outbox"] if d["account"] == key]
        code = _find_text(body, "e:Search/e:Status/e:Code")
        if code:
            docs = [d for d in docs if OUTBOX_CODES[OutboxState(d["state"])][0] == code]
        return self._list(body, docs, "GetOutboxDocuments", outbox=True)

    def op_GetOutboxDocument(self, body: etree._Element, key: str) -> _WithPayload:
        doc = self._outbox_doc(key, _find_text(body, "e:ExternalId"))
        answer = self._answer("GetOutboxDocument")
        details = self._document_element(answer, "Details", doc, outbox=True)
        _sub(details, "Payload", "__PAYLOAD__")
        _sub(answer, "Statuses")
        return _WithPayload(answer, base64.b64decode(doc["payload"]))

    def op_GetOutboxDocumentStatus(self, body: etree._Element, key: str) -> etree._Element:
        doc = self._outbox_doc(key, _find_text(body, "e:ExternalId"))
        answer = self._answer("GetOutboxDocumentStatus")
        code, status_name = OUTBOX_CODES[OutboxState(doc["state"])]
        details = _sub(answer, "Details")
        _sub(details, "Name", status_name)
        _sub(details, "Code", code)
        info = _sub(details, "Info")
        _sub(info, "AccountName", self.data["accounts"][key]["name"])
        _sub(info, "ChangedOn", _iso(doc["modified_at"]))
        return answer

    def op_GetAccountParties(self, body: etree._Element, key: str) -> etree._Element:
        answer = etree.Element(_ns("GetAccountPartiesReponse"), nsmap={None: NS})  # sic, as in the WSDL
        parties = _sub(answer, "Parties")
        for party in self.data["accounts"][key]["parties"]:
            element = _sub(parties, "Party")
            _sub(element, "EConnectPartyId", party["econnect_party_id"])
            _sub(element, "Name", party["name"])
        return answer

    # --- Peppol lookup -------------------------------------------------------------------------------------------
    def delivery_option(self, request: Request, prefix: str | None = None) -> Response:
        network = "test" if prefix else "production"
        party_ids = [value for key, value in request.query if key.lower() == "partyids"]
        wanted_types = {value for key, value in request.query if key.lower() == "documenttypeids" and value}
        family = (request.query_value("documentFamily") or "invoice").lower()
        if not party_ids:
            return Response.json({"code": "API400", "message": "partyIds is required."}, 400)
        options = []
        if family == "invoice":
            for raw in party_ids:
                party_id = _canonical(raw)
                entry = self._directory_entry(network, party_id)
                if entry is None:
                    continue
                for document_type in entry["document_types"]:
                    doctype_id = DOCTYPE_IDS[document_type]
                    if wanted_types and doctype_id not in wanted_types:
                        continue
                    options.append(
                        {
                            "partyId": party_id,
                            "documentTypeId": doctype_id,
                            "processId": PROCESS_ID,
                            "protocol": "as4",
                            "url": ACCESS_POINT_URLS[entry["access_point"]],
                            "certificate": "MIIsimulated",
                        }
                    )
        return Response.json(options)

    # --- control API ---------------------------------------------------------------------------------------------
    def sim_state(self, request: Request) -> Response:
        with self.state.lock:
            accounts = {
                key: {k: v for k, v in account.items() if k != "app_secret"}
                for key, account in self.data["accounts"].items()
            }
            return Response.json({"now": _iso(self.now()), "accounts": accounts, "directory": self.data["directory"]})

    def sim_clock(self, request: Request) -> Response:
        return Response.json({"now": _iso(self.now()), "offset": self.data["clock_offset"]})

    def sim_clock_advance(self, request: Request) -> Response:
        spec = request.control_spec().only("advance")
        seconds = spec.number("advance", 0)
        if seconds < 0:
            raise ControlError("advance: the clock only moves forward")
        if self.data["clock_offset"] + seconds > MAX_CLOCK_OFFSET:
            raise ControlError(f"advance: the clock moves at most {MAX_CLOCK_OFFSET:g} seconds ahead in all")
        with self.state.lock:
            self.data["clock_offset"] += seconds
            self._progress()
            self.state.save()
        return self.sim_clock(request)

    def sim_config(self, request: Request) -> Response:
        spec = request.control_spec().only("token_ttl_seconds")
        ttl = spec.number("token_ttl_seconds", None, minimum=0, maximum=MAX_TOKEN_TTL)
        with self.state.lock:
            if ttl is not None:
                self.data["token_ttl"] = float(ttl)
            self.state.save()
        return Response.json({"token_ttl_seconds": self.data["token_ttl"]})

    def sim_add_account(self, request: Request) -> Response:
        spec = request.control_spec().only("app_key", "app_secret", "network", "parties", "name", "duplicates_visible")
        parties = []
        for party in spec.objects("parties", [], max_items=1000):
            party.only("id", "name", "econnect_party_id")
            parties.append(
                {
                    "id": party.text("id", allow_empty=False, max_length=200),
                    "name": party.text("name", spec.data.get("name", ""), max_length=200),
                    "econnect_party_id": party.text("econnect_party_id", None, nullable=True, max_length=200),
                }
            )
        try:
            account = self.add_account(
                app_key=spec.text("app_key", allow_empty=False, max_length=200),
                app_secret=spec.text("app_secret", max_length=1000),
                network=spec.text("network", "production", choices=NETWORKS),
                parties=[{k: v for k, v in party.items() if v is not None} for party in parties],
                name=spec.text("name", "", max_length=200),
                duplicates_visible=spec.boolean("duplicates_visible", False),
            )
        except ControlError:
            raise
        except ValueError as exc:
            return Response.json({"error": f"invalid account: {exc}"}, 400)
        return Response.json({k: v for k, v in account.items() if k != "app_secret"}, 201)

    def sim_expire_tokens(self, request: Request, app_key: str) -> Response:
        with self.state.lock:
            expired = 0
            for entry in self.data["tokens"].values():
                if entry["app_key"] == app_key and entry["expires_at"] > self.now():
                    entry["expires_at"] = self.now()
                    expired += 1
            self.state.save()
        return Response.json({"expired": expired})

    def sim_register(self, request: Request, network: str, party_id: str) -> Response:
        spec = request.control_spec().only("access_point", "document_types", "behaviour", "name")
        entry = {
            "access_point": spec.text("access_point", "econnect", choices=ACCESS_POINT_URLS),
            "document_types": spec.texts("document_types", None, nullable=True, max_items=10),
            "behaviour": spec.text("behaviour", "deliver", choices=("deliver", "fail", "reject")),
            "name": spec.text("name", "", max_length=200),
        }
        try:
            entry = self.register(network, party_id, **entry)
        except ValueError as exc:
            return Response.json({"error": f"invalid directory entry: {exc}"}, 400)
        return Response.json(entry, 201)

    def sim_unregister(self, request: Request, network: str, party_id: str) -> Response:
        with self.state.lock:
            removed = self.data["directory"].get(network, {}).pop(_canonical(party_id), None)
            self.state.save()
        return Response.json({"removed": removed is not None})

    def sim_inject(self, request: Request) -> Response:
        """``{"receiver": "0106:...", "network": "production", "payload": "<xml>" | "payload_base64": "...",
        "sender_name": "...", "unchecked": false}``"""
        spec = request.control_spec().only(
            "receiver", "network", "payload", "payload_base64", "sender_name", "unchecked"
        )
        network = spec.text("network", "production", choices=NETWORKS)
        receiver = spec.text("receiver", allow_empty=False, max_length=200)
        if spec.has("payload_base64"):
            try:
                encoded = spec.text("payload_base64", max_length=MAX_REQUEST_BYTES, control_characters=True)
                payload = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ControlError(f"payload_base64: {exc}") from None
        else:
            payload = spec.text("payload", "", max_length=MAX_REQUEST_BYTES, control_characters=True).encode()
        sender_name = spec.text("sender_name", "", max_length=200)
        unchecked = spec.boolean("unchecked", False)
        with self.state.lock:
            hosted = self._hosting_account(network, _canonical(receiver))
            if hosted is None:
                return Response.json({"error": "the receiver is not a party hosted in that network"}, 404)
            try:
                doc = self.receive(
                    receiver_key=hosted[0]["app_key"],
                    receiver_party=hosted[1]["id"],
                    payload=payload,
                    sender_name=sender_name,
                    unchecked=unchecked,
                )
            except XmlRejected as exc:
                return Response.json({"error": f"not a readable UBL document: {exc}", "kind": exc.kind}, 400)
        return Response.json(self._inbox_view(doc), 201)

    @staticmethod
    def _inbox_view(doc: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in doc.items() if k != "payload"}
        view["state"] = next(s.value for s, (c, _) in INBOX_CODES.items() if c == doc["status_code"])
        view["created_at"], view["modified_at"] = _iso(doc["created_at"]), _iso(doc["modified_at"])
        return view

    def sim_inbox(self, request: Request) -> Response:
        account = request.query_value("account")
        with self.state.lock:
            docs = [self._inbox_view(d) for d in self.data["inbox"] if account in (None, d["account"])]
        return Response.json({"documents": docs})

    def sim_release(self, request: Request, external_id: str) -> Response:
        """ "Mark as original": a held duplicate is offered to API clients as a new document."""
        with self.state.lock:
            for doc in self.data["inbox"]:
                if doc["external_id"] == external_id:
                    if doc["status_code"] != INBOX_CODES[InboxState.DUPLICATE][0]:
                        return Response.json({"error": "not a duplicate"}, 409)
                    doc["status_code"], doc["released"] = INBOX_CODES[InboxState.NEW][0], True
                    doc["modified_at"] = self.now()
                    self.state.save()
                    return Response.json(self._inbox_view(doc))
        return Response.json({"error": "no such inbox document"}, 404)

    def sim_sent(self, request: Request) -> Response:
        """Every document SendDocument accepted, and how often each invoice (sender, number, date) was accepted."""
        account = request.query_value("account")
        with self.state.lock:
            docs = [d for d in self.data["outbox"] if account in (None, d["account"])]
            counts: dict[str, int] = {}
            views = []
            for doc in docs:
                reference = f"{doc['sender']}|{doc['number']}|{doc['issue_date']}"
                counts[reference] = counts.get(reference, 0) + 1
                view = {k: v for k, v in doc.items() if k not in ("payload", "behaviour")}
                view.update(reference=reference, sent_at=_iso(doc["created_at"]), modified_at=_iso(doc["modified_at"]))
                del view["created_at"]
                views.append(view)
        return Response.json({"documents": views, "counts": counts})

    def sim_calls(self, request: Request) -> Response:
        account = request.query_value("account")
        with self.state.lock:
            calls = [c for c in self.data["calls"] if account in (None, c["account"])]
        counts: dict[str, int] = {}
        for call in calls:
            counts[call["operation"]] = counts.get(call["operation"], 0) + 1
        return Response.json({"calls": calls, "counts": counts})

    def sim_soap_fault(self, request: Request) -> Response:
        """A SOAP fault (HTTP 500) for an operation: ``{"operation", "code", "message", "faultcode", "count",
        "phase"}``; e.g. ``{"operation": "SendDocument", "code": "ERRXSL4000001"}``."""
        spec = request.control_spec().only("operation", "status", "message", "code", "faultcode", "phase", "count")
        try:
            fault = Fault(
                operation=spec.text("operation", allow_empty=False, max_length=500),
                status=spec.number("status", 500, integer=True, minimum=100, maximum=599),
                body=soap_fault_body(
                    spec.text("message", "Simulated fault", max_length=10_000),
                    spec.text("code", "", max_length=100),
                    faultcode=spec.text("faultcode", "soap:Server", allow_empty=False, max_length=100),
                ).decode(),
                headers={"Content-Type": "text/xml; charset=utf-8"},
                phase=spec.text("phase", "before", choices=("before", "after")),
                count=spec.number("count", 1, integer=True, minimum=1, nullable=True),
            )
        except ControlError:
            raise
        except ValueError as exc:  # e.g. text lxml cannot put into XML
            return Response.json({"error": f"invalid fault: {exc}"}, 400)
        self.faults.add(fault)
        return Response.json({"added": fault.as_dict()}, 201)

    def sim_outbox_state(self, request: Request, external_id: str) -> Response:
        """``{"state": "delivered|failed|rejected|accepted|in_progress"}``: the outbox document's status changes now
        (a final state stays; a state before final is overtaken by the lifecycle as usual)."""
        spec = request.control_spec().only("state")
        state = OutboxState(spec.text("state", choices=[s.value for s in OUTBOX_CODES]))
        with self.state.lock:
            for doc in self.data["outbox"]:
                if doc["external_id"] == external_id:
                    self._set_outbox_state(doc, state, self.now())
                    self.state.save()
                    view = {k: v for k, v in doc.items() if k not in ("payload", "behaviour")}
                    return Response.json(view)
        return Response.json({"error": "no such outbox document"}, 404)

    def sim_inbox_status(self, request: Request, external_id: str) -> Response:
        """``{"state": "new|read|processed|approved|rejected|duplicate"}``: set an inbox document's status directly,
        as a person would in eConnect's platform."""
        spec = request.control_spec().only("state")
        state = InboxState(spec.text("state", choices=[s.value for s in INBOX_CODES]))
        with self.state.lock:
            for doc in self.data["inbox"]:
                if doc["external_id"] == external_id:
                    doc["status_code"], doc["modified_at"] = INBOX_CODES[state][0], self.now()
                    self.state.save()
                    return Response.json(self._inbox_view(doc))
        return Response.json({"error": "no such inbox document"}, 404)


class _WithPayload:
    """An answer whose Payload placeholder is replaced by the stored document's bytes."""

    def __init__(self, answer: etree._Element, payload: bytes):
        self.answer, self.payload = answer, payload
