"""The fault campaign: every remote operation of the portal × every fault kind → decision, message, exactly once.

For each cell one fault is injected into a simulator (AFAS or eConnect, mounted in-process over the real clients),
the portal's own service runs once, and what it decided is read back from the database: retried at once, retried
later, stopped for a person, or held because the remote may have acted. Then the fault is gone, the work is allowed
to finish (the scheduled retry, or the step a person would take), and the remote is checked: one document sent,
one purchase invoice booked, every inbox document stored once, the right identifier in AFAS.

    python -m campaigns.faults [--only OPERATION] [--fault KIND] [--verbose]

prints the table and exits 1 when any cell differs from ``EXPECTED`` (the specification, derived from the typed
errors of ``integrations.http``). Without a PostgreSQL ``DATABASE_URL`` it runs on a temporary SQLite database;
with one, on a throwaway database ``rel_faults_campaign`` next to it. ``tests/campaigns/test_fault_matrix.py`` runs
the same matrix in the test suite.

Every cell runs inside a transaction that is rolled back, with the simulators' state restored from a snapshot, so
the cells cannot see each other; ``transaction.on_commit`` never fires, so nothing runs but the service under test.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import fnmatch
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# --- the specification ------------------------------------------------------------------------------------------------

# Decisions, read back from the database after one run of the service:
RETRIED_NOW = "retried now"  # the client tried again at once and the operation completed
DONE = "done"  # the fault did not change the outcome
RETRY = "retry"  # nothing lost: tried again automatically later (the item's due time, or the next periodic run)
STOP = "stop"  # stopped with a reason for a person; no automatic retry
SKIP = "skip"  # this item stopped with a reason, the rest of the job went on
HOLD = "hold"  # held for a person: the remote may or may not have acted
CREDENTIALS = "+cred"  # suffix: the environment's connection health says the credentials are refused
NOT_APPLICABLE = "n/a"

TIMEOUT_SECONDS = 0.5  # the clients' timeout in the campaign (production: integrations.http.DEFAULT_TIMEOUT)
TRICKLE_GAP = 0.15  # a slow answer: 8 chunks 0.15 s apart (each within the timeout, together beyond the 1 s a
# whole call may take: connecting plus one read timeout)
RETRY_AFTER_SECONDS = 120


@dataclass(frozen=True)
class FaultKind:
    key: str
    label: str
    # what the message shown for it must say (case-insensitive), where the operation shows one
    message: str


FAULT_KINDS = (
    FaultKind("timeout_before", "t/o before", r"did not answer in time|may or may not"),
    FaultKind("timeout_after", "t/o after", r"did not answer in time|may or may not"),
    FaultKind("http_500", "500", r"500"),
    FaultKind("http_502", "502", r"502"),
    FaultKind("unavailable_503", "503+R-A", r"503|unavailable|maintenance"),
    FaultKind("malformed", "malformed", r"could not be read|not a soap envelope|not answer json|not json"),
    FaultKind("reset", "reset", r"could not reach|disconnected|may or may not"),
    FaultKind("credentials", "cred.", r"token|keys|credential|refused"),
    FaultKind("token_expired", "token exp.", r"token"),
    FaultKind("slow", "slow", r"did not answer in time|may or may not"),
)
FAULTS = {kind.key: kind for kind in FAULT_KINDS}

_READ = {  # a read retried in-line by the client (AFAS GetConnectors)
    "timeout_before": RETRIED_NOW,
    "timeout_after": RETRIED_NOW,
    "http_500": RETRIED_NOW,
    "http_502": RETRIED_NOW,
    "unavailable_503": RETRY,  # Retry-After beyond the client's in-line wait: the next run
    "malformed": RETRIED_NOW,
    "reset": RETRIED_NOW,
    "credentials": RETRY + CREDENTIALS,  # the periodic read goes on; the environment shows the refusal
    "token_expired": NOT_APPLICABLE,
    "slow": RETRIED_NOW,
}
_ECONNECT_READ = {  # no in-line retry: the next run (or the item's next poll) tries again
    "timeout_before": RETRY,
    "timeout_after": RETRY,
    "http_500": RETRY,
    "http_502": RETRY,
    "unavailable_503": RETRY,
    "malformed": RETRY,
    "reset": RETRY,
    "credentials": RETRY + CREDENTIALS,
    "token_expired": RETRIED_NOW,  # the gateway logs in again once, then repeats the call
    "slow": RETRY,
}
EXPECTED: dict[str, dict[str, str]] = {
    "afas_read_invoices": dict(_READ),
    "afas_read_debtors": dict(_READ),
    "afas_deliver": {
        # Profit cannot be asked whether it booked an invoice: any answer lost after sending holds it for a person.
        "timeout_before": HOLD,
        "timeout_after": HOLD,
        "http_500": RETRY,  # an answer, and not a Profit error body: AFAS did not book it
        "http_502": RETRY,
        "unavailable_503": RETRY,
        "malformed": HOLD,  # a 2xx whose body cannot be read: AFAS may have booked it
        "reset": HOLD,
        "credentials": STOP + CREDENTIALS,
        "token_expired": NOT_APPLICABLE,
        "slow": HOLD,
    },
    "afas_write_back": {
        # Writing the same EnId again is harmless, so the write is retried in-line like a read.
        **_READ,
        "credentials": STOP + CREDENTIALS,  # the write-back job stops: every further customer would be refused too
    },
    "econnect_login": {
        "timeout_before": RETRY,
        "timeout_after": RETRY,
        "http_500": RETRY,
        "http_502": RETRY,
        "unavailable_503": RETRY,
        "malformed": RETRY,
        "reset": RETRY,
        "credentials": STOP + CREDENTIALS,
        "token_expired": NOT_APPLICABLE,  # Login takes no token
        "slow": RETRY,
    },
    "econnect_send": {
        # After any doubt the outbox is searched first: a document eConnect already accepted is not sent again.
        "timeout_before": RETRY,
        "timeout_after": RETRY,
        "http_500": RETRY,
        "http_502": RETRY,
        "unavailable_503": RETRY,
        "malformed": RETRY,
        "reset": RETRY,
        "credentials": STOP + CREDENTIALS,
        "token_expired": RETRIED_NOW,
        "slow": RETRY,
    },
    "econnect_status": dict(_ECONNECT_READ),
    "econnect_inbox": dict(_ECONNECT_READ),
    "econnect_download": dict(_ECONNECT_READ),
    "econnect_acknowledge": dict(_ECONNECT_READ),  # the invoice is in AFAS: only the acknowledgement is retried
    "peppol_lookup": {
        **_ECONNECT_READ,
        "credentials": NOT_APPLICABLE,  # the public directory takes no credentials
        "token_expired": NOT_APPLICABLE,
    },
}

# Cells known to differ from the specification, with the reason (printed; they do not fail the run, and the test
# expects them to fail until they are fixed). Remove an entry with its fix.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}  # (operation, fault) -> why it is not as specified yet


# --- outcomes ---------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    operation: str
    fault: str
    decision: str
    message: str = ""
    next_in: float | None = None  # seconds until the automatic retry, where the item has a due time
    exactly_once: bool | None = None  # after the fault is gone and the work completed
    detail: str = ""  # what the exactly-once check found
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # differences from the specification

    @property
    def expected(self) -> str:
        return EXPECTED[self.operation][self.fault]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def known_failure(self) -> str:
        return KNOWN_FAILURES.get((self.operation, self.fault), "")


def judge(outcome: Outcome) -> Outcome:
    """Compare one cell with the specification; the differences go to ``outcome.problems``."""
    expected = outcome.expected
    problems = []
    if outcome.decision != expected:
        problems.append(f"decision {outcome.decision!r}, expected {expected!r}")
    if expected != NOT_APPLICABLE:
        if outcome.exactly_once is not True:
            problems.append(f"not exactly once: {outcome.detail}")
        if (
            outcome.fault == "unavailable_503"
            and outcome.next_in is not None
            and outcome.next_in < RETRY_AFTER_SECONDS - 5
        ):
            problems.append(f"retried after {outcome.next_in:.0f} s, before the Retry-After of {RETRY_AFTER_SECONDS} s")
        if outcome.decision.split("+")[0] in (RETRY, STOP, SKIP, HOLD) and outcome.message:
            if not re.search(FAULTS[outcome.fault].message, outcome.message, re.IGNORECASE):
                problems.append(f"message does not say what happened: {outcome.message!r}")
    outcome.problems = problems
    return outcome


# --- the world: simulators in-process, the portal's clients pointed at them ------------------------------------------


class RecordingTransport:
    """Passes requests to a simulator and records each one's operation name (as the simulator's faults see it)."""

    def __init__(self, inner, calls: list[str]):
        import httpx

        class _Transport(httpx.BaseTransport):
            def handle_request(self_, request: httpx.Request) -> httpx.Response:
                calls.append(_operation_name(request))
                return inner.handle_request(request)

        self.transport = _Transport()


def _operation_name(request) -> str:
    action = request.headers.get("soapaction", "").strip().strip('"')
    if action:
        return action.rsplit("/", 1)[-1]
    path = request.url.path
    if path.endswith("/peppol/deliveryOption"):
        return "deliveryOption"
    return f"{request.method} /{path.split('/ProfitRestServices/', 1)[-1]}"


@dataclass
class World:
    environment_id: int
    afas_app: Any
    econnect_app: Any
    calls: list[str]
    actor: Any

    @property
    def environment(self):
        from portal.organisations.models import Environment

        return Environment.objects.get(pk=self.environment_id)

    @property
    def afas_key(self) -> str:
        environment = self.environment
        return f"{environment.afas_participant_number}-{environment.afas_environment_type}"

    def inject(self, app: str, **spec) -> None:
        from integrations.simulators.faults import Fault

        (self.afas_app if app == "afas" else self.econnect_app).faults.add(Fault(**spec))

    def clear_faults(self) -> None:
        self.afas_app.faults.clear()
        self.econnect_app.faults.clear()

    def count_calls(self, pattern: str) -> int:
        return sum(1 for name in self.calls if fnmatch.fnmatchcase(name.lower(), pattern.lower()))

    def snapshot(self) -> tuple[dict, dict]:
        return copy.deepcopy(self.afas_app.state.data), copy.deepcopy(self.econnect_app.state.data)

    def restore(self, snapshot: tuple[dict, dict]) -> None:
        self.afas_app.state.data, self.econnect_app.state.data = copy.deepcopy(snapshot[0]), copy.deepcopy(snapshot[1])
        self.clear_faults()
        self.calls.clear()

    # what the remote holds
    def afas_deliveries(self, sha256: str) -> int:
        deliveries = self.afas_app.environments[self.afas_key]["delivered"]["purchase_invoices"]
        return sum(1 for delivery in deliveries if delivery.get("xml_sha256") == sha256)

    def afas_debtor_rows(self) -> dict[str, dict]:
        rows = self.afas_app.environments[self.afas_key]["get_connectors"]["Peppol_Debtors"]["rows"]
        return {str(row["DebtorId"]): row for row in rows}

    def econnect_sent(self, number: str) -> int:
        return sum(1 for doc in self.econnect_app.state.data["outbox"] if doc.get("number") == number)

    def econnect_inbox_code(self, external_id: str) -> str:
        for doc in self.econnect_app.state.data["inbox"]:
            if doc["external_id"] == external_id:
                return doc["status_code"]
        return ""

    def advance_econnect_clock(self, seconds: float) -> None:
        self.econnect_app.state.data["clock_offset"] += seconds


@contextlib.contextmanager
def simulated_world() -> Iterator[World]:
    """Both simulators seeded with the demo, the portal's demo data, and every client factory of
    ``portal.organisations.clients`` pointed at the simulators with the campaign's short timeout."""
    import httpx
    from django.test import override_settings

    from integrations.afas import simulator as afas_simulator
    from integrations.econnect import simulator as econnect_simulator
    from integrations.simulators.transport import SimulatorTransport
    from portal.accounts.models import User
    from portal.organisations import clients
    from portal.organisations.demo import ACCOUNTANT_LOGIN, demo_seed
    from portal.organisations.models import Environment

    afas_app = afas_simulator.create_app()
    afas_simulator.seed_demo(afas_app)
    econnect_app = econnect_simulator.create_app()
    econnect_simulator.seed_demo(econnect_app)
    calls: list[str] = []
    afas_transport = RecordingTransport(SimulatorTransport(afas_app), calls).transport
    econnect_transport = RecordingTransport(SimulatorTransport(econnect_app), calls).transport
    timeout = httpx.Timeout(TIMEOUT_SECONDS)
    originals = {name: getattr(clients, name) for name in ("afas_client_for", "econnect_gateway_for", "peppol_lookup")}
    clients.afas_client_for = lambda environment, **kwargs: originals["afas_client_for"](
        environment, transport=afas_transport, timeout=timeout
    )
    clients.econnect_gateway_for = lambda environment, **kwargs: originals["econnect_gateway_for"](
        environment, transport=econnect_transport, timeout=timeout
    )
    clients.peppol_lookup = lambda **kwargs: originals["peppol_lookup"](transport=econnect_transport)
    try:
        with override_settings(
            AFAS_BASE_URL_TEMPLATE="http://127.0.0.1:8101/{participant}/{rest_host}/ProfitRestServices",
            ECONNECT_SOAP_URL="http://127.0.0.1:8102/soap/v3.1",
            ECONNECT_LOOKUP_URL="http://127.0.0.1:8102",
            ECONNECT_SIMULATOR_CONTROL_URL="",
            PEPPOL_LOOKUP_MAX_PER_SECOND=1000.0,
            PEPPOL_LOOKUP_TIMEOUT_SECONDS=TIMEOUT_SECONDS,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ):
            demo_seed()
            environment = Environment.objects.get(afas_participant_number="12345", afas_environment_type="production")
            Environment.objects.filter(pk=environment.pk).update(sending_enabled=True, receiving_enabled=True)
            yield World(environment.pk, afas_app, econnect_app, calls, User.objects.get(username=ACCOUNTANT_LOGIN[0]))
    finally:
        for name, factory in originals.items():
            setattr(clients, name, factory)


def fault_spec(kind: str, *, service: str, operation: str) -> tuple[str, dict] | None:
    """(simulator, Fault fields) for one fault kind on one operation; None where the fault does not exist there."""
    from integrations.econnect.errors import INVALID_KEY_OR_TOKEN
    from integrations.econnect.simulator.common import TOKEN_EXPIRED, soap_fault_body

    app = "afas" if service == "afas" else "econnect"
    xml = {"Content-Type": "text/xml; charset=utf-8"}
    specs: dict[str, dict | None] = {
        "timeout_before": {"delay": 30.0},
        "timeout_after": {"delay": 30.0, "phase": "after"},
        "http_500": {"status": 500, "body": "Internal Server Error"},
        "http_502": {
            "status": 502,
            "body": "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "headers": {"Content-Type": "text/html"},
        },
        "unavailable_503": {
            "status": 503,
            "headers": {"Retry-After": str(RETRY_AFTER_SECONDS)},
            "body": "Service Unavailable",
        },
        "malformed": {"body": "<html><body>Oops</body></html>", "phase": "after"},
        "reset": {"drop": True, "phase": "after"},
        "slow": {"trickle": TRICKLE_GAP, "phase": "after"},
        "credentials": None,
        "token_expired": None,
    }
    if service == "afas":
        specs["unavailable_503"] = {
            "status": 503,
            "headers": {"Retry-After": str(RETRY_AFTER_SECONDS), "Content-Type": "application/json"},
            "body": '{"error": {"message": "AFAS Online is in maintenance"}, "retry_after": 120}',
        }
        specs["credentials"] = {"status": 401, "body": ""}  # Profit: 401 with an empty body
    elif service == "econnect":
        refused = soap_fault_body("Invalid consumer key or security token", INVALID_KEY_OR_TOKEN)
        # Every gateway logs in first: the keys are refused there, whatever the operation.
        specs["credentials"] = {"operation": "Login", "status": 500, "body": refused.decode(), "headers": xml}
        if operation != "Login":
            expired = soap_fault_body(TOKEN_EXPIRED[0], TOKEN_EXPIRED[1], faultcode="soap:Server")
            specs["token_expired"] = {"status": 500, "body": expired.decode(), "headers": xml}
    spec = specs[kind]
    if spec is None:
        return None
    return app, {"operation": operation, **spec}


# --- the operations ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    key: str
    label: str
    service: str  # afas | econnect | lookup
    remote: str  # the simulator's operation name (faults and call counts match it)
    setup: Callable[[World], Any]  # once per row, without faults: returns the subject
    run: Callable[[World, Any], Exception | None]  # the portal's service, once; a RemoteError it raises is returned
    decide: Callable[[World, Any, Exception | None, int], tuple[str, str, float | None]]
    complete: Callable[[World, Any], None]  # the fault is gone: the retry, or what a person would do
    check: Callable[[World, Any], tuple[bool, str]]


def _raises(call: Callable[[], Any]) -> Exception | None:
    from integrations.http import RemoteError

    try:
        call()
    except RemoteError as exc:
        return exc
    return None


def _seconds_until(moment: datetime | None) -> float | None:
    from django.utils import timezone

    return None if moment is None else (moment - timezone.now()).total_seconds()


def _with_credentials(world: World, service: str, decision: str) -> str:
    environment = world.environment
    flagged = (environment.afas_failing_since if service == "afas" else environment.econnect_failing_since) is not None
    return decision + CREDENTIALS if flagged else decision


def _completed(world: World, remote: str, baseline: int) -> str:
    return RETRIED_NOW if world.count_calls(remote) > baseline else DONE


def _raised_decision(service: str):
    """For a periodic operation that raises: it is tried again at the next run."""

    def decide(world: World, subject: Any, exc: Exception | None, baseline: int):
        if exc is None:
            return _completed(world, subject["remote"], baseline), "", None
        return _with_credentials(world, service, RETRY), exc.message, None

    return decide


# AFAS read: the sales invoices outgoing_collect reads (dossier items, their attachments, the debtors)
def _collect_setup(world: World) -> dict:
    return {
        "remote": "GET /connectors/ProfitSubjectsAuthorized",
        "expected": _control(world, _collect_once, _outgoing_count),
    }


def _collect_once(world: World) -> None:
    from portal.outgoing_invoices.services import outgoing_collect

    outgoing_collect(environment=world.environment)


def _outgoing_count(world: World) -> int:
    from portal.outgoing_invoices.models import OutgoingInvoice

    return OutgoingInvoice.objects.filter(environment_id=world.environment_id).count()


def _collect_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.outgoing_invoices.models import OutgoingInvoice

    rows = OutgoingInvoice.objects.filter(environment_id=world.environment_id)
    identities = list(rows.values_list("afas_identity", flat=True))
    ok = len(identities) == subject["expected"] == len(set(identities))
    return ok, f"{len(identities)} invoices collected (of {subject['expected']}), {len(set(identities))} distinct"


def _control(world: World, once: Callable[[World], None], measure: Callable[[World], Any]) -> Any:
    """What the operation leaves behind without any fault (run in a savepoint that is rolled back)."""
    from django.db import transaction

    snapshot = world.snapshot()
    world.calls.clear()
    with transaction.atomic():
        once(world)
        result = measure(world)
        transaction.set_rollback(True)
    world.restore(snapshot)
    return result


# AFAS read: debtors (the contacts sync)
def _sync_setup(world: World) -> dict:
    return {"remote": "GET /connectors/Peppol_Debtors", "expected": _control(world, _sync_once, _debtor_count)}


def _sync_once(world: World) -> None:
    from portal.contacts.services import contacts_sync

    contacts_sync(environment=world.environment, full=True)


def _debtor_count(world: World) -> int:
    from portal.contacts.models import Contact

    return Contact.objects.filter(
        environment_id=world.environment_id, kind=Contact.Kind.DEBTOR, afas_state=Contact.AfasState.ACTIVE
    ).count()


def _sync_run(world: World, subject: dict) -> Exception | None:
    from portal.contacts.services import contacts_sync

    contacts_sync(environment=world.environment, full=True)
    return None


def _sync_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    error = world.environment.contacts_sync_error
    if not error:
        return _completed(world, subject["remote"], baseline), "", None
    return _with_credentials(world, "afas", RETRY), error, None


def _sync_check(world: World, subject: dict) -> tuple[bool, str]:
    count = _debtor_count(world)
    error = world.environment.contacts_sync_error
    return count == subject["expected"] and not error, f"{count} debtors stored (of {subject['expected']}) {error}"


# Receiving: an invoice fetched and checked, READY to be delivered to AFAS
def _ready_incoming(world: World) -> int:
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.incoming_invoices.services import incoming_fetch, incoming_process

    incoming_fetch(environment=world.environment)
    for invoice in IncomingInvoice.objects.filter(environment_id=world.environment_id).order_by("pk"):
        incoming_process(invoice=invoice)
        invoice.refresh_from_db()
        if invoice.status == IncomingInvoice.Status.READY:
            return invoice.pk
    raise RuntimeError("the demo inbox has no invoice that is ready to deliver")


def _deliver_setup(world: World) -> dict:
    return {"remote": "POST /connectors/FiElectronicInvoicePurchase", "invoice": _ready_incoming(world)}


def _ack_setup(world: World) -> dict:
    return {"remote": "SetInboxDocumentStatus", "invoice": _ready_incoming(world)}


def _incoming(subject: dict):
    from portal.incoming_invoices.models import IncomingInvoice

    return IncomingInvoice.objects.get(pk=subject["invoice"])


def _deliver_run(world: World, subject: dict) -> Exception | None:
    from portal.incoming_invoices.services import incoming_deliver

    incoming_deliver(invoice=_incoming(subject))
    return None


def _deliver_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.incoming_invoices.models import IncomingInvoice

    Status = IncomingInvoice.Status
    invoice = _incoming(subject)
    if invoice.status in (Status.DELIVERED, Status.ACKNOWLEDGED):
        return _completed(world, subject["remote"], baseline), "", None
    if invoice.status == Status.RETRY_WAIT:
        return RETRY, invoice.last_error_message, _seconds_until(invoice.next_attempt_at)
    if invoice.status == Status.HELD and invoice.hold_reason == IncomingInvoice.HoldReason.DELIVERY_UNCERTAIN:
        return HOLD, invoice.last_error_message, None
    if invoice.status == Status.FAILED:
        return _with_credentials(world, "afas", STOP), invoice.last_error_message, None
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def _deliver_complete(world: World, subject: dict) -> None:
    """The scheduled retry; for a held or failed invoice what a person does: look in AFAS, then deliver again or
    mark it resolved."""
    from django.utils import timezone

    from portal.incoming_invoices.models import IncomingInvoice
    from portal.incoming_invoices.services import (
        incoming_acknowledge,
        incoming_confirm_in_afas,
        incoming_deliver,
        incoming_deliver_again,
        incoming_resolve_manually,
    )

    Status = IncomingInvoice.Status
    invoice = _incoming(subject)
    if invoice.status == Status.HELD or invoice.status == Status.FAILED:
        if world.afas_deliveries(invoice.sha256):
            if not incoming_confirm_in_afas(invoice=invoice, actor=world.actor, reason="Checked: it is in AFAS."):
                incoming_resolve_manually(invoice=invoice, actor=world.actor, reason="Checked: it is in AFAS.")
            return
        incoming_deliver_again(invoice=invoice, actor=world.actor, reason="Checked: not in AFAS.")
    IncomingInvoice.objects.filter(pk=invoice.pk).update(next_attempt_at=timezone.now())
    invoice = _incoming(subject)
    if invoice.status == Status.DELIVERED:
        incoming_acknowledge(invoice=invoice)
    else:
        incoming_deliver(invoice=invoice)


def _deliver_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.incoming_invoices.models import IncomingInvoice

    invoice = _incoming(subject)
    booked = world.afas_deliveries(invoice.sha256)
    final = invoice.status in (IncomingInvoice.Status.ACKNOWLEDGED, IncomingInvoice.Status.RESOLVED_MANUALLY)
    return booked == 1 and final, f"booked {booked}x in AFAS, {invoice.status}"


def _ack_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.incoming_invoices.models import IncomingInvoice

    invoice = _incoming(subject)
    if invoice.status == IncomingInvoice.Status.ACKNOWLEDGED:
        return _completed(world, subject["remote"], baseline), "", None
    if invoice.status == IncomingInvoice.Status.DELIVERED and invoice.last_error_message:
        decision = _with_credentials(world, "econnect", RETRY)
        return decision, invoice.last_error_message, _seconds_until(invoice.next_attempt_at)
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def _ack_check(world: World, subject: dict) -> tuple[bool, str]:
    from integrations.econnect.simulator import statuses
    from portal.incoming_invoices.models import IncomingInvoice

    invoice = _incoming(subject)
    booked = world.afas_deliveries(invoice.sha256)
    code = world.econnect_inbox_code(invoice.econnect_document_id)
    processed = statuses.inbox_label(statuses.DEFAULT_INBOX_TEMPLATE, code) == "processed"
    ok = booked == 1 and processed and invoice.status == IncomingInvoice.Status.ACKNOWLEDGED
    return ok, f"booked {booked}x in AFAS, eConnect status {code}, {invoice.status}"


# AFAS write: the write-back job puts each reachable customer's identifier in AFAS (EnId)
def _write_back_setup(world: World) -> dict:
    from portal.contacts.lookups import contacts_look_up_due
    from portal.contacts.models import Contact

    _sync_once(world)
    contacts_look_up_due()
    reachable = Contact.objects.filter(
        environment_id=world.environment_id, kind=Contact.Kind.DEBTOR, lookup_outcome=Contact.LookupOutcome.REACHABLE
    )
    to_write = [contact.pk for contact in reachable if not contact.peppol_identifier_in_afas]
    if not to_write:
        raise RuntimeError("the demo has no reachable customer whose identifier is missing in AFAS")
    return {"remote": "PUT /connectors/KnSalesRelationOrg", "contacts": to_write}


def _write_back_job(world: World) -> int:
    from portal.contacts.lookups import contact_job_start
    from portal.contacts.models import ContactJob

    return contact_job_start(environment=world.environment, kind=ContactJob.Kind.WRITE_BACK, actor=world.actor).pk


def _write_back_run(world: World, subject: dict) -> Exception | None:
    from portal.contacts.lookups import contact_job_run_chunk

    subject["job"] = _write_back_job(world)
    subject["next_in"] = contact_job_run_chunk(job_id=subject["job"])
    return None


def _write_back_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.contacts.models import ContactJob
    from portal.events.models import Event

    job = ContactJob.objects.get(pk=subject["job"])
    if job.state == ContactJob.State.RUNNING:
        return _with_credentials(world, "afas", RETRY), job.last_error, subject["next_in"]
    if job.state == ContactJob.State.FAILED:
        return _with_credentials(world, "afas", STOP), job.last_error, None
    if job.failed:
        event = Event.objects.filter(kind="identifier_write_back_failed").order_by("-pk").first()
        return _with_credentials(world, "afas", SKIP), event.message if event else "", None
    return _completed(world, subject["remote"], baseline), "", None


def _write_back_complete(world: World, subject: dict) -> None:
    """A paused job goes on by itself; a stopped one (or one with failures) a person starts again."""
    from portal.contacts.lookups import contact_job_run_chunk
    from portal.contacts.models import ContactJob

    job = ContactJob.objects.get(pk=subject["job"])
    job_id = job.pk if job.state == ContactJob.State.RUNNING else _write_back_job(world)
    for _ in range(20):
        if contact_job_run_chunk(job_id=job_id) is None:
            return


def _write_back_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.contacts.lookups import econnect_id_for
    from portal.contacts.models import Contact

    rows = world.afas_debtor_rows()
    wrong = [
        contact.afas_id
        for contact in Contact.objects.filter(pk__in=subject["contacts"])
        if rows[contact.afas_id].get("EnId") != econnect_id_for(contact)
    ]
    return not wrong, f"{len(subject['contacts']) - len(wrong)} of {len(subject['contacts'])} EnIds right in AFAS"


# Sending: an invoice READY to submit (collected and prepared)
def _ready_outgoing(world: World) -> int:
    from portal.outgoing_invoices.models import OutgoingInvoice
    from portal.outgoing_invoices.services import outgoing_collect, outgoing_prepare

    outgoing_collect(environment=world.environment)
    for invoice in OutgoingInvoice.objects.filter(environment_id=world.environment_id).order_by("pk"):
        outgoing_prepare(invoice=invoice)
        invoice.refresh_from_db()
        if invoice.status == OutgoingInvoice.Status.READY:
            return invoice.pk
    raise RuntimeError("the demo has no sales invoice that is ready to send")


def _login_setup(world: World) -> dict:
    return {"remote": "Login", "invoice": _ready_outgoing(world)}


def _send_setup(world: World) -> dict:
    return {"remote": "SendDocument", "invoice": _ready_outgoing(world)}


def _outgoing(subject: dict):
    from portal.outgoing_invoices.models import OutgoingInvoice

    return OutgoingInvoice.objects.get(pk=subject["invoice"])


def _submit_run(world: World, subject: dict) -> Exception | None:
    from portal.outgoing_invoices.services import outgoing_submit

    outgoing_submit(invoice=_outgoing(subject))
    return None


def _submit_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.outgoing_invoices.models import OutgoingInvoice

    Status = OutgoingInvoice.Status
    invoice = _outgoing(subject)
    if invoice.status == Status.SUBMITTED:
        return _completed(world, subject["remote"], baseline), "", None
    if invoice.status == Status.RETRY_WAIT:
        return RETRY, invoice.last_error_message, _seconds_until(invoice.next_attempt_at)
    if invoice.status in (Status.NEEDS_ATTENTION, Status.FAILED):
        return _with_credentials(world, "econnect", STOP), invoice.last_error_message, None
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def _submit_complete(world: World, subject: dict) -> None:
    """The scheduled retry; for an invoice that needs attention, a person fixes the keys and retries it."""
    from django.utils import timezone

    from portal.outgoing_invoices.models import OutgoingInvoice
    from portal.outgoing_invoices.services import outgoing_retry, outgoing_submit

    invoice = _outgoing(subject)
    if invoice.status in (OutgoingInvoice.Status.NEEDS_ATTENTION, OutgoingInvoice.Status.FAILED):
        outgoing_retry(invoice=invoice, actor=world.actor, reason="Connection keys fixed.")
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(next_attempt_at=timezone.now())
    outgoing_submit(invoice=_outgoing(subject))


def _submit_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.outgoing_invoices.models import OutgoingInvoice

    invoice = _outgoing(subject)
    sent = world.econnect_sent(invoice.invoice_number)
    return sent == 1 and invoice.status == OutgoingInvoice.Status.SUBMITTED, f"sent {sent}x, {invoice.status}"


# Sending: the status of a submitted invoice
def _status_setup(world: World) -> dict:
    from portal.outgoing_invoices.services import outgoing_submit

    subject = {"remote": "GetOutboxDocumentStatus", "invoice": _ready_outgoing(world)}
    outgoing_submit(invoice=_outgoing(subject))
    world.advance_econnect_clock(120)  # delivered by now at eConnect
    return subject


def _status_run(world: World, subject: dict) -> Exception | None:
    from portal.outgoing_invoices.services import outgoing_follow_status

    outgoing_follow_status(invoice=_outgoing(subject))
    return None


def _status_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.outgoing_invoices.models import OutgoingInvoice

    invoice = _outgoing(subject)
    if invoice.status == OutgoingInvoice.Status.DELIVERED:
        return _completed(world, subject["remote"], baseline), "", None
    if invoice.status == OutgoingInvoice.Status.SUBMITTED:
        decision = _with_credentials(world, "econnect", RETRY)
        # A failed poll shows nothing on the invoice (it is polled again); refused keys show on the environment.
        message = world.environment.econnect_failure if decision.endswith(CREDENTIALS) else ""
        return decision, message, _seconds_until(invoice.next_attempt_at)
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def _status_complete(world: World, subject: dict) -> None:
    from portal.outgoing_invoices.services import outgoing_follow_status

    outgoing_follow_status(invoice=_outgoing(subject))


def _status_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.outgoing_invoices.models import OutgoingInvoice

    invoice = _outgoing(subject)
    sent = world.econnect_sent(invoice.invoice_number)
    return sent == 1 and invoice.status == OutgoingInvoice.Status.DELIVERED, f"sent {sent}x, {invoice.status}"


# Receiving: the inbox listing and the download of each document
def _fetch_setup(remote: str):
    def setup(world: World) -> dict:
        return {"remote": remote, "expected": _control(world, _fetch_once, _incoming_ids)}

    return setup


def _fetch_once(world: World) -> None:
    from portal.incoming_invoices.services import incoming_fetch

    incoming_fetch(environment=world.environment)


def _incoming_ids(world: World) -> list[str]:
    from portal.incoming_invoices.models import IncomingInvoice

    return sorted(
        IncomingInvoice.objects.filter(environment_id=world.environment_id).values_list(
            "econnect_document_id", flat=True
        )
    )


def _fetch_check(world: World, subject: dict) -> tuple[bool, str]:
    ids = _incoming_ids(world)
    return ids == subject["expected"], f"{len(ids)} documents stored (of {len(subject['expected'])}), each once"


# Peppol lookup: the background lookups of customers that are due
def _lookup_setup(world: World) -> dict:
    from portal.contacts.lookups import contacts_look_up_due

    _sync_once(world)
    return {"remote": "deliveryOption", "expected": _control(world, lambda w: contacts_look_up_due(), _outcomes)}


def _outcomes(world: World) -> dict[int, str]:
    from portal.contacts.models import Contact

    return dict(
        Contact.objects.filter(environment_id=world.environment_id, kind=Contact.Kind.DEBTOR).values_list(
            "pk", "lookup_outcome"
        )
    )


def _lookup_run(world: World, subject: dict) -> Exception | None:
    from portal.contacts.lookups import contacts_look_up_due

    contacts_look_up_due()
    return None


def _lookup_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.contacts.models import Contact

    failed = (
        Contact.objects.filter(environment_id=world.environment_id).exclude(lookup_error="").order_by("lookup_due_at")
    )
    first = failed.first()
    if first is None:
        return _completed(world, subject["remote"], baseline), "", None
    return RETRY, first.lookup_error, _seconds_until(first.lookup_due_at)


def _lookup_complete(world: World, subject: dict) -> None:
    from django.utils import timezone

    from portal.contacts.lookups import contacts_look_up_due
    from portal.contacts.models import Contact

    Contact.objects.filter(environment_id=world.environment_id).exclude(lookup_error="").update(
        lookup_due_at=timezone.now()
    )
    contacts_look_up_due()


def _lookup_check(world: World, subject: dict) -> tuple[bool, str]:
    outcomes = _outcomes(world)
    differ = sum(1 for pk, outcome in subject["expected"].items() if outcomes.get(pk) != outcome)
    return not differ, f"{len(outcomes) - differ} of {len(outcomes)} customers with their lookup outcome"


def _fetch_run(world: World, subject: dict) -> Exception | None:
    return _raises(lambda: _fetch_once(world))


def _fetch_complete(world: World, subject: dict) -> None:
    _fetch_once(world)


def _collect_run(world: World, subject: dict) -> Exception | None:
    return _raises(lambda: _collect_once(world))


def _collect_complete(world: World, subject: dict) -> None:
    _collect_once(world)


OPERATIONS = (
    Operation("afas_read_invoices", "AFAS read: sales invoices (collect)", "afas",
              "GET /connectors/ProfitSubjectsAuthorized",
              _collect_setup, _collect_run, _raised_decision("afas"), _collect_complete, _collect_check),
    Operation("afas_read_debtors", "AFAS read: debtors (contacts sync)", "afas", "GET /connectors/Peppol_Debtors",
              _sync_setup, _sync_run, _sync_decide, lambda w, s: _sync_once(w), _sync_check),
    Operation("afas_deliver", "AFAS write: purchase invoice (deliver)", "afas",
              "POST /connectors/FiElectronicInvoicePurchase",
              _deliver_setup, _deliver_run, _deliver_decide, _deliver_complete, _deliver_check),
    Operation("afas_write_back", "AFAS write: debtor EnId (write-back)", "afas", "PUT /connectors/KnSalesRelationOrg",
              _write_back_setup, _write_back_run, _write_back_decide, _write_back_complete, _write_back_check),
    Operation("econnect_login", "eConnect login (before a send)", "econnect", "Login",
              _login_setup, _submit_run, _submit_decide, _submit_complete, _submit_check),
    Operation("econnect_send", "eConnect send (submit)", "econnect", "SendDocument",
              _send_setup, _submit_run, _submit_decide, _submit_complete, _submit_check),
    Operation("econnect_status", "eConnect status (follow-up)", "econnect", "GetOutboxDocumentStatus",
              _status_setup, _status_run, _status_decide, _status_complete, _status_check),
    Operation("econnect_inbox", "eConnect inbox (fetch: list)", "econnect", "GetInboxDocuments",
              _fetch_setup("GetInboxDocuments"), _fetch_run, _raised_decision("econnect"), _fetch_complete,
              _fetch_check),
    Operation("econnect_download", "eConnect download (fetch: document)", "econnect", "GetInboxDocument",
              _fetch_setup("GetInboxDocument"), _fetch_run, _raised_decision("econnect"), _fetch_complete,
              _fetch_check),
    Operation("econnect_acknowledge", "eConnect acknowledge", "econnect", "SetInboxDocumentStatus",
              _ack_setup, _deliver_run, _ack_decide, _deliver_complete, _ack_check),
    Operation("peppol_lookup", "Peppol lookup (customers due)", "lookup", "deliveryOption",
              _lookup_setup, _lookup_run, _lookup_decide, _lookup_complete, _lookup_check),
)  # fmt: skip
OPERATIONS_BY_KEY = {operation.key: operation for operation in OPERATIONS}


# --- running ----------------------------------------------------------------------------------------------------------


def run_cell(world: World, operation: Operation, subject: Any, fault: str) -> Outcome:
    """One cell, in a savepoint that is rolled back; the simulators are restored by the caller."""
    from django.db import transaction

    started = time.monotonic()
    spec = fault_spec(fault, service=operation.service, operation=operation.remote)
    if spec is None:
        return judge(Outcome(operation.key, fault, NOT_APPLICABLE))
    subject = copy.deepcopy(subject)
    with transaction.atomic():
        baseline = subject.pop("baseline_calls", 0)
        app, fields = spec
        world.inject(app, **fields)
        exc = operation.run(world, subject)
        decision, message, next_in = operation.decide(world, subject, exc, baseline)
        world.clear_faults()
        operation.complete(world, subject)
        exactly_once, detail = operation.check(world, subject)
        transaction.set_rollback(True)
    outcome = Outcome(operation.key, fault, decision, " ".join((message or "").split()), next_in, exactly_once, detail)
    outcome.seconds = time.monotonic() - started
    return judge(outcome)


def _baseline_calls(world: World, operation: Operation, subject: Any) -> int:
    """How often the operation calls the remote without a fault: more calls in a cell means it retried at once."""
    return _control(
        world, lambda w: operation.run(w, copy.deepcopy(subject)), lambda w: w.count_calls(operation.remote)
    )


def run_matrix(*, operations: list[str] | None = None, faults: list[str] | None = None) -> list[Outcome]:
    """The whole matrix (or a part), in the current database; every change is rolled back."""
    from django.db import transaction

    outcomes = []
    for operation in OPERATIONS:
        if operations and operation.key not in operations:
            continue
        with transaction.atomic(), simulated_world() as world:
            subject = operation.setup(world)
            snapshot = world.snapshot()
            subject["baseline_calls"] = _baseline_calls(world, operation, subject)
            for kind in FAULT_KINDS:
                if faults and kind.key not in faults:
                    continue
                world.restore(snapshot)
                outcomes.append(run_cell(world, operation, subject, kind.key))
            transaction.set_rollback(True)
    return outcomes


# --- the table --------------------------------------------------------------------------------------------------------


def _cell_text(outcome: Outcome | None) -> str:
    if outcome is None:
        return ""
    if outcome.decision == NOT_APPLICABLE:
        return NOT_APPLICABLE
    mark = "✓" if outcome.exactly_once else "✗"
    flag = "" if outcome.ok else (" !" if not outcome.known_failure else " ~")
    return f"{outcome.decision} {mark}{flag}"


def format_table(outcomes: list[Outcome]) -> str:
    kinds = [kind for kind in FAULT_KINDS if any(o.fault == kind.key for o in outcomes)]
    rows = [o for o in OPERATIONS if any(x.operation == o.key for x in outcomes)]
    cells = {(o.operation, o.fault): o for o in outcomes}
    first = max(len(op.label) for op in rows)
    widths = [max(len(kind.label), *(len(_cell_text(cells.get((op.key, kind.key)))) for op in rows)) for kind in kinds]
    lines = [
        " | ".join([" " * first, *(kind.label.ljust(width) for kind, width in zip(kinds, widths, strict=True))]),
    ]
    lines.append("-+-".join(["-" * first, *("-" * width for width in widths)]))
    for op in rows:
        texts = [
            _cell_text(cells.get((op.key, kind.key))).ljust(width) for kind, width in zip(kinds, widths, strict=True)
        ]
        lines.append(" | ".join([op.label.ljust(first), *texts]))
    return "\n".join(lines)


def format_details(outcomes: list[Outcome], *, all_cells: bool) -> str:
    lines = []
    for outcome in outcomes:
        if outcome.decision == NOT_APPLICABLE or (outcome.ok and not all_cells):
            continue
        label = OPERATIONS_BY_KEY[outcome.operation].label
        when = f", next try in {outcome.next_in:.0f} s" if outcome.next_in is not None else ""
        lines.append(f"- {label} × {FAULTS[outcome.fault].label}: {outcome.decision}{when}; {outcome.detail}")
        if outcome.message:
            lines.append(f"    message: {outcome.message[:300]}")
        for problem in outcome.problems:
            lines.append(f"    MISMATCH: {problem}")
        if outcome.known_failure and outcome.problems:
            lines.append(f"    known failure: {outcome.known_failure}")
    return "\n".join(lines)


def report(outcomes: list[Outcome], *, seconds: float, verbose: bool) -> int:
    print(format_table(outcomes))
    print()
    print("decision ✓/✗ = exactly-once outcome at the remote after the fault is gone; ! = differs from the")
    print("specification (campaigns.faults.EXPECTED); ~ = known failure (KNOWN_FAILURES).")
    details = format_details(outcomes, all_cells=verbose)
    if details:
        print()
        print(details)
    failing = [o for o in outcomes if not o.ok and not o.known_failure]
    known = [o for o in outcomes if not o.ok and o.known_failure]
    cells = sum(1 for o in outcomes if o.decision != NOT_APPLICABLE)
    print()
    print(
        f"{cells} cells ({len(outcomes) - cells} not applicable) in {seconds:.1f} s: "
        f"{cells - len(failing) - len(known)} as specified, {len(known)} known failures, {len(failing)} mismatches."
    )
    return 1 if failing else 0


# --- the command ------------------------------------------------------------------------------------------------------


def _configure(var_dir: str) -> None:
    """Settings for a run outside the test suite (before Django is imported): eager tasks, throwaway secrets."""
    import uuid

    from cryptography.fernet import Fernet

    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("SECRET_KEY", "fault-campaign-only-" + uuid.uuid4().hex)
    os.environ["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["PORTAL_VAR_DIR"] = var_dir
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    shared = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "peppol")
    if os.path.isdir(shared):
        os.environ.setdefault("PEPPOL_RULES_DIR", os.path.normpath(shared))


def _run(args: argparse.Namespace) -> int:
    import django
    from django.core.management import call_command

    django.setup()
    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"Database ready in {time.monotonic() - started:.1f} s; running the fault matrix.", flush=True)
    started = time.monotonic()
    outcomes = run_matrix(operations=args.only or None, faults=args.fault or None)
    return report(outcomes, seconds=time.monotonic() - started, verbose=args.verbose)


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m campaigns.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=list(OPERATIONS_BY_KEY), help="an operation (repeatable)")
    parser.add_argument("--fault", action="append", choices=list(FAULTS), help="a fault kind (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="the message and check of every cell")
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        from tests.stack.database import run_in_throwaway_database

        def run() -> int:
            os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
            os.environ["CELERY_BROKER_URL"] = "memory://"
            os.environ.setdefault("LOG_LEVEL", "ERROR")
            return _run(args)

        return run_in_throwaway_database(
            run, benchmark="faults", bench_db="rel_faults_campaign", keep_db=False, needs_broker=False, eager=True
        )
    with tempfile.TemporaryDirectory(prefix="fault-campaign-") as var_dir:
        _configure(var_dir)
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/campaign.sqlite3"
        return _run(args)


if __name__ == "__main__":
    sys.exit(main())
