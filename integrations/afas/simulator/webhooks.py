"""AFAS Profit 8 dossier webhooks, as the simulator sends them (written from AFAS's webhook page, summarised in
``../shared/specs/afas/howto/profit-webhooks.md``; nothing here comes from the portal's client).

- A webhook belongs to an environment's app connector: a URL, a password and the dossier item types it is linked to
  (configured by an administrator; there is no API, so the control API stands in for it).
- A new dossier item registers a ``subject.created`` event (``Registered``); a scheduled batch job ("Send webhooks",
  here every heartbeat or ``POST /_sim/webhooks/send``) posts the registered ones, signed ``X-Profit-Signature-256:
  sha256=<hex HMAC-SHA256>`` with the password. A 2xx within 2 seconds is ``Success``; anything else is retried
  with growing intervals and then ``Failed``. Identical events in quick succession are collapsed
  (``EntityRateLimited``): only the last is sent.
- Guessed (docs/vendor-contracts.md): the signed bytes are the raw body (G-AFAS-9, the portal reader's guess);
  the retry intervals (G-AFAS-10, AFAS publishes none); EnvironmentId (G-AFAS-11) is the participant number with
  "AA" (production), "AB" (test) or "AC" (accept).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from integrations.simulators import outbound
from integrations.simulators.app import Request, Response

TIMEOUT_SECONDS = 2.0  # Profit's wait for an answer
RETRY_AFTER = (5, 30, 120, 600)  # [GUESS G-AFAS-10] seconds after each failed attempt; then Failed
ENVIRONMENT_SUFFIX = {"production": "AA", "test": "AB", "accept": "AC"}  # [GUESS G-AFAS-11]


def post_over_http(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST a delivery; the receiver's status, or 0 when it could not be reached in time (Profit's wait)."""
    return outbound.post(url, body, headers, timeout=TIMEOUT_SECONDS)


class ProfitWebhooks:
    """Part of ``AfasSimulator``: ``state.data["webhooks"]`` holds the configured webhooks and their events."""

    webhook_sender: Callable[[str, bytes, dict[str, str]], int] = staticmethod(post_over_http)
    webhook_clock: Callable[[], float] = staticmethod(time.monotonic)

    def _webhooks(self) -> dict[str, Any]:
        return self.state.data.setdefault("webhooks", {"hooks": {}, "events": [], "next_id": 1})

    def register_webhook_routes(self) -> None:
        self.route("POST", r"/_sim/environments/(?P<key>[^/]+)/webhooks", self._sim_add_webhook)
        self.route("GET", r"/_sim/webhooks/events", self._sim_webhook_events)
        self.route("POST", r"/_sim/webhooks/send", self._sim_send_webhooks)

    def _sim_add_webhook(self, request: Request, key: str) -> Response:
        if key not in self.environments:
            return Response.json({"error": f"no environment {key}"}, 404)
        spec = request.json() if request.body else {}
        url, password = spec.get("url"), spec.get("password")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or not isinstance(password, str):
            return Response.json({"error": "url (https) and password are required"}, 400)
        types = spec.get("subject_types")
        hooks = self._webhooks()
        hook_id = str(hooks["next_id"])
        hooks["next_id"] += 1
        hooks["hooks"][hook_id] = {"key": key, "url": url, "password": password, "subject_types": types,
                                   "description": str(spec.get("description") or "Webhook")[:100]}  # fmt: skip
        self.state.save()
        return Response.json({"id": hook_id}, 201)

    def _sim_webhook_events(self, request: Request) -> Response:
        return Response.json({"events": self._webhooks()["events"]})

    def _sim_send_webhooks(self, request: Request) -> Response:
        return Response.json({"sent": self.send_webhooks()})

    def register_dossier_event(self, key: str, event_type: str, subject_type: Any, subject_id: int) -> None:
        """Under the state lock: a dossier item of ``key`` changed; every webhook linked to its type gets an event."""
        hooks = self._webhooks()
        environment = self.environments[key]
        for hook_id, hook in hooks["hooks"].items():
            if hook["key"] != key or (hook["subject_types"] is not None and subject_type not in hook["subject_types"]):
                continue
            for earlier in hooks["events"]:
                same = (earlier["hook_id"], earlier["payload"]["EventType"], earlier["payload"]["Data"]["SubjectId"])
                if earlier["state"] == "Registered" and same == (hook_id, event_type, subject_id):
                    earlier["state"] = "EntityRateLimited"
            participant = environment.get("participant") or key.split("-")[0]
            suffix = ENVIRONMENT_SUFFIX.get(environment.get("environment_type", "production"), "AA")
            hooks["events"].append({
                "hook_id": hook_id,
                "state": "Registered",
                "attempts": 0,
                "next_at": 0.0,
                "payload": {
                    "EventId": str(uuid.uuid4()),
                    "EnvironmentId": f"{participant}{suffix}",
                    "EventType": event_type,
                    "Data": {"SubjectTypeId": subject_type, "SubjectId": subject_id},
                    "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
                },
            })  # fmt: skip

    def send_webhooks(self) -> int:
        """The "Send webhooks" batch job: every due event is posted once; returns how many were answered 2xx."""
        now = self.webhook_clock()
        with self.state.lock:
            hooks = self._webhooks()
            due = [e for e in hooks["events"] if e["state"] in ("Registered", "Retry") and e["next_at"] <= now]
            for event in due:
                event["state"] = "Pending"
            jobs = [(event, dict(hooks["hooks"][event["hook_id"]])) for event in due]
        sent = 0
        for event, hook in jobs:
            body = json.dumps(event["payload"], separators=(",", ":")).encode()
            digest = hmac.new(hook["password"].encode("utf-8"), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Profit-Signature-256": f"sha256={digest}"}
            status = self.webhook_sender(hook["url"], body, headers)
            with self.state.lock:
                event["attempts"] += 1
                event["last_status"] = status
                if 200 <= status < 300:
                    event["state"] = "Success"
                    sent += 1
                elif event["attempts"] > len(RETRY_AFTER):
                    event["state"] = "Failed"
                else:
                    event["state"] = "Retry"
                    event["next_at"] = self.webhook_clock() + RETRY_AFTER[event["attempts"] - 1]
        if jobs:
            with self.state.lock:
                self.state.save()
        return sent

    def tick(self) -> None:
        self.send_webhooks()
