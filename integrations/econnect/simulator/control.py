"""The eConnect simulator's control API: clock, accounts, directory, inbox injection and what was sent."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from integrations.econnect.simulator import statuses
from integrations.econnect.simulator.common import (
    ACCESS_POINT_URLS,
    MAX_CLOCK_OFFSET,
    MAX_TOKEN_TTL,
    NETWORKS,
    canonical_party,
    iso_time,
    soap_fault_body,
)
from integrations.peppol.xml import XmlRejected
from integrations.simulators.app import MAX_REQUEST_BYTES, Request, Response
from integrations.simulators.control import ControlError
from integrations.simulators.faults import Fault


class ControlApi:
    """The control API under ``/_sim/`` (routes in ``EConnectSimulator.__init__``); part of ``EConnectSimulator``."""

    # --- control API ---------------------------------------------------------------------------------------------
    def sim_state(self, request: Request) -> Response:
        with self.state.lock:
            accounts = {
                key: {k: v for k, v in account.items() if k != "app_secret"}
                for key, account in self.data["accounts"].items()
            }
            return Response.json(
                {"now": iso_time(self.now()), "accounts": accounts, "directory": self.data["directory"]}
            )

    def sim_clock(self, request: Request) -> Response:
        return Response.json({"now": iso_time(self.now()), "offset": self.data["clock_offset"]})

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
        """``{"token_ttl_seconds", "subscription_keys": [...], "credit_note_template_id"}``"""
        spec = request.control_spec().only("token_ttl_seconds", "subscription_keys", "credit_note_template_id")
        ttl = spec.number("token_ttl_seconds", None, minimum=0, maximum=MAX_TOKEN_TTL)
        keys = spec.texts("subscription_keys", None, nullable=True, max_items=10)
        credit_note_template = spec.text("credit_note_template_id", None, nullable=True, max_length=100)
        with self.state.lock:
            if ttl is not None:
                self.data["token_ttl"] = float(ttl)
            if keys is not None:
                self.data["subscription_keys"] = list(keys)
            if credit_note_template is not None:
                self.data["credit_note_template_id"] = credit_note_template
            self.state.save()
        return Response.json(
            {
                "token_ttl_seconds": self.data["token_ttl"],
                "subscription_keys": len(self.data.get("subscription_keys") or []),
                "credit_note_template_id": self.data.get("credit_note_template_id") or "",
            }
        )

    def sim_add_account(self, request: Request) -> Response:
        spec = request.control_spec().only(
            "app_key", "app_secret", "network", "parties", "name", "duplicates_visible", "inbox_template"
        )
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
                inbox_template=spec.text(
                    "inbox_template", statuses.DEFAULT_INBOX_TEMPLATE, choices=tuple(statuses.INBOX_TEMPLATES)
                ),
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
            removed = self.data["directory"].get(network, {}).pop(canonical_party(party_id), None)
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
            hosted = self._hosting_account(network, canonical_party(receiver))
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

    def _inbox_view(self, doc: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in doc.items() if k != "payload"}
        view["state"] = statuses.inbox_label(self._inbox_template(doc["account"]), doc["status_code"])
        view["created_at"], view["modified_at"] = iso_time(doc["created_at"]), iso_time(doc["modified_at"])
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
                    if doc["status_code"] != statuses.DUPLICATE[1]:
                        return Response.json({"error": "not a duplicate"}, 409)
                    doc["status_code"], doc["released"] = statuses.NEW_CODE, True
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
                view.update(
                    reference=reference, sent_at=iso_time(doc["created_at"]), modified_at=iso_time(doc["modified_at"])
                )
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
        (a final state stays; a state before final is overtaken by the lifecycle as usual). ``{"state": ...,
        "code": "91", "name": "Nieuw"}`` shows a status eConnect might add one day instead of the state's own."""
        spec = request.control_spec().only("state", "code", "name")
        state = spec.text("state", choices=statuses.OUTBOX_STATES)
        raw = {"code": spec.text("code", "", max_length=20), "name": spec.text("name", "", max_length=100)}
        with self.state.lock:
            for doc in self.data["outbox"]:
                if doc["external_id"] == external_id:
                    self._set_outbox_state(doc, state, self.now())
                    if raw["code"] or raw["name"]:
                        doc["raw_status"] = raw
                    self.state.save()
                    view = {k: v for k, v in doc.items() if k not in ("payload", "behaviour")}
                    return Response.json(view)
        return Response.json({"error": "no such outbox document"}, 404)

    def sim_inbox_status(self, request: Request, external_id: str) -> Response:
        """``{"state": "new|read|processed|approved|rejected|duplicate"}``: set an inbox document's status directly,
        as a person would in eConnect's platform."""
        spec = request.control_spec().only("state")
        labels = {label for t in statuses.INBOX_TEMPLATES for label in statuses.inbox_labels(t)}
        state = spec.text("state", choices=tuple(sorted(labels)))
        with self.state.lock:
            for doc in self.data["inbox"]:
                if doc["external_id"] == external_id:
                    template = self._inbox_template(doc["account"])
                    if state not in statuses.inbox_labels(template):
                        return Response.json({"error": f"the account's template has no status {state!r}"}, 400)
                    doc["status_code"], doc["modified_at"] = statuses.inbox_code(template, state), self.now()
                    self.state.save()
                    return Response.json(self._inbox_view(doc))
        return Response.json({"error": "no such inbox document"}, 404)
