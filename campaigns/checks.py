"""What a campaign asserts after the stack has drained: every invoice in exactly once at the other side, nothing
stuck, no timeline entry missing. Shared by the crash and the outage campaigns."""

from __future__ import annotations

import re
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from random import Random
from typing import Any

from campaigns.stack import RECEIVING_DEBTORS, Stack

CAMPAIGN_USER = "campaign-operator"


# --- the stream of invoices ------------------------------------------------------------------------------------------


@dataclass
class Expected:
    """What was put in: outgoing invoice numbers issued in AFAS and documents put into eConnect inboxes, per
    environment key."""

    outgoing: dict[str, list[str]] = field(default_factory=dict)
    incoming: dict[str, dict[str, str]] = field(default_factory=dict)  # external id → SHA-256

    @property
    def outgoing_count(self) -> int:
        return sum(len(numbers) for numbers in self.outgoing.values())

    @property
    def incoming_count(self) -> int:
        return sum(len(documents) for documents in self.incoming.values())


class Feeder(threading.Thread):
    """In the background: a steady stream of invoices both ways (``rate`` per second each), and every
    ``tick_every`` seconds production's waits passing and the periodic tasks sent (see ``campaigns.stack``).
    Errors (e.g. the database restarting) are counted and the loop goes on."""

    def __init__(self, stack: Stack, rng: Random, *, rate: float, tick_every: float = 2.0, prefix: str = "C"):
        super().__init__(name="campaign-feeder", daemon=True)
        self.stack, self.rng, self.rate, self.tick_every, self.prefix = stack, rng, rate, tick_every, prefix
        self.expected = Expected(
            outgoing={tenant.key: [] for tenant in stack.tenants},
            incoming={tenant.key: {} for tenant in stack.tenants},
        )
        self.feeding = threading.Event()
        self.feeding.set()
        self.stopping = threading.Event()
        self.tick_errors = 0
        self.feed_errors = 0
        self.last_error = ""
        self._lock = threading.Lock()

    def run(self) -> None:
        from django.db import connections

        next_feed = next_tick = time.monotonic()
        number = 0
        try:
            while not self.stopping.is_set():
                now = time.monotonic()
                if self.feeding.is_set() and now >= next_feed:
                    number += 1
                    self._feed(number)
                    next_feed = now + 1.0 / self.rate
                if now >= next_tick:
                    self._tick()
                    next_tick = time.monotonic() + self.tick_every
                time.sleep(0.02)
        finally:
            connections.close_all()

    def _feed(self, number: int) -> None:
        tenant = self.rng.choice(self.stack.tenants)
        debtor = self.rng.choice(RECEIVING_DEBTORS)
        other = self.rng.choice(self.stack.tenants)
        try:
            issued = self.stack.issue_outgoing(tenant, debtor)
            with self._lock:
                self.expected.outgoing[tenant.key].append(issued)
            external_id, sha256 = self.stack.inject_incoming(other, f"{self.prefix}-{number:06d}")
            with self._lock:
                self.expected.incoming[other.key][external_id] = sha256
        except Exception as exc:  # noqa: BLE001 - the simulators are in this process; count and go on
            self.feed_errors += 1
            self.last_error = f"feed: {exc!r}"

    def _tick(self) -> None:
        from django.db import connections

        try:
            self.stack.time_passes()
            self.stack.send_periodic()
        except Exception as exc:  # noqa: BLE001 - PostgreSQL or Redis may be restarting (outage campaign)
            self.tick_errors += 1
            self.last_error = f"tick: {type(exc).__name__}: {str(exc).strip()[:200]}"
            connections.close_all()

    def stop_feeding(self) -> None:
        self.feeding.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)


# --- settling --------------------------------------------------------------------------------------------------------


def outgoing_final() -> tuple[str, ...]:
    from portal.outgoing_invoices.models import OutgoingInvoice

    Status = OutgoingInvoice.Status
    return (Status.DELIVERED, Status.NEEDS_ATTENTION, Status.NOT_SENT, Status.FAILED, Status.REJECTED,
            Status.STALE, Status.RESOLVED_MANUALLY)  # fmt: skip


def incoming_final() -> tuple[str, ...]:
    from portal.incoming_invoices.models import IncomingInvoice

    Status = IncomingInvoice.Status
    return (Status.ACKNOWLEDGED, Status.HELD, Status.FAILED, Status.RESOLVED_MANUALLY)


def settled(expected: Expected) -> bool:
    """Everything put in is in the portal and in a status the portal does not move on from by itself."""
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.outgoing_invoices.models import OutgoingInvoice

    return (
        OutgoingInvoice.objects.count() >= expected.outgoing_count
        and IncomingInvoice.objects.count() >= expected.incoming_count
        and not OutgoingInvoice.objects.exclude(status__in=outgoing_final()).exists()
        and not IncomingInvoice.objects.exclude(status__in=incoming_final()).exists()
    )


@dataclass
class PersonActions:
    delivered_again: int = 0  # held as "AFAS may have it", not in AFAS: delivered again
    resolved_in_afas: int = 0  # held as "AFAS may have it", and AFAS has it: confirmed (delivered, acknowledged)


def act_as_a_person_on_interrupted_deliveries(stack: Stack) -> PersonActions:
    """A delivery to AFAS Profit interrupted by a crash is held (AFAS cannot be asked whether it got it). What the
    accountant does: look in AFAS (the simulator's record of received invoices), then deliver again if it is not
    there, or confirm that it is (it then counts as delivered and is acknowledged at eConnect)."""
    from portal.accounts.models import User
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.incoming_invoices.services import incoming_confirm_in_afas, incoming_deliver_again

    actions = PersonActions()
    held = IncomingInvoice.objects.filter(
        status=IncomingInvoice.Status.HELD, hold_reason=IncomingInvoice.HoldReason.DELIVERY_UNCERTAIN
    ).select_related("environment")
    if not held.exists():
        return actions
    person, _ = User.objects.get_or_create(username=CAMPAIGN_USER)
    in_afas = {tenant.key: afas_deliveries(stack, tenant.key) for tenant in stack.tenants}
    for invoice in held:
        key = f"{invoice.environment.afas_participant_number}-{invoice.environment.afas_environment_type}"
        if in_afas.get(key, Counter())[invoice.sha256]:
            actions.resolved_in_afas += incoming_confirm_in_afas(
                invoice=invoice, actor=person, reason="Checked AFAS: the invoice is there."
            )
        else:
            actions.delivered_again += incoming_deliver_again(
                invoice=invoice, actor=person, reason="Checked AFAS: the invoice is not there."
            )
    return actions


# --- the checks ------------------------------------------------------------------------------------------------------


def afas_deliveries(stack: Stack, key: str) -> Counter:
    """SHA-256 of each purchase invoice AFAS received in this environment → how often."""
    delivered = stack.afas_get(f"/_sim/environments/{key}/delivered")
    return Counter(entry["xml_sha256"] for entry in delivered["purchase_invoices"])


def sent_at_econnect(stack: Stack, tenant) -> Counter:
    """Invoice number → how often eConnect took it from this environment (over SOAP or PSB)."""
    if tenant.on_psb:
        sent = stack.econnect_get("/_sim/psb/sent")["sent"]
        return Counter(doc["number"] for doc in sent if doc["sender"] == tenant.party)
    return Counter(doc["number"] for doc in stack.econnect_get("/_sim/sent", account=tenant.app_key)["documents"])


def inbox_states(stack: Stack, tenant) -> dict[str, str]:
    """eConnect document id → its state at eConnect; on PSB "processed" means answered AB (after AFAS took it)."""
    if tenant.on_psb:
        responses = stack.econnect_get("/_sim/psb/responses")["responses"]
        return {r["document_id"]: "processed" for r in responses if r["status"] == "AB"}
    return {doc["external_id"]: doc["state"]
            for doc in stack.econnect_get("/_sim/inbox", account=tenant.app_key)["documents"]}  # fmt: skip


def psb_rows(stack: Stack) -> list[tuple[str, Any]]:
    """What went over eConnect PSB: its environments, the webhooks the portal stored, the sends answered 409."""
    from django.db.models import Sum

    from portal.webhooks.models import WebhookEvent

    on_psb = sum(1 for tenant in stack.tenants if tenant.on_psb)
    if not on_psb:
        return []
    events = WebhookEvent.objects.aggregate(deliveries=Sum("deliveries"))["deliveries"] or 0
    return [
        ("environments on eConnect PSB", on_psb),
        ("webhook deliveries received", events),
        ("webhook events stored (once each)", WebhookEvent.objects.count()),
        ("PSB sends answered 409 (repeat)", stack.econnect_get("/_sim/psb/sent")["repeats"]),
    ]


def timeline_breaks(status: str, transitions: list[tuple[str, str]]) -> list[str]:
    """Where an invoice's timeline (its status events in order: (from, to)) does not account for its status: it
    must start from nothing, each event must start where the one before ended, and the last must end in
    ``status``. One break is at least one missing (or wrong) event."""
    if not transitions:
        return [f"no status event at all (status {status})"]
    breaks = []
    if transitions[0][0]:
        breaks.append(f"the first event starts from {transitions[0][0]}, not from nothing")
    for (_, before), (after, to) in zip(transitions, transitions[1:], strict=False):
        if after != before:
            breaks.append(f"an event goes {after} → {to}, but the one before ended in {before}")
    if transitions[-1][1] != status:
        breaks.append(f"the last event ends in {transitions[-1][1]}, the invoice is {status}")
    return breaks


@dataclass
class Verdict:
    rows: list[tuple[str, Any]]
    problems: list[str]


def _transitions_by_subject(field_name: str) -> dict[int, list[tuple[str, str]]]:
    from portal.events.models import Event

    chains: dict[int, list[tuple[str, str]]] = {}
    events = (
        Event.objects.filter(**{f"{field_name}__isnull": False})
        .exclude(to_status="")
        .order_by("id")
        .values_list(f"{field_name}_id", "from_status", "to_status")
    )
    for subject, before, after in events.iterator():
        chains.setdefault(subject, []).append((before, after))
    return chains


def check(stack: Stack, expected: Expected) -> Verdict:
    """Every assertion of the campaign, with the counts to print."""
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.organisations.models import Environment
    from portal.outgoing_invoices.models import OutgoingInvoice

    problems: list[str] = []
    keys = {
        environment.pk: f"{environment.afas_participant_number}-{environment.afas_environment_type}"
        for environment in Environment.objects.all()
    }

    # Outgoing: in the portal once, delivered, at eConnect exactly once.
    outgoing = list(OutgoingInvoice.objects.values_list("pk", "environment_id", "invoice_number", "status",
                                                        "econnect_document_id"))  # fmt: skip
    Out = OutgoingInvoice.Status
    out_stuck = sum(1 for row in outgoing if row[3] not in outgoing_final())
    out_delivered = sum(1 for row in outgoing if row[3] == Out.DELIVERED)
    out_duplicates = 0
    for tenant in stack.tenants:
        issued = expected.outgoing[tenant.key]
        in_portal = Counter(row[2] for row in outgoing if keys[row[1]] == tenant.key)
        if sorted(in_portal.elements()) != sorted(issued):
            missing = set(issued) - set(in_portal)
            twice = {number for number, count in in_portal.items() if count > 1}
            extra = set(in_portal) - set(issued)
            problems.append(f"{tenant.key}: outgoing in the portal differ from those issued in AFAS: "
                            f"missing {sorted(missing)[:10]}, twice {sorted(twice)[:10]}, unexpected {sorted(extra)[:10]}")  # fmt: skip
        sent = sent_at_econnect(stack, tenant)
        out_duplicates += sum(count - 1 for count in sent.values() if count > 1)
        never_sent = [number for number in issued if sent[number] == 0]
        sent_twice = {number: count for number, count in sent.items() if count > 1}
        if never_sent:
            problems.append(f"{tenant.key}: {len(never_sent)} outgoing never reached eConnect: {never_sent[:10]}")
        if sent_twice:
            problems.append(f"{tenant.key}: sent more than once at eConnect: {sent_twice}")
    not_delivered = [(row[2], row[3]) for row in outgoing if row[3] != Out.DELIVERED]
    if not_delivered:
        problems.append(f"{len(not_delivered)} outgoing not delivered: {not_delivered[:10]}")
    document_ids = Counter(row[4] for row in outgoing if row[4])
    if any(count > 1 for count in document_ids.values()):
        problems.append("two outgoing invoices share an eConnect document id")

    # Incoming: in the portal once, in AFAS exactly once with the bytes put in, acknowledged at eConnect.
    incoming = list(IncomingInvoice.objects.values_list("pk", "environment_id", "econnect_document_id", "status"))
    In = IncomingInvoice.Status
    in_stuck = sum(1 for row in incoming if row[3] not in incoming_final())
    in_acknowledged = sum(1 for row in incoming if row[3] == In.ACKNOWLEDGED)
    in_duplicates = in_delivered = 0
    for tenant in stack.tenants:
        put_in = expected.incoming[tenant.key]
        in_portal = Counter(row[2] for row in incoming if keys[row[1]] == tenant.key)
        if set(in_portal) != set(put_in) or any(count > 1 for count in in_portal.values()):
            problems.append(f"{tenant.key}: incoming in the portal differ from those put into the eConnect inbox: "
                            f"missing {sorted(set(put_in) - set(in_portal))[:10]}, "
                            f"unexpected {sorted(set(in_portal) - set(put_in))[:10]}")  # fmt: skip
        in_afas = afas_deliveries(stack, tenant.key)
        in_delivered += sum(1 for sha in put_in.values() if in_afas[sha] >= 1)
        in_duplicates += sum(count - 1 for count in in_afas.values() if count > 1)
        never = [external_id for external_id, sha in put_in.items() if in_afas[sha] == 0]
        twice = {sha[:12]: count for sha, count in in_afas.items() if count > 1}
        if never:
            problems.append(f"{tenant.key}: {len(never)} incoming never reached AFAS: {never[:10]}")
        if twice:
            problems.append(f"{tenant.key}: booked more than once in AFAS: {twice}")
        if set(in_afas) - set(put_in.values()):
            problems.append(f"{tenant.key}: AFAS received documents that were never put in")
        states = inbox_states(stack, tenant)
        unacknowledged = [external_id for external_id in put_in if states.get(external_id) != "processed"]
        if unacknowledged:
            problems.append(f"{tenant.key}: {len(unacknowledged)} incoming not acknowledged at eConnect: "
                            f"{[(i, states.get(i)) for i in unacknowledged[:10]]}")  # fmt: skip
    not_acknowledged = [(row[2], row[3]) for row in incoming if row[3] != In.ACKNOWLEDGED]
    if not_acknowledged:
        problems.append(f"{len(not_acknowledged)} incoming not acknowledged in the portal: {not_acknowledged[:10]}")

    # Timelines: every status an invoice went through is an event, in a connected chain ending in its status.
    missing_events = 0
    for field_name, rows, status_at in (
        ("outgoing_invoice", outgoing, 3),
        ("incoming_invoice", incoming, 3),
    ):
        chains = _transitions_by_subject(field_name)
        for row in rows:
            breaks = timeline_breaks(row[status_at], chains.get(row[0], []))
            if breaks:
                missing_events += len(breaks)
                problems.append(f"{field_name} {row[0]}: timeline broken: {'; '.join(breaks)}; "
                                f"events {chains.get(row[0], [])}")  # fmt: skip

    rows = [
        ("outgoing issued in AFAS", expected.outgoing_count),
        ("outgoing collected by the portal", len(outgoing)),
        ("outgoing delivered", out_delivered),
        ("outgoing duplicates at eConnect", out_duplicates),
        ("outgoing stuck (not final)", out_stuck),
        ("incoming put into eConnect inboxes", expected.incoming_count),
        ("incoming stored by the portal", len(incoming)),
        ("incoming delivered to AFAS", in_delivered),
        ("incoming duplicates in AFAS", in_duplicates),
        ("incoming acknowledged", in_acknowledged),
        ("incoming stuck (not final)", in_stuck),
        ("missing or broken events", missing_events),
        *psb_rows(stack),
    ]
    return Verdict(rows, problems)


_TASK_LINE = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]+)\] (?P<what>received|succeeded|raised|failed|retry)")


def interrupted_tasks(worker_log: str) -> Counter:
    """Task name → how many a kill took from the worker before they finished (received, never ended), from the
    worker's log of all its lives."""
    interrupted: Counter = Counter()
    for life in worker_log.split("===== worker started")[1:]:
        open_tasks: dict[str, str] = {}
        for match in _TASK_LINE.finditer(life):
            if match["what"] == "received":
                open_tasks[match["id"]] = match["name"]
            else:
                open_tasks.pop(match["id"], None)
        interrupted.update(open_tasks.values())
    return interrupted


def recovered_by_sweepers() -> tuple[int, int]:
    """(outgoing submits returned to a retry, incoming deliveries held) by the sweepers."""
    from portal.events.models import Event

    sweeps = Event.objects.filter(actor_name="sweeper", kind="status_changed")
    return (
        sweeps.filter(outgoing_invoice__isnull=False).count(),
        sweeps.filter(incoming_invoice__isnull=False).count(),
    )


def print_problems(problems: list[str], limit: int = 40) -> None:
    for problem in problems[:limit]:
        print(f"VIOLATION: {problem}")
    if len(problems) > limit:
        print(f"... and {len(problems) - limit} more")


def format_exception() -> str:
    return traceback.format_exc(limit=3)
