"""Sending end to end: a real Celery worker (and beat), Redis, PostgreSQL and both simulators over HTTP.

What the in-process tests (tests/portal/outgoing_invoices/test_sending.py) prove step by step, proven here with
the moving parts that fail in production: separate processes, a broker between the steps, sockets that time out
or drop, and a worker killed with SIGKILL halfway through a submit.

Waiting is bounded and polls the database. Where production waits for wall-clock time (the 30 s before the first
status poll, eConnect's delivery after a minute), the test moves the clocks instead: the eConnect simulator's
clock, and ``next_attempt_at`` of submitted invoices.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.afas.models import ConnectorNames
from portal.organisations.models import Environment
from portal.outgoing_invoices import tasks
from portal.outgoing_invoices.models import OutgoingInvoice

pytestmark = pytest.mark.e2e

Status = OutgoingInvoice.Status
ENVIRONMENT = ("12345", "production")
ENVIRONMENT_KEY = "-".join(ENVIRONMENT)
SEEDED_INVOICES = 5  # the demo dossier of 12345-production (integrations/afas/simulator/demo.py), all receivable
CAN_RECEIVE = ("10001", "10002", "10003", "10007", "10012")  # on Peppol (demo_data.CUSTOMERS)
CANNOT_RECEIVE = ("10004", "10011")  # their identifiers are registered nowhere on Peppol
ACCEPTED = (Status.SUBMITTED, Status.DELIVERED)
SETTLED = (*ACCEPTED, Status.NEEDS_ATTENTION, Status.NOT_SENT, Status.FAILED, Status.REJECTED)
WAIT = 40.0


def environment() -> Environment:
    return Environment.objects.get(afas_participant_number=ENVIRONMENT[0], afas_environment_type=ENVIRONMENT[1])


def outbox() -> dict[str, str]:
    """AFAS identity → status of everything collected for the environment."""
    return dict(OutgoingInvoice.objects.filter(environment=environment()).values_list("afas_identity", "status"))


def by_customer() -> dict[str, tuple[str, str]]:
    rows = OutgoingInvoice.objects.filter(environment=environment()).values_list(
        "invoice_number", "afas_organisation_code", "status"
    )
    return {number: (organisation, status) for number, organisation, status in rows}


def all_in(statuses: tuple[str, ...], expected: int) -> Callable[[], bool]:
    def check() -> bool:
        current = outbox()
        return len(current) == expected and all(status in statuses for status in current.values())

    return check


def issue(stack, debtors, times: int = 1) -> list[str]:
    numbers = []
    for _ in range(times):
        for debtor in debtors:
            numbers.append(stack.issue_sales_invoice(ENVIRONMENT_KEY, debtor)["number"])
    return numbers


def collect_now() -> None:
    """What beat does every 15 s, with the environment's polling interval as if it had passed."""
    Environment.objects.filter(pk=environment().pk).update(next_collect_at=None)
    tasks.dispatch_collects.delay()


def time_passes_for_submitted() -> None:
    """The 30 s before the first status poll, and eConnect's minute to deliver, pass at once."""
    OutgoingInvoice.objects.filter(status=Status.SUBMITTED).update(next_attempt_at=timezone.now())


def assert_each_sent_exactly_once(stack, expected: int) -> None:
    counts = stack.sent_counts()
    assert sorted(counts.values()) == [1] * expected, counts
    numbers = {reference.split("|")[1] for reference in counts}
    accepted = dict(
        OutgoingInvoice.objects.filter(environment=environment(), status__in=ACCEPTED).values_list(
            "invoice_number", "econnect_document_id"
        )
    )
    assert numbers == set(accepted), (numbers, accepted)
    assert all(accepted.values()) and len(set(accepted.values())) == expected


def deliver_all(stack, expected_sent: int) -> None:
    stack.advance_econnect_clock(120)
    stack.wait_until(
        lambda: (
            OutgoingInvoice.objects.filter(environment=environment(), status=Status.DELIVERED).count() == expected_sent
        ),
        timeout=WAIT,
        what=f"{expected_sent} invoices DELIVERED",
        tick=lambda: (time_passes_for_submitted(), tasks.work_due.delay()),
        tick_every=1.0,
    )


# --- the happy path, driven by a real celery beat ---------------------------------------------------------------------


def test_issued_invoices_are_collected_sent_once_and_delivered_with_beat_and_a_worker(stack):
    from django_celery_beat.models import PeriodicTask

    from portal.core.schedules import periodic_tasks_sync

    issue(stack, CAN_RECEIVE)
    issue(stack, CANNOT_RECEIVE)
    receivable = SEEDED_INVOICES + len(CAN_RECEIVE)
    total = receivable + len(CANNOT_RECEIVE)
    # Beat syncs the schedules at start and keeps their last run: one that ran long ago is due at once.
    periodic_tasks_sync()
    PeriodicTask.objects.filter(task__startswith="outgoing.").update(last_run_at=timezone.now() - timedelta(hours=1))
    stack.start_beat()

    stack.wait_until(all_in(SETTLED, total), timeout=WAIT, what=f"{total} invoices collected and settled")

    invoices = by_customer()
    attention = {number for number, (organisation, _) in invoices.items() if organisation[3:] in CANNOT_RECEIVE}
    assert {invoices[number][1] for number in attention} == {Status.NEEDS_ATTENTION}
    assert len(attention) == len(CANNOT_RECEIVE)
    sent = {number for number, (_, status) in invoices.items() if status in ACCEPTED}
    assert len(sent) == receivable, invoices
    assert_each_sent_exactly_once(stack, receivable)
    assert not attention & {reference.split("|")[1] for reference in stack.sent_counts()}

    # Beat's next work_due (every 15 s) follows the statuses once they are due.
    stack.advance_econnect_clock(120)
    time_passes_for_submitted()
    stack.wait_until(
        lambda: (
            OutgoingInvoice.objects.filter(environment=environment(), status=Status.DELIVERED).count() == receivable
        ),
        timeout=25,
        what=f"{receivable} invoices DELIVERED by beat's work_due",
    )
    assert_each_sent_exactly_once(stack, receivable)
    assert (
        OutgoingInvoice.objects.filter(environment=environment(), status=Status.DELIVERED)
        .exclude(completed_at=None)
        .count()
        == receivable
    )


# --- faults over real HTTP -------------------------------------------------------------------------------------------


def test_econnect_answers_lost_after_acceptance_and_5xx_still_send_each_invoice_once(stack):
    issue(stack, CAN_RECEIVE)
    expected = SEEDED_INVOICES + len(CAN_RECEIVE)
    # Two sends whose connection drops after eConnect accepted (the answer is lost), then two 500s before it does.
    stack.econnect_fault(operation="SendDocument", phase="after", drop=True, count=2)
    stack.econnect_fault(operation="SendDocument", status=500, body="Internal error", count=2)

    collect_now()
    stack.wait_until(
        all_in(ACCEPTED, expected), timeout=WAIT, what="every invoice SUBMITTED", tick=tasks.work_due.delay
    )

    assert OutgoingInvoice.objects.filter(environment=environment(), attempts__gt=1).count() >= 3
    assert_each_sent_exactly_once(stack, expected)
    deliver_all(stack, expected)
    assert_each_sent_exactly_once(stack, expected)


def test_afas_unavailable_during_collect_loses_nothing_and_the_next_collect_takes_everything_once(stack):
    issue(stack, CAN_RECEIVE)
    expected = SEEDED_INVOICES + len(CAN_RECEIVE)
    dossier = f"GET /connectors/{ConnectorNames().dossier_items}"
    stack.afas_fault(operation=dossier, status=503, headers={"Retry-After": "120"}, count=None)

    collect_now()
    stack.wait_until(
        lambda: (
            any(f["hits"] for f in stack.afas_control("GET", "/_sim/faults").json()["faults"])
            and environment().collect_lease_until is None
        ),
        timeout=WAIT,
        what="the collect to meet the 503 and give up",
    )
    assert outbox() == {}

    stack.afas_control("DELETE", "/_sim/faults")
    collect_now()
    stack.wait_until(
        all_in(ACCEPTED, expected), timeout=WAIT, what="every invoice SUBMITTED", tick=tasks.work_due.delay
    )
    collect_now()  # and once more: nothing new, nothing twice
    time.sleep(1.0)

    assert len(outbox()) == expected
    assert_each_sent_exactly_once(stack, expected)


def test_econnect_tokens_expiring_mid_run_are_renewed(stack):
    # First the seeded invoices: the worker logs in and keeps its token (one task submits ten invoices in a moment,
    # so expiring tokens only while a run is under way would race it).
    collect_now()
    stack.wait_until(all_in(ACCEPTED, SEEDED_INVOICES), timeout=WAIT, what="the seeded invoices SUBMITTED")
    issue(stack, CAN_RECEIVE)
    expected = SEEDED_INVOICES + len(CAN_RECEIVE)
    app_key = environment().econnect_app_key
    stop = threading.Event()
    expired = []

    def expire_tokens() -> None:
        while not stop.is_set():
            expired.append(stack.econnect_control("POST", f"/_sim/accounts/{app_key}/expire-tokens").json()["expired"])
            stop.wait(0.05)

    expirer = threading.Thread(target=expire_tokens, daemon=True)
    expirer.start()
    try:
        collect_now()
        stack.wait_until(
            all_in(ACCEPTED, expected), timeout=WAIT, what="every invoice SUBMITTED", tick=tasks.work_due.delay
        )
    finally:
        stop.set()
        expirer.join(5)

    calls = stack.econnect_control("GET", "/_sim/calls").json()["counts"]
    # Tokens in use were expired under the worker, and it logged in again (a token is kept per process, so there is
    # no fixed number of logins per invoice).
    assert sum(expired) >= 1 and calls.get("Login", 0) >= 2, (sum(expired), calls)
    assert OutgoingInvoice.objects.filter(environment=environment(), last_error_kind="credentials").count() == 0
    assert_each_sent_exactly_once(stack, expected)


# --- a worker killed halfway through a submit ----------------------------------------------------------------------


def test_a_worker_killed_mid_submit_loses_nothing_and_sends_nothing_twice(stack):
    issue(stack, CAN_RECEIVE)
    expected = SEEDED_INVOICES + len(CAN_RECEIVE)
    # eConnect accepts at once but answers slowly: submits stay in flight long enough to be killed.
    stack.econnect_fault(operation="SendDocument", phase="after", delay=3.0, count=None)

    def accepted_but_unanswered() -> set[str]:
        """Numbers of invoices eConnect has accepted while the worker still waits for the answer."""
        at_econnect = {reference.split("|")[1] for reference in stack.sent_counts()}
        submitting = OutgoingInvoice.objects.filter(environment=environment(), status=Status.SUBMITTING)
        return set(submitting.values_list("invoice_number", flat=True)) & at_econnect

    collect_now()
    stack.wait_until(
        lambda: accepted_but_unanswered() and len(outbox()) == expected,
        timeout=WAIT,
        what="a submit eConnect accepted and has not answered yet",
        every=0.05,
    )
    stack.worker.kill()
    in_flight = set(
        OutgoingInvoice.objects.filter(environment=environment(), status=Status.SUBMITTING).values_list("pk", flat=True)
    )
    assert in_flight and accepted_but_unanswered()
    time.sleep(3.5)  # let eConnect finish accepting what the dead worker sent
    stack.econnect_control("DELETE", "/_sim/faults")
    # Prepares whose messages died with the worker are picked up after five minutes; let those pass.
    OutgoingInvoice.objects.filter(status=Status.NEW).update(status_changed_at=timezone.now() - timedelta(minutes=6))

    stack.start_worker()
    stack.wait_until(
        lambda: not OutgoingInvoice.objects.filter(pk__in=in_flight, status=Status.SUBMITTING).exists(),
        timeout=20.0,
        what="the sweeper to return the interrupted submits",
        tick=tasks.sweep.delay,
    )
    stack.wait_until(
        all_in(ACCEPTED, expected), timeout=WAIT, what="every invoice SUBMITTED", tick=tasks.work_due.delay
    )

    swept = OutgoingInvoice.objects.filter(pk__in=in_flight)
    assert all(invoice.attempts >= 2 for invoice in swept), [(i.pk, i.attempts) for i in swept]
    assert all(invoice.events.filter(actor_name="sweeper").exists() for invoice in swept), (
        "every interrupted submit was recovered by the sweeper"
    )
    assert_each_sent_exactly_once(stack, expected)
    deliver_all(stack, expected)
    assert_each_sent_exactly_once(stack, expected)
