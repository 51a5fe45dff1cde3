"""The PSB simulator's hooks: CRUD (``/api/v1/{partyId}/hook``), ping, and webhook deliveries signed with the hook's
secret, re-stamped and re-signed on every attempt, retried on a schedule and then given up (``HookSentError``).
Part of ``PsbApi``; see ``psb.py`` for the sources."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from integrations.econnect.simulator.common import iso_time
from integrations.simulators import outbound
from integrations.simulators.app import Request, Response

HOOK_ID = re.compile(r"[A-Za-z0-9=-]{1,64}")
# [GUESS G-PSB-2] eConnect publishes no webhook retry schedule: seconds after each failed attempt, then HookSentError.
WEBHOOK_RETRY_AFTER = (60, 300, 900, 3600)
# [GUESS G-PSB-10] eConnect publishes no delivery concurrency: a cloud service posts several documents' webhooks at
# once; one document's in order.
WEBHOOK_CONCURRENCY = 4


def error(status: int, code: str, message: str) -> Response:
    """eConnect's error body ``{code, message, helpLink, requestId, dateTime}`` (contract.md section 3)."""
    return Response.json(
        {
            "helpLink": "https://psb.econnect.eu/endpoints/overview.html",
            "message": message,
            "code": code,
            "requestId": uuid.uuid4().hex,
            "dateTime": datetime.now(UTC).isoformat(),
        },
        status,
    )


class PsbHooks:
    webhook_sender = None  # a callable(url, body, headers) -> status; None: real HTTP (set by tests in-process)

    # --- hooks and deliveries ----------------------------------------------------------------------------------

    def psb_hooks(self, request: Request, party: str) -> Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        return Response.json(list(self.psb["hooks"].get(acting[1], {}).values()))

    def psb_hook_put(self, request: Request, party: str) -> Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        try:
            body = request.json()
        except ValueError:
            return error(400, "API400", "The body must be a Hook JSON object.")
        if not isinstance(body, dict) or not HOOK_ID.fullmatch(str(body.get("id", ""))):
            return error(400, "API400", "A hook needs an id of 1 to 64 letters, digits, '-' or '='.")
        if not str(body.get("name", "")).strip() or not str(body.get("action", "")).strip():
            return error(400, "API400", "A hook needs a name and an action.")
        topics = body.get("topics") if isinstance(body.get("topics"), list) else []
        hook = {
            "id": str(body["id"]),
            "name": str(body["name"])[:200],
            "action": str(body["action"])[:2000],
            "topics": [str(t)[:100] for t in topics][:50],
            "isActive": bool(body.get("isActive", True)),
            "changedOn": iso_time(self.now()),
        }
        self.psb["hooks"].setdefault(acting[1], {})[hook["id"]] = hook
        self.state.save()
        return Response.json(hook)

    def psb_hook_delete(self, request: Request, party: str, hook: str) -> Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        if self.psb["hooks"].get(acting[1], {}).pop(hook, None) is None:
            return error(404, "API404", f"Hook '{hook}' not found.")
        self.state.save()
        return Response(200, b"")

    def psb_hook_ping(self, request: Request, party: str) -> Response:
        acting = self._acting_for(request, party)
        if isinstance(acting, Response):
            return acting
        self.psb_queue_event(acting[1], "HookSent", "", "Ping.", {})
        self.state.save()
        return Response.json({"id": econnect_notation(acting[1])})

    def psb_queue_event(self, party: str, topic: str, document_id: str, message: str, details: dict[str, str]) -> None:
        now = self.now()
        for hook in self.psb["hooks"].get(party, {}).values():
            if not hook["isActive"] or not _subscribed(hook["topics"], topic):
                continue
            self.psb["deliveries"].append(
                {
                    "id": len(self.psb["deliveries"]) + 1,
                    "hook_id": hook["id"],
                    "party": party,
                    "action": hook["action"],
                    "event": {
                        "topic": topic,
                        "partyId": econnect_notation(party),
                        "hookId": hook["id"],
                        "documentId": document_id,
                        "message": message,
                        "details": details,
                        "createdOn": iso_time(now),
                    },
                    "attempts": 0,
                    "next_at": now,
                    "state": "pending",
                    "statuses": [],
                }
            )

    def psb_deliver_due(self) -> list[dict[str, Any]]:
        """Send every delivery that is due, signed; a non-2xx answer is retried on the schedule (``HookSentRetry``),
        then given up (``HookSentError``). Each attempt is re-stamped (``sentOn``) and re-signed, as the reference
        receivers' clock check requires. The posts go out without holding the state: eConnect keeps answering API
        calls while it delivers webhooks (a receiver may call back, e.g. to download the document)."""
        with self.state.lock:
            if self.psb.get("webhooks_held"):
                return []
            now = self.now()
            due = [d for d in self.psb["deliveries"] if d["state"] == "pending" and d["next_at"] <= now]
            for delivery in due:
                delivery["state"] = "sending"  # this run's: another run does not send it too
            posts = [(delivery, *self._signed_delivery(delivery)) for delivery in due]
        statuses = self._post_in_lanes(posts)
        with self.state.lock:
            done = [self._record_attempt(post[0], status, now) for post, status in zip(posts, statuses, strict=True)]
            if done:
                self.state.save()
        return done

    def _post_in_lanes(self, posts: list[tuple]) -> list[int]:
        """The posts' statuses. Over HTTP, up to ``WEBHOOK_CONCURRENCY`` documents' deliveries at a time, each
        document's in order; an in-process sender (tests) posts one after the other."""
        if self.webhook_sender is not None or len(posts) < 2:
            return [self._post_webhook(url, body, headers) for _, url, body, headers in posts]
        lanes: dict[str, list[int]] = {}
        for index, (delivery, *_rest) in enumerate(posts):
            lanes.setdefault(delivery["event"].get("documentId") or f"#{index}", []).append(index)
        statuses = [0] * len(posts)

        def post_lane(indexes: list[int]) -> None:
            for index in indexes:
                _, url, body, headers = posts[index]
                statuses[index] = self._post_webhook(url, body, headers)

        with ThreadPoolExecutor(max_workers=WEBHOOK_CONCURRENCY, thread_name_prefix="psb-webhooks") as pool:
            list(pool.map(post_lane, lanes.values()))
        return statuses

    def _signed_delivery(self, delivery: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
        hook = self.psb["hooks"].get(delivery["party"], {}).get(delivery["hook_id"])
        url, _, secret = (hook["action"] if hook else delivery["action"]).partition("#")  # the hook as it is now
        body = json.dumps({**delivery["event"], "sentOn": self._sent_on()}, indent=4).replace("\n", "\r\n").encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return url, body, {"Content-Type": "application/json", "X-EConnect-Signature": signature}

    def _record_attempt(self, delivery: dict[str, Any], status: int, now: float) -> dict[str, Any]:
        delivery["attempts"] += 1
        delivery["statuses"].append(status)
        if 200 <= status < 300:
            delivery["state"] = "delivered"
        elif delivery["attempts"] > len(WEBHOOK_RETRY_AFTER):
            delivery["state"] = "failed"
            self._hook_bookkeeping(delivery, "HookSentError", f"Hook '{delivery['hook_id']}' given up ({status}).")
        else:
            delivery["state"] = "pending"
            delivery["next_at"] = now + WEBHOOK_RETRY_AFTER[delivery["attempts"] - 1]
            self._hook_bookkeeping(delivery, "HookSentRetry", f"Hook '{delivery['hook_id']}' will retry ({status}).")
        return {"id": delivery["id"], "status": status, "state": delivery["state"]}

    def _sent_on(self) -> str:
        """When a delivery leaves, by the wall clock (the receiver compares it with its own): the simulated clock
        moves documents through their lifecycle, not the time on the wire. ``hook_clock_skew`` puts eConnect's
        clock off by that many seconds (a stale delivery)."""
        return iso_time(time.time() + float(self.psb.get("hook_clock_skew", 0.0)))

    def _hook_bookkeeping(self, delivery: dict[str, Any], topic: str, message: str) -> None:
        """[GUESS G-PSB-7] eConnect's own events about a delivery (``HookSentRetry``/``HookSentError``), for hooks that
        subscribe to them; never about a delivery of such an event itself."""
        if delivery["event"]["topic"].startswith("Hook"):
            return
        details = {"hookId": delivery["hook_id"], "topic": delivery["event"]["topic"], "attempts": delivery["attempts"]}
        self.psb_queue_event(delivery["party"], topic, delivery["event"]["documentId"], message, details)

    def _post_webhook(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        return int((self.webhook_sender or post_over_http)(url, body, headers))


def post_over_http(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST a delivery; the receiver's status, or 0 when it could not be reached."""
    return outbound.post(url, body, headers, timeout=10)


def _subscribed(topics: list[str], topic: str) -> bool:
    """A topic or a recorded wildcard (``*Received``, ``*SentError`` …) matches."""
    for wanted in topics:
        if wanted == topic or (wanted.startswith("*") and topic.startswith("Invoice") and topic.endswith(wanted[1:])):
            return True
    return False


def econnect_notation(party: str) -> str:
    """``0106:12345678`` as eConnect writes it back (``NL:KVK:12345678``) where it has a notation."""
    scheme, _, value = party.partition(":")
    names = {"0106": "NL:KVK", "0190": "NL:OINO", "9944": "NL:VAT", "0088": "GLN"}
    return f"{names[scheme]}:{value}" if scheme in names else party
