"""The fault campaign's world and vocabulary: the decisions a cell can end in, the fault kinds, both simulators
in-process with the portal's clients pointed at them (``simulated_world``), the fault of each kind for an operation
(``fault_spec``) and what an ``Operation`` of the matrix consists of. ``campaigns.faults`` runs the matrix."""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


PSB_PARTICIPANT = "11223"  # the demo environment on eConnect PSB (integrations.demo_data)
# eConnect PSB's calls by their path, named as the simulator names them (its faults match these names).
_PSB_OPERATIONS = (
    ("POST", re.compile(r"/connect/token$"), "psb.token"),
    ("GET", re.compile(r"/\.well-known/openid-configuration$"), "psb.discovery"),
    ("POST", re.compile(r"/api/v1/[^/]+/salesInvoice/send$"), "psb.send"),
    ("POST", re.compile(r"/api/v1/[^/]+/salesInvoice/queryRecipientParty$"), "psb.query"),
    ("GET", re.compile(r"/api/v1/[^/]+/salesInvoice/[^/]+/status$"), "psb.status"),
    ("GET", re.compile(r"/api/v1/[^/]+/purchaseInvoice/[^/]+/download$"), "psb.download"),
    ("POST", re.compile(r"/api/v1/[^/]+/purchaseInvoice/[^/]+/response$"), "psb.response"),
    ("DELETE", re.compile(r"/api/v1/[^/]+/purchaseInvoice/[^/]+$"), "psb.delete"),
)


def _operation_name(request) -> str:
    action = request.headers.get("soapaction", "").strip().strip('"')
    if action:
        return action.rsplit("/", 1)[-1]
    path = request.url.path
    if path.endswith("/peppol/deliveryOption"):
        return "deliveryOption"
    for method, pattern, name in _PSB_OPERATIONS:
        if request.method == method and pattern.search(path):
            return name
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
        from integrations.econnect.psb.auth import forget_tokens

        self.afas_app.state.data, self.econnect_app.state.data = copy.deepcopy(snapshot[0]), copy.deepcopy(snapshot[1])
        self.clear_faults()
        self.calls.clear()
        forget_tokens()  # the simulator's tokens went back with its state; a PSB cell starts by asking for one

    # what the remote holds
    def afas_deliveries(self, sha256: str) -> int:
        deliveries = self.afas_app.environments[self.afas_key]["delivered"]["purchase_invoices"]
        return sum(1 for delivery in deliveries if delivery.get("xml_sha256") == sha256)

    def afas_debtor_rows(self) -> dict[str, dict]:
        rows = self.afas_app.environments[self.afas_key]["get_connectors"]["Peppol_Debtors"]["rows"]
        return {str(row["DebtorId"]): row for row in rows}

    def econnect_sent(self, number: str) -> int:
        """How often eConnect took the invoice, over the platform API or PSB."""
        data = self.econnect_app.state.data
        over_psb = sum(1 for doc in data.get("psb", {}).get("sent", {}).values() if doc.get("number") == number)
        return over_psb + sum(1 for doc in data["outbox"] if doc.get("number") == number)

    def econnect_inbox_code(self, external_id: str) -> str:
        for doc in self.econnect_app.state.data["inbox"]:
            if doc["external_id"] == external_id:
                return doc["status_code"]
        return ""

    def advance_econnect_clock(self, seconds: float) -> None:
        self.econnect_app.state.data["clock_offset"] += seconds


@contextlib.contextmanager
def simulated_world(*, psb: bool = False) -> Iterator[World]:
    """Both simulators seeded with the demo, the portal's demo data, and every client factory of
    ``portal.organisations.clients`` pointed at the simulators with the campaign's short timeout. The world's
    environment is the demo's Profit production environment on the platform SOAP API, or (``psb``) the one on
    eConnect PSB."""
    import httpx
    from django.test import override_settings

    from integrations.afas import simulator as afas_simulator
    from integrations.econnect import simulator as econnect_simulator
    from integrations.econnect.psb.auth import forget_tokens
    from integrations.simulators.transport import SimulatorTransport
    from portal.accounts.models import User
    from portal.organisations import clients
    from portal.organisations.demo import ACCOUNTANT_LOGIN, demo_seed
    from portal.organisations.models import Environment

    forget_tokens()  # a token of an earlier world's simulator means nothing to this one
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
            ECONNECT_PSB_URL="http://127.0.0.1:8102",
            ECONNECT_PSB_IDENTITY_URL="http://127.0.0.1:8102",
            ECONNECT_SIMULATOR_CONTROL_URL="",
            PEPPOL_LOOKUP_MAX_PER_SECOND=1000.0,
            PEPPOL_LOOKUP_TIMEOUT_SECONDS=TIMEOUT_SECONDS,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ):
            demo_seed()
            participant = PSB_PARTICIPANT if psb else "12345"
            environment = Environment.objects.get(
                afas_participant_number=participant, afas_environment_type="production"
            )
            Environment.objects.filter(pk=environment.pk).update(sending_enabled=True, receiving_enabled=True)
            yield World(environment.pk, afas_app, econnect_app, calls, User.objects.get(username=ACCOUNTANT_LOGIN[0]))
    finally:
        for name, factory in originals.items():
            setattr(clients, name, factory)


def fault_spec(kind: str, *, service: str, operation: str) -> tuple[str, dict] | None:
    """(simulator, Fault fields) for one fault kind on one operation; None where the fault does not exist there."""
    from integrations.econnect.errors import INVALID_KEY_OR_TOKEN
    from integrations.econnect.simulator.common import TOKEN_EXPIRED, soap_fault_body

    app = "afas" if service == "afas" else "econnect"  # eConnect's simulator serves SOAP, PSB and the lookup
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
    elif service == "psb":
        json_body = {"Content-Type": "application/json"}
        specs["credentials"] = {  # the identity host refuses the client id and secret (G-PSB-5)
            "operation": "psb.token",
            "status": 400,
            "body": '{"error": "invalid_client"}',
            "headers": json_body,
        }
        specs["token_expired"] = {
            "status": 401,
            "body": "",
            "headers": {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        }
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


def raises(call: Callable[[], Any]) -> Exception | None:
    from integrations.http import RemoteError

    try:
        call()
    except RemoteError as exc:
        return exc
    return None


def seconds_until(moment: datetime | None) -> float | None:
    from django.utils import timezone

    return None if moment is None else (moment - timezone.now()).total_seconds()


def with_credentials(world: World, service: str, decision: str) -> str:
    environment = world.environment
    flagged = (environment.afas_failing_since if service == "afas" else environment.econnect_failing_since) is not None
    return decision + CREDENTIALS if flagged else decision


def completed(world: World, remote: str, baseline: int) -> str:
    return RETRIED_NOW if world.count_calls(remote) > baseline else DONE


def raised_decision(service: str):
    """For a periodic operation that raises: it is tried again at the next run."""

    def decide(world: World, subject: Any, exc: Exception | None, baseline: int):
        if exc is None:
            return completed(world, subject["remote"], baseline), "", None
        return with_credentials(world, service, RETRY), exc.message, None

    return decide


def control(world: World, once: Callable[[World], None], measure: Callable[[World], Any]) -> Any:
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
