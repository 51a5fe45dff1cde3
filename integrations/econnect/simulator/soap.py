"""The eConnect simulator's SOAP API v3.1, as documented in the WSDL and eConnect's notes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from lxml import etree

from integrations.econnect.simulator import statuses
from integrations.econnect.simulator.common import (
    DOCUMENT_NOT_FOUND,
    INVALID_KEY_OR_TOKEN,
    INVOICE_TEMPLATE_ID,
    NAMESPACE_MISMATCH,
    NO_PERMISSION_FOR_VIA,
    NS,
    PAGE_TOKEN,
    RECEIVER_UNREACHABLE,
    SOAP_ENV,
    STATUS_NOT_ALLOWED,
    TEMPLATE_ERROR,
    TOKEN_EXPIRED,
    XML_INVALID,
    SoapFault,
    canonical_party,
    find_text,
    iso_time,
    parse_iso_time,
    qualified,
    soap_fault_body,
    sub_element,
)
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected, parse_untrusted_xml
from integrations.simulators.app import Request, Response


class SoapOperations:
    """The platform SOAP API v3.1: the envelope, authentication and one ``op_<Operation>`` per operation; part of
    ``EConnectSimulator``."""

    # --- SOAP ----------------------------------------------------------------------------------------------------
    def soap(self, request: Request) -> Response:
        if "chunked" in request.headers.get("transfer-encoding", "").lower():
            return Response.text("Chunked transfer encoding is not supported.", 411)  # [GUESS G-EC-11] status
        refused = self._subscription_refused(request)
        if refused is not None:
            return refused
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
                self.data["calls"].append({"operation": operation, "account": account, "at": iso_time(self.now())})
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

    def _subscription_refused(self, request: Request) -> Response | None:
        """The endpoint sits behind eConnect's API gateway: without a known ``?subscriptionKey=`` nothing reaches
        the SOAP service [GUESS G-EC-12: the answer's shape is that of an API-management gateway, 401 with a JSON body]."""
        key = request.query_value("subscriptionKey") or ""
        known = self.data.get("subscription_keys") or []
        if not key or (known and not any(secrets.compare_digest(key, k) for k in known)):
            reason = "missing" if not key else "invalid"
            return Response.json(
                {
                    "statusCode": 401,
                    "message": f"Access denied due to {reason} subscription key. Make sure to include subscription "
                    "key when making requests to an API.",
                },
                401,
            )
        return None

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
        token = find_text(root, f"{{{SOAP_ENV}}}Header/e:Authentication/e:SecurityToken")
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
        return etree.Element(qualified(f"{operation}Response"), nsmap={None: NS})

    def op_Login(self, body: etree._Element, account: None) -> etree._Element:
        key, secret = find_text(body, "e:ConsumerKey"), find_text(body, "e:ConsumerSecret")
        found = self.data["accounts"].get(key)
        if found is None or not secrets.compare_digest(found["app_secret"], secret):
            raise SoapFault("Invalid consumer key or security token", INVALID_KEY_OR_TOKEN)
        token = base64.b64encode(secrets.token_bytes(96)).decode()  # opaque, ~128 characters
        self.data["tokens"][token] = {"app_key": key, "expires_at": self.now() + self.data["token_ttl"]}
        answer = self._answer("Login")
        sub_element(answer, "SecurityToken", token)
        return answer

    def op_SendDocument(self, body: etree._Element, key: str) -> etree._Element:
        account = self.data["accounts"][key]
        network = account["network"]
        via = canonical_party(find_text(body, "e:Via/e:ReferenceId"))
        own = self._hosting_account(network, via)
        if own is None or own[0]["app_key"] != key:
            raise SoapFault(
                "You do not have permission to send document via the specified group", NO_PERMISSION_FOR_VIA
            )
        sender = own[1]["id"]
        template_id = find_text(body, "e:TemplateId")
        if template_id not in self._templates():
            raise SoapFault("Unknown template", TEMPLATE_ERROR)  # [GUESS G-EC-13] code for an unknown template
        payload_element = body.find(qualified("Payload"))
        documents = [c for c in payload_element if isinstance(c.tag, str)] if payload_element is not None else []
        if len(documents) != 1:
            raise SoapFault("XML not valid: the Payload must hold one document", XML_INVALID)
        payload = etree.tostring(documents[0], encoding="utf-8")
        try:
            summary = parse_document(payload)
        except XmlRejected as exc:
            raise SoapFault(f"There was an error transforming the document: {exc}", TEMPLATE_ERROR) from exc
        supplier = summary.supplier.endpoint_id if summary.supplier else None
        if supplier is None or canonical_party(str(supplier)) != sender or not summary.number:
            raise SoapFault(
                "There was an error transforming the document: the supplier's EndpointID is not the sender",
                TEMPLATE_ERROR,
            )
        recipient = canonical_party(find_text(body, "e:To/e:ReferenceId"))
        email = find_text(body, "e:To/e:EmailAddress")
        entry = self._directory_entry(network, recipient)
        hosted = self._hosting_account(network, recipient) or self.psb_client_hosting(network, recipient)
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
            "external_id": self._next_id("XCNUT"),  # [GUESS G-EC-14] prefix; inbox ids look like XCNIN97968
            "account": key,
            "sender": sender,
            "recipient": recipient,
            "number": summary.number,
            "issue_date": summary.issue_date.isoformat() if summary.issue_date else "",
            "subject": f"Factuur {summary.number}",
            "template_id": template_id,  # "Subject will be overwritten ... to {template} {invoiceid}"
            "payload": base64.b64encode(payload).decode(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "delivery_method": method,
            "behaviour": behaviour,
            "state": "accepted",
            "created_at": now,
            "modified_at": now,
            "history": [{"state": "accepted", "at": iso_time(now)}],
        }
        self.data["outbox"].append(doc)
        answer = self._answer("SendDocument")
        sub_element(answer, "ExternalId", doc["external_id"])
        return answer

    def _party_element(self, parent: etree._Element, name: str, party_id: str, party_name: str) -> None:
        party = sub_element(parent, name)
        sub_element(party, "EConnectPartyId", party_id)
        sub_element(party, "Name", party_name)

    def _document_element(
        self, parent: etree._Element, name: str, doc: dict[str, Any], *, outbox: bool
    ) -> etree._Element:
        account = self.data["accounts"][doc["account"]]
        element = sub_element(parent, name)
        sub_element(element, "ExternalId", doc["external_id"])
        sub_element(element, "Subject", doc["subject"])
        sub_element(element, "CreatedOn", iso_time(doc["created_at"]))
        sub_element(element, "ModifiedOn", iso_time(doc["modified_at"]))
        if outbox:
            own = self._hosting_account(account["network"], doc["sender"])
            self._party_element(
                element, "Sender", own[1]["econnect_party_id"] if own else doc["sender"], account["name"]
            )
            self._party_element(element, "Reciever", doc["recipient"], "")
            code, status_name = self._outbox_status(doc)
        else:
            own = self._hosting_account(account["network"], doc["receiver"])
            self._party_element(element, "Sender", doc["sender_party_id"], doc["sender_name"])
            self._party_element(
                element, "Reciever", own[1]["econnect_party_id"] if own else doc["receiver"], account["name"]
            )
            code = doc["status_code"]
            status_name = statuses.inbox_name(self._inbox_template(doc["account"]), code)
        status = sub_element(element, "Status")
        sub_element(status, "Name", status_name)
        sub_element(status, "Code", code)
        if name == "Details":
            info = sub_element(status, "Info")
            sub_element(info, "AccountName", account["name"])
            sub_element(info, "ChangedOn", iso_time(doc["modified_at"]))
        template = sub_element(element, "Template")
        sub_element(template, "MasterId", doc.get("template_id") or INVOICE_TEMPLATE_ID)
        sub_element(template, "MasterName", "Factuur")
        transaction = sub_element(element, "Transaction")
        sub_element(transaction, "DeliveryMethod", doc.get("delivery_method", "ToInbox"))
        return element

    def _list(
        self, body: etree._Element, docs: list[dict[str, Any]], operation: str, *, outbox: bool
    ) -> etree._Element:
        try:
            limit = max(1, min(int(find_text(body, "e:Paging/e:Limit") or "10"), 100))
        except ValueError as exc:
            raise SoapFault("XML not valid: Paging/Limit", XML_INVALID) from exc
        start = PAGE_TOKEN.fullmatch(find_text(body, "e:Paging/e:StartPage") or "p0")
        offset = int(start.group(1)) if start else 0
        created_from = parse_iso_time(find_text(body, "e:Search/e:CreatedOn/e:From"))
        if created_from is not None:
            docs = [d for d in docs if d["created_at"] >= created_from]
        subject = find_text(body, "e:Search/e:Subject")
        if subject:
            docs = [d for d in docs if subject.lower() in d["subject"].lower()]  # [GUESS G-EC-15] "contains" match
        # [GUESS G-EC-17] the page token is an offset into what matches at the time of the call: a document whose
        # status changed since the previous page moves the rest up.
        page = docs[offset : offset + limit]
        answer = self._answer(operation)
        results = sub_element(answer, "Results")
        for doc in page:
            self._document_element(results, "Document", doc, outbox=outbox)
        more = offset + limit < len(docs)
        sub_element(sub_element(answer, "PagingResponse"), "NextPage", f"p{offset + limit}" if more else "")
        return answer

    def _templates(self) -> tuple[str, ...]:
        """The invoice template, and a credit-note template when one is configured (none is published)."""
        extra = self.data.get("credit_note_template_id")
        return (INVOICE_TEMPLATE_ID, extra) if extra else (INVOICE_TEMPLATE_ID,)

    def _inbox_template(self, key: str) -> str:
        return self.data["accounts"][key].get("inbox_template") or statuses.DEFAULT_INBOX_TEMPLATE

    @staticmethod
    def _outbox_status(doc: dict[str, Any]) -> tuple[str, str]:
        raw = doc.get("raw_status")  # set through the control API: a status eConnect may add one day
        return (raw["code"], raw["name"]) if raw else statuses.OUTBOX[doc["state"]]

    def op_GetInboxDocuments(self, body: etree._Element, key: str) -> etree._Element:
        account = self.data["accounts"][key]
        docs = [d for d in self.data["inbox"] if d["account"] == key]
        # "Neither id: the caller's own inbox; both: GroupId wins" (getInboxDocuments). A group the keys cannot see
        # is refused [GUESS G-EC-16: code and wording].
        party = find_text(body, "e:GroupId") or find_text(body, "e:EConnectPartyId")
        if party:
            hosted = self._hosting_account(account["network"], party) or self._hosting_account(
                account["network"], canonical_party(party)
            )
            if hosted is None or hosted[0]["app_key"] != key:
                raise SoapFault("You do not have permission for the specified group", NO_PERMISSION_FOR_VIA)
            docs = [d for d in docs if d["receiver"] == hosted[1]["id"]]
        master_id = find_text(body, "e:Search/e:Template/e:MasterId")
        if master_id:
            docs = [d for d in docs if (d.get("template_id") or INVOICE_TEMPLATE_ID) == master_id]
        duplicate = statuses.DUPLICATE[1]
        if not account["duplicates_visible"]:
            docs = [d for d in docs if d["status_code"] != duplicate]  # held back until released
        code = find_text(body, "e:Search/e:Status/e:Code")
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
                hidden = doc["status_code"] == statuses.DUPLICATE[1] and not account["duplicates_visible"]
                if not hidden:
                    return doc
        raise SoapFault(f"Document {external_id} not found", DOCUMENT_NOT_FOUND)

    def op_GetInboxDocument(self, body: etree._Element, key: str) -> _WithPayload:
        doc = self._inbox_doc(key, find_text(body, "e:ExternalId"))
        answer = self._answer("GetInboxDocument")
        details = self._document_element(answer, "Details", doc, outbox=False)
        sub_element(details, "Payload", "__PAYLOAD__")
        allowed = sub_element(answer, "Statuses")
        for _, code, status_name in statuses.allowed_inbox_statuses(self._inbox_template(key)):
            status = sub_element(allowed, "Status")
            sub_element(status, "Name", status_name)
            sub_element(status, "Code", code)
        return _WithPayload(answer, base64.b64decode(doc["payload"]))

    def op_SetInboxDocumentStatus(self, body: etree._Element, key: str) -> etree._Element:
        doc = self._inbox_doc(key, find_text(body, "e:ExternalId"))
        code = find_text(body, "e:StatusCode")
        allowed = {c for _, c, _ in statuses.allowed_inbox_statuses(self._inbox_template(key))}
        if code not in allowed:
            raise SoapFault(f"Status {code!r} is not allowed for this document", STATUS_NOT_ALLOWED)
        doc["status_code"], doc["modified_at"] = code, self.now()
        answer = self._answer("SetInboxDocumentStatus")
        sub_element(answer, "ExternalId", doc["external_id"])
        return answer

    def _outbox_doc(self, key: str, external_id: str) -> dict[str, Any]:
        for doc in self.data["outbox"]:
            if doc["account"] == key and doc["external_id"] == external_id:
                return doc
        raise SoapFault(f"Document {external_id} not found", DOCUMENT_NOT_FOUND)

    def op_GetOutboxDocuments(self, body: etree._Element, key: str) -> etree._Element:
        docs = [d for d in self.data["outbox"] if d["account"] == key]
        code = find_text(body, "e:Search/e:Status/e:Code")
        if code:
            docs = [d for d in docs if self._outbox_status(d)[0] == code]
        return self._list(body, docs, "GetOutboxDocuments", outbox=True)

    def op_GetOutboxDocument(self, body: etree._Element, key: str) -> _WithPayload:
        doc = self._outbox_doc(key, find_text(body, "e:ExternalId"))
        answer = self._answer("GetOutboxDocument")
        details = self._document_element(answer, "Details", doc, outbox=True)
        sub_element(details, "Payload", "__PAYLOAD__")
        sub_element(answer, "Statuses")
        return _WithPayload(answer, base64.b64decode(doc["payload"]))

    def op_GetOutboxDocumentStatus(self, body: etree._Element, key: str) -> etree._Element:
        doc = self._outbox_doc(key, find_text(body, "e:ExternalId"))
        answer = self._answer("GetOutboxDocumentStatus")
        code, status_name = self._outbox_status(doc)
        details = sub_element(answer, "Details")
        sub_element(details, "Name", status_name)
        sub_element(details, "Code", code)
        info = sub_element(details, "Info")
        sub_element(info, "AccountName", self.data["accounts"][key]["name"])
        sub_element(info, "ChangedOn", iso_time(doc["modified_at"]))
        return answer

    def op_GetAccountParties(self, body: etree._Element, key: str) -> etree._Element:
        answer = etree.Element(qualified("GetAccountPartiesReponse"), nsmap={None: NS})  # sic, as in the WSDL
        parties = sub_element(answer, "Parties")
        for party in self.data["accounts"][key]["parties"]:
            element = sub_element(parties, "Party")
            sub_element(element, "EConnectPartyId", party["econnect_party_id"])
            sub_element(element, "Name", party["name"])
        return answer


class _WithPayload:
    """An answer whose Payload placeholder is replaced by the stored document's bytes."""

    def __init__(self, answer: etree._Element, payload: bytes):
        self.answer, self.payload = answer, payload
