"""eConnect's PSB REST API v1 inside the eConnect simulator: OAuth2 (discovery and token endpoint), send with
idempotency by ``X-EConnect-DocumentId`` (a repeat is 409), recipient query against the simulator's directory,
status history, download and delete of received documents, Invoice Responses, hooks, and signed webhook deliveries
with retries. Part of ``EConnectSimulator``: the same directory and clock as the SOAP API.

Written from ``/work/shared/specs/econnect/psb/contract.md`` (the simulator's own reading, never the client's code).
Strict where eConnect is documented: scope must grant ``ap``; the client id and secret are accepted as form fields
or HTTP Basic; a token is refused after its ``expires_in``; a party the credentials may not act for is 403 API403;
a body over 24 MB is HTTP 500 ``Server Error`` (not 413); a document id shorter than 6 or with ``@``/``_`` is 400.
Each guess carries its G-PSB id and is listed in docs/vendor-contracts.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote

from integrations.econnect.simulator.common import DOCTYPE_IDS, canonical_party, iso_time
from integrations.econnect.simulator.psb_hooks import PsbHooks, econnect_notation, error
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected
from integrations.simulators.app import Request, Response

MAX_SEND_BYTES = 24 * 1000 * 1000
DOCUMENT_ID = re.compile(r"[A-Za-z0-9-]{6,64}")
DEFAULT_TOKEN_TTL = 3600
# [GUESS G-PSB-3] how long a PSB send takes to be delivered (the SOAP side's timings).
PSB_DELIVERED_AFTER = 60.0
PARTY_PATH = r"/api/v1/(?P<party>[^/]+)"


def psb_initial() -> dict[str, Any]:
    return {
        "token_ttl": DEFAULT_TOKEN_TTL,
        "clients": {},
        "tokens": {},
        "sent": {},
        "received": {},
        "responses": {},
        "hooks": {},
        "deliveries": [],
    }


class PsbApi(PsbHooks):
    """The PSB routes; ``EConnectSimulator`` calls ``add_psb_routes`` from its ``__init__``."""

    def add_psb_routes(self) -> None:
        self.route("GET", r"/\.well-known/openid-configuration", self.psb_discovery, operation="psb.discovery")
        self.route("POST", r"/connect/token", self.psb_token, operation="psb.token")
        self.route("GET", r"/api/v1/me", self.psb_me, operation="psb.me")
        self.route("GET", r"/api/v1/me/party", self.psb_me_party, operation="psb.me.party")
        self.route("POST", PARTY_PATH + r"/salesInvoice/send", self.psb_send, operation="psb.send")
        self.route(
            "POST", PARTY_PATH + r"/salesInvoice/queryRecipientParty", self.psb_query_recipient, operation="psb.query"
        )
        self.route(
            "GET", PARTY_PATH + r"/salesInvoice/(?P<doc>[^/]+)/status", self.psb_sent_status, operation="psb.status"
        )
        self.route(
            "GET", PARTY_PATH + r"/purchaseInvoice/(?P<doc>[^/]+)/download", self.psb_download, operation="psb.download"
        )
        self.route("DELETE", PARTY_PATH + r"/purchaseInvoice/(?P<doc>[^/]+)", self.psb_delete, operation="psb.delete")
        self.route(
            "POST",
            PARTY_PATH + r"/purchaseInvoice/(?P<doc>[^/]+)/response",
            self.psb_response,
            operation="psb.response",
        )
        self.route("GET", PARTY_PATH + r"/hook/ping", self.psb_hook_ping, operation="psb.hook.ping")
        self.route("GET", PARTY_PATH + r"/hook", self.psb_hooks, operation="psb.hook.list")
        self.route("PUT", PARTY_PATH + r"/hook", self.psb_hook_put, operation="psb.hook.put")
        self.route("POST", PARTY_PATH + r"/hook", self.psb_hook_put, operation="psb.hook.put")  # the newer docs
        self.route("DELETE", PARTY_PATH + r"/hook/(?P<hook>[^/]+)", self.psb_hook_delete, operation="psb.hook.delete")
        self.route("POST", r"/_sim/psb/clients", self.sim_psb_add_client)
        self.route("POST", r"/_sim/psb/inbox", self.sim_psb_inject)
        self.route("POST", r"/_sim/psb/webhooks/deliver", self.sim_psb_deliver)
        self.route("POST", r"/_sim/psb/webhooks/hold", self.sim_psb_hold_webhooks)
        self.route("GET", r"/_sim/psb/webhooks", self.sim_psb_deliveries)
        self.route("POST", r"/_sim/psb/expire-tokens", self.sim_psb_expire_tokens)
        self.route("GET", r"/_sim/psb/sent", self.sim_psb_sent)
        self.route("GET", r"/_sim/psb/responses", self.sim_psb_responses)

    @property
    def psb(self) -> dict[str, Any]:
        return self.data.setdefault("psb", psb_initial())

    # --- OAuth2 ------------------------------------------------------------------------------------------------

    def psb_discovery(self, request: Request) -> Response:
        base = f"http://{request.headers.get('host', 'localhost')}"
        return Response.json({"issuer": base, "token_endpoint": f"{base}/connect/token", "scopes_supported": ["ap"]})

    def psb_token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                pair = base64.b64decode(basic[6:].strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return Response.json({"error": "invalid_client"}, 400)
            user, _, password = pair.partition(":")
            client_id, client_secret = unquote(user.replace("+", " ")), unquote(password.replace("+", " "))
        client = self.psb["clients"].get(client_id)
        if client is None or not hmac.compare_digest(client["secret"], client_secret):
            return Response.json({"error": "invalid_client"}, 400)  # [GUESS G-PSB-5] the standard OAuth2 answer
        if "ap" not in form.get("scope", "").split():
            return Response.json({"error": "invalid_scope"}, 400)
        grant = form.get("grant_type", "")
        subject = client_id
        if grant == "password":
            if client["users"].get(form.get("username", "")) != form.get("password") or not form.get("username"):
                return Response.json({"error": "invalid_grant"}, 400)
            subject = form["username"]
        elif grant != "client_credentials":
            return Response.json({"error": "unsupported_grant_type"}, 400)
        token = secrets.token_urlsafe(24)
        ttl = int(self.psb["token_ttl"])
        self.psb["tokens"][token] = {"client_id": client_id, "subject": subject, "expires_at": self.now() + ttl}
        self.state.save()
        return Response.json({"access_token": token, "expires_in": ttl, "token_type": "Bearer"})

    def _caller(self, request: Request) -> dict[str, Any] | Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        known = self.psb["tokens"].get(token)
        if known is None or known["expires_at"] <= self.now():
            return Response(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return {**self.psb["clients"][known["client_id"]], "client_id": known["client_id"], "subject": known["subject"]}

    def _acting_for(self, request: Request, party: str) -> tuple[dict[str, Any], str] | Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        wanted = canonical_party(party)
        if wanted not in caller["parties"]:
            return error(
                403,
                "API403",
                "Access forbidden. Please check PartyId authorization and make sure the Subscription-Key is valid.",
            )
        return caller, wanted

    # --- me ----------------------------------------------------------------------------------------------------

    def psb_me(self, request: Request) -> Response:
        caller = self._caller(request)
        return caller if isinstance(caller, Response) else Response.json({"name": caller["subject"]})

    def psb_me_party(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        permissions = {
            "canSendDocument": True,
            "canReceiveDocument": True,
            "canRemoveDocument": True,
            "canManageHook": True,
            "canChangeDocumentStatus": True,
        }
        return Response.json(
            [{"id": party, "name": caller.get("name", ""), "permissions": permissions} for party in caller["parties"]]
        )

    # --- sending -----------------------------------------------------------------------------------------------

    def psb_send(self, request: Request, party: str) -> Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        caller, sender = acting
        if len(request.body) > MAX_SEND_BYTES:
            return Response.text("Server Error", 500)  # the web server's answer above 24 MB (contract.md section 7)
        document_id = request.headers.get("x-econnect-documentid", "").strip() or str(uuid.uuid4())
        if not DOCUMENT_ID.fullmatch(document_id):
            return error(400, "API400", f"Invalid document id '{document_id[:80]}'.")
        if document_id in self.psb["sent"]:
            self.psb["repeats"] = self.psb.get("repeats", 0) + 1
            self.state.save()
            return error(409, "API409", f"Document with id '{document_id}' is already processed.")
        payload = _uploaded_file(request)
        if payload is None:
            return error(400, "API400", "No file in the request (multipart part 'file' or an XML body).")
        try:
            summary = parse_document(payload)
        except XmlRejected as exc:
            return error(400, "API400", f"The document is not valid XML: {exc}.")
        declared = summary.supplier.endpoint_id if summary.supplier else None
        if declared is None or canonical_party(f"{declared.scheme}:{declared.value}") != sender:
            return error(400, "API400.USRMS1", "The sender in the document does not match the party.")
        receiver_query = request.query_value("receiverId")
        customer = summary.customer.endpoint_id if summary.customer else None
        if receiver_query and customer and canonical_party(receiver_query) != canonical_party(str(customer)):
            return error(400, "API400.USRMS1", "The recipient in the document does not match the receiverId.")
        receiver = (
            canonical_party(receiver_query)
            if receiver_query
            else (canonical_party(f"{customer.scheme}:{customer.value}") if customer else "")
        )
        now = self.now()
        self.psb["sent"][document_id] = {
            "document_id": document_id,
            "client_id": caller["client_id"],
            "sender": sender,
            "receiver": receiver,
            "number": summary.number,
            "payload": base64.b64encode(payload).decode(),
            "reachable": self._psb_reachable(caller, receiver),
            "created_at": now,
            "history": [{"name": "Pending", "description": "Submitted", "at": now}],
            "final": False,
        }
        self.state.save()
        return Response.json({"id": document_id})

    def _psb_reachable(self, caller: dict[str, Any], receiver: str) -> bool:
        entry = self._directory_entry(caller.get("network", "production"), receiver) if receiver else None
        return entry is not None and entry["behaviour"] == "deliver"

    def psb_client_hosting(self, network: str, party_id: str) -> dict[str, Any] | None:
        """The PSB client that receives for ``party_id`` in ``network``, if any (one world with the SOAP accounts)."""
        wanted = canonical_party(party_id)
        for client in self.psb["clients"].values():
            if client["network"] == network and wanted in client["parties"]:
                return client
        return None

    def deliver_within_econnect(
        self, network: str, sender: str, receiver: str, payload: bytes, *, sent_document_id: str = ""
    ) -> None:
        """[GUESS G-PSB-8] A delivered document whose receiver eConnect itself hosts lands in that receiver's inbox:
        over PSB (and announced by webhook) or in a SOAP account's inbox. A receiver registered at another access
        point gets nothing here."""
        entry = self.data["directory"][network].get(receiver)
        if entry is not None and entry["access_point"] != "econnect":
            return
        if self.psb_client_hosting(network, receiver):
            self.psb_receive(receiver, payload, origin={"party": sender, "document_id": sent_document_id})
            return
        hosted = self._hosting_account(network, receiver)
        if hosted is not None:
            sender_account = self._hosting_account(network, sender)
            self.receive(
                receiver_key=hosted[0]["app_key"],
                receiver_party=hosted[1]["id"],
                payload=payload,
                sender_party_id=sender_account[1]["econnect_party_id"] if sender_account else sender,
                sender_name=sender_account[1]["name"] if sender_account else "",
            )

    def psb_query_recipient(self, request: Request, party: str) -> Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        caller, _sender = acting
        try:
            candidates = request.json()
        except ValueError:
            return error(400, "API400", "The body must be a JSON array of party ids.")
        if not isinstance(candidates, list) or not all(isinstance(c, str) for c in candidates) or len(candidates) > 50:
            return error(400, "API400", "The body must be a JSON array of party ids.")
        preferred = request.query_value("preferredDocumentTypeId") or ""
        wanted_type = next((kind for kind, doctype in DOCTYPE_IDS.items() if doctype == preferred), None)
        network = caller.get("network", "production")
        for candidate in candidates:
            found = canonical_party(candidate)
            entry = self._directory_entry(network, found) if self._psb_reachable(caller, found) else None
            if entry is not None and (wanted_type is None or wanted_type in entry["document_types"]):
                return Response.json({"id": econnect_notation(found), "channel": "peppol", "description": ""})
        return error(404, "API404", f"PartyId '{candidates[0] if candidates else ''}' not found in Peppol.")

    def psb_sent_status(self, request: Request, party: str, doc: str) -> Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        sent = self.psb["sent"].get(doc)
        if sent is None or sent["sender"] != acting[1]:
            return error(404, "API404", f"Document '{doc}' not found.")
        return Response.json(
            [
                {"id": str(i + 1), "name": h["name"], "description": h["description"], "createdOn": iso_time(h["at"])}
                for i, h in enumerate(sent["history"])
            ]
        )

    def psb_progress(self) -> None:
        """Sent documents move on with the clock: Delivered (or Failed when nobody is reachable) after a minute, with
        their webhook events queued."""
        now, changed = self.now(), False
        for sent in self.psb["sent"].values():
            if sent["final"] or now - sent["created_at"] < PSB_DELIVERED_AFTER:
                continue
            changed = True
            at = sent["created_at"] + PSB_DELIVERED_AFTER
            if sent["reachable"]:
                sent["history"].append({"name": "Delivered", "description": "InvoiceSent", "at": at})
                topic, message = "InvoiceSent", "'Invoice' successfully sent."
                network = self.psb["clients"].get(sent["client_id"], {}).get("network", "production")
                self.deliver_within_econnect(
                    network,
                    sent["sender"],
                    sent["receiver"],
                    base64.b64decode(sent["payload"]),
                    sent_document_id=sent["document_id"],
                )
            else:
                sent["history"].append({"name": "Failed", "description": "InvoiceSentError", "at": at})
                topic, message = "InvoiceSentError", f"Recipient '{sent['receiver']}' not found in Peppol."
            sent["final"] = True
            self.psb_queue_event(
                sent["sender"],
                topic,
                sent["document_id"],
                message,
                {"sender": sent["sender"], "recipient": sent["receiver"], "id": sent["number"] or ""},
            )
        if changed:
            self.state.save()

    # --- receiving ---------------------------------------------------------------------------------------------

    def psb_receive(self, party: str, payload: bytes, *, origin: dict[str, str] | None = None) -> str:
        """A document arrives for a PSB party: stored, and ``InvoiceReceived`` queued for its hooks. ``origin``: the
        PSB sender and its document id, when the sender is eConnect's own (its Invoice Responses go back there)."""
        document_id = str(uuid.uuid4())
        summary = parse_document(payload)
        sender = summary.supplier.endpoint_id if summary.supplier else None
        self.psb["received"][document_id] = {
            "document_id": document_id,
            "party": canonical_party(party),
            "payload": base64.b64encode(payload).decode(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "created_at": self.now(),
            "downloaded_at": None,
            "deleted": False,
            "responses": [],
            "origin": origin or {},
        }
        self.psb_queue_event(
            canonical_party(party),
            "InvoiceReceived",
            document_id,
            "'Invoice' received.",
            {"sender": str(sender) if sender else "", "recipient": canonical_party(party), "id": summary.number or ""},
        )
        self.state.save()
        return document_id

    def _received(self, request: Request, party: str, doc: str) -> tuple[dict[str, Any], dict[str, Any]] | Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        received = self.psb["received"].get(doc)
        if received is None or received["party"] != acting[1] or received["deleted"]:
            return error(404, "API404", f"Document '{doc}' not found.")
        return acting[0], received

    def psb_download(self, request: Request, party: str, doc: str) -> Response:
        found = self._received(request, party, doc)
        if isinstance(found, Response):
            return found
        received = found[1]
        received["downloaded_at"] = received["downloaded_at"] or self.now()
        self.state.save()
        return Response(200, base64.b64decode(received["payload"]), {"Content-Type": "application/xml"})

    def psb_delete(self, request: Request, party: str, doc: str) -> Response:
        found = self._received(request, party, doc)
        if isinstance(found, Response):
            return found
        found[1]["deleted"] = True
        self.state.save()
        return Response(200, b"")

    def psb_response(self, request: Request, party: str, doc: str) -> Response:
        found = self._received(request, party, doc)
        if isinstance(found, Response):
            return found
        response_id = request.headers.get("x-econnect-documentid", "").strip() or str(uuid.uuid4())
        if not DOCUMENT_ID.fullmatch(response_id):
            return error(400, "API400", f"Invalid document id '{response_id[:80]}'.")
        if response_id in self.psb["responses"]:
            return error(409, "API409", f"Document with id '{response_id}' is already processed.")
        try:
            body = request.json()
        except ValueError:
            return error(400, "API400", "The body must be an InvoiceResponse JSON object.")
        problem = _invoice_response_problem(body)
        if problem:
            return error(400, "API400", problem)
        self.psb["responses"][response_id] = {"document_id": doc, "body": body, "at": self.now()}
        found[1]["responses"].append(response_id)
        self._response_to_sender(found[1].get("origin") or {}, body)
        self.state.save()
        return Response.json({"id": response_id})

    def _response_to_sender(self, origin: dict[str, str], body: dict[str, Any]) -> None:
        """The sender hears of the response by ``InvoiceResponseReceived`` on the document it sent.
        the event's details carry the status and the first reason."""
        if not origin.get("document_id"):
            return
        reasons = body.get("reasons") if isinstance(body.get("reasons"), dict) else {}
        code, text = next(iter(reasons.items()), ("", ""))
        details = {"status": str(body["status"]), "reason": str(code), "reasonText": str(text)[:500]}
        message = f"Invoice response '{body['status']}' received." + (f" {text}" if text else "")
        self.psb_queue_event(origin["party"], "InvoiceResponseReceived", origin["document_id"], message, details)

    # --- control -----------------------------------------------------------------------------------------------

    def sim_psb_add_client(self, request: Request) -> Response:
        spec = request.control_spec()
        client_id = spec.text("client_id", allow_empty=False)
        self.add_psb_client(
            client_id=client_id,
            client_secret=spec.text("client_secret", allow_empty=False),
            parties=spec.texts("parties"),
            name=spec.text("name", default=client_id),
            network=spec.text("network", default="production", choices=("production", "test")),
            users=spec.object("users", default={}),
        )
        return Response.json({"client_id": client_id}, 201)

    def add_psb_client(
        self,
        *,
        client_id: str,
        client_secret: str,
        parties: list[str],
        name: str = "",
        network: str = "production",
        users: dict[str, str] | None = None,
    ) -> None:
        """PSB credentials (client id and secret, optionally PSB users for the password grant) for ``parties``."""
        with self.state.lock:
            self.psb["clients"][client_id] = {
                "secret": client_secret,
                "name": name or client_id,
                "network": network,
                "parties": [canonical_party(p) for p in parties],
                "users": {str(k): str(v) for k, v in (users or {}).items()},
            }
            self.state.save()

    def sim_psb_inject(self, request: Request) -> Response:
        spec = request.control_spec()
        try:
            payload = base64.b64decode(spec.text("payload_base64"), validate=True)
        except ValueError:
            return Response.json({"error": "payload_base64: not base64"}, 400)
        return Response.json({"document_id": self.psb_receive(spec.text("party"), payload)}, 201)

    def sim_psb_deliver(self, request: Request) -> Response:
        return Response.json({"deliveries": self.psb_deliver_due()})

    def sim_psb_hold_webhooks(self, request: Request) -> Response:
        """``{"held": true}``: webhooks are queued but not posted until ``{"held": false}`` (a benchmark lets a
        backlog build up, then lets eConnect deliver it)."""
        held = request.control_spec().only("held").boolean("held")
        with self.state.lock:
            self.psb["webhooks_held"] = held
            self.state.save()
        return Response.json({"held": held})

    def sim_psb_deliveries(self, request: Request) -> Response:
        return Response.json({"deliveries": self.psb["deliveries"]})

    def sim_psb_expire_tokens(self, request: Request) -> Response:
        for token in self.psb["tokens"].values():
            token["expires_at"] = 0.0
        self.state.save()
        return Response.json({"expired": len(self.psb["tokens"])})

    def sim_psb_responses(self, request: Request) -> Response:
        """The Invoice Responses eConnect took (AB, RE, UQ …), by the received document they answer."""
        return Response.json({"responses": _sim_responses(self.psb["responses"])})

    def sim_psb_sent(self, request: Request) -> Response:
        return Response.json(
            {
                "sent": [{k: v for k, v in s.items() if k != "payload"} for s in self.psb["sent"].values()],
                "repeats": self.psb.get("repeats", 0),  # sends answered 409 "already processed"
            }
        )


def _sim_responses(responses: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"response_id": response_id, "document_id": r["document_id"], "status": r["body"].get("status", "")}
        for response_id, r in responses.items()
    ]


def _uploaded_file(request: Request) -> bytes | None:
    """The document of an upload: multipart part ``file`` (the SDKs), or the raw XML body (the newer docs)."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        if not match:
            return None
        for part in request.body.split(b"--" + match.group(1).encode()):
            head, sep, content = part.partition(b"\r\n\r\n")
            if sep and b'name="file"' in head:
                return content.removesuffix(b"\r\n")
        return None
    return request.body or None


_STATUSES = {"AB", "IP", "UQ", "CA", "RE", "AP", "PD"}
_STATUS_NAMES = {"Acknowledge", "InProcess", "UnderQuery", "ConditionallyAccepted", "Reject", "Accept", "Paid"}


def _invoice_response_problem(body: Any) -> str:
    if not isinstance(body, dict) or body.get("status") not in _STATUSES | _STATUS_NAMES:
        return "status must be one of AB IP UQ CA RE AP PD."
    needs_reason = body["status"] in {"UQ", "CA", "RE", "UnderQuery", "ConditionallyAccepted", "Reject"}
    if needs_reason and not (isinstance(body.get("reasons"), dict) and body["reasons"]):
        return f"A response {body['status']} needs at least one reason."
    return ""
