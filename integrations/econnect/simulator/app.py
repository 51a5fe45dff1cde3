"""The eConnect simulator: the platform SOAP API v3.1 (``/soap/v3.1``), the PSB REST API v1 (``psb.py``) and the
public Peppol lookup (``/api/v1/peppol/deliveryOption``; ``/accp/...`` for the test network), with persistent state.

Faithful where eConnect is documented (SOURCES.md section 2, APIS.md 1.4/1.6/1.8); everything else is a guess
listed in docs/vendor-contracts.md. The control API under ``/_sim/`` (see ``EConnectSimulator.__init__``) is simulator-only.

Time is the simulator's clock (real time plus an offset that ``POST /_sim/clock`` advances), so tests move
documents through their lifecycle and tokens past their expiry without waiting. Progress is applied lazily on every
request: a document sent at t is "accepted" at t, "in progress" from t+10 s and final (delivered, failed or
rejected, per the recipient's directory entry) from t+60 s (guessed timings).
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any

from integrations.econnect.simulator.common import (
    DEFAULT_TOKEN_TTL,
    FINAL_AFTER,
    IN_PROGRESS_AFTER,
    NETWORKS,
    iso_time,
    strip_prolog,
)
from integrations.econnect.simulator.control import ControlApi
from integrations.econnect.simulator.directory import DirectoryAndAccounts
from integrations.econnect.simulator.psb import PsbApi, psb_initial
from integrations.econnect.simulator.soap import SoapOperations
from integrations.econnect.simulator.statuses import DUPLICATE, FINAL_OUTBOX_STATES, NEW_CODE
from integrations.peppol.parser import parse_document
from integrations.simulators.app import Request, Response, SimulatorApp
from integrations.simulators.state import StateStore


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
        "psb": psb_initial(),
    }


class EConnectSimulator(DirectoryAndAccounts, SoapOperations, PsbApi, ControlApi, SimulatorApp):
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
        self.add_psb_routes()

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

    def tick(self) -> None:
        """The live server's heartbeat (``serve``): documents move on with the clock and due webhooks go out, even
        when nobody calls."""
        with self.state.lock:
            self._progress()
        self.psb_deliver_due()  # posts without holding the state, as eConnect answers API calls meanwhile

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def _progress(self) -> None:
        now, changed = self.now(), False
        for doc in self.data["outbox"]:
            if doc["state"] in FINAL_OUTBOX_STATES:
                continue
            elapsed = now - doc["created_at"]
            if elapsed >= FINAL_AFTER:
                final = {"deliver": "delivered", "fail": "failed", "reject": "rejected"}
                self._set_outbox_state(doc, final[doc["behaviour"]], doc["created_at"] + FINAL_AFTER)
                if doc["state"] == "delivered" and doc["delivery_method"] == "ToInbox":
                    self._deliver_to_inbox(doc)
                changed = True
            elif elapsed >= IN_PROGRESS_AFTER and doc["state"] == "accepted":
                self._set_outbox_state(doc, "in_progress", doc["created_at"] + IN_PROGRESS_AFTER)
                changed = True
        self.psb_progress()
        if changed:
            self.state.save()

    @staticmethod
    def _set_outbox_state(doc: dict[str, Any], state: str, at: float) -> None:
        doc["state"] = state
        doc.pop("raw_status", None)
        doc["modified_at"] = at
        doc["history"].append({"state": state, "at": iso_time(at)})

    def _deliver_to_inbox(self, doc: dict[str, Any]) -> None:
        network = self.data["accounts"][doc["account"]]["network"]
        self.deliver_within_econnect(network, doc["sender"], doc["recipient"], base64.b64decode(doc["payload"]))

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
            return self._receive_unchecked(receiver_key, receiver_party, strip_prolog(payload), sender_name)
        summary = parse_document(payload)
        payload = strip_prolog(payload)
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
            "status_code": DUPLICATE[1] if earlier else NEW_CODE,
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
            "status_code": NEW_CODE,
            "duplicate_of": None,
            "released": False,
            "created_at": now,
            "modified_at": now,
        }
        self.data["inbox"].append(doc)
        self.state.save()
        return doc
