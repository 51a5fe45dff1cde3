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
import copy
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from campaigns.fault_operations import OPERATIONS as SOAP_OPERATIONS
from campaigns.fault_operations_psb import OPERATIONS as PSB_OPERATIONS
from campaigns.fault_world import (
    CREDENTIALS,
    FAULT_KINDS,
    FAULTS,
    HOLD,
    NOT_APPLICABLE,
    RETRIED_NOW,
    RETRY,
    RETRY_AFTER_SECONDS,
    SKIP,
    STOP,
    Operation,
    World,
    control,
    fault_spec,
    simulated_world,
)
from integrations.econnect.soap_sessions import forget_sessions

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
    # eConnect PSB: the document id makes a repeated send a 409 ("already processed"), so after any doubt the submit
    # is simply repeated; an expired token is renewed once and the call repeated.
    "psb_send": {**_ECONNECT_READ, "credentials": STOP + CREDENTIALS},
    "psb_status": dict(_ECONNECT_READ),
    "psb_download": dict(_ECONNECT_READ),  # the webhook's event waits and is processed again later
    "psb_acknowledge": dict(_ECONNECT_READ),
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


OPERATIONS = (*SOAP_OPERATIONS, *PSB_OPERATIONS)
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
    forget_sessions()  # each cell is a worker's first call: it logs in to eConnect (where a key fault shows)
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
    forget_sessions()
    return control(world, lambda w: operation.run(w, copy.deepcopy(subject)), lambda w: w.count_calls(operation.remote))


def run_matrix(*, operations: list[str] | None = None, faults: list[str] | None = None) -> list[Outcome]:
    """The whole matrix (or a part), in the current database; every change is rolled back."""
    from django.db import transaction

    outcomes = []
    for operation in OPERATIONS:
        if operations and operation.key not in operations:
            continue
        with transaction.atomic(), simulated_world(psb=operation.service == "psb") as world:
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
