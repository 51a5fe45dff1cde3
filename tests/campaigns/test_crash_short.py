"""The crash campaign's checks find what they must: a broken timeline, tasks a kill took mid-run.

The campaign itself (a real stack, a worker killed with SIGKILL) runs in CI in its short form as a step of
``.ci/run`` (``python -m campaigns.crash --short``), not inside the test suite: it needs its own database, broker
database and processes, and the PostgreSQL suite runs beside them.
"""

from __future__ import annotations

from campaigns.checks import interrupted_tasks, timeline_breaks
from campaigns.crash import main


def test_a_connected_timeline_ending_in_the_status_has_no_break():
    chain = [("", "new"), ("new", "ready"), ("ready", "submitting"), ("submitting", "submitted"),
             ("submitted", "delivered")]  # fmt: skip

    assert timeline_breaks("delivered", chain) == []


def test_a_status_change_without_its_event_breaks_the_timeline():
    # READY → DELIVERING happened, but only DELIVERING → DELIVERED was recorded.
    chain = [("", "received"), ("received", "ready"), ("delivering", "delivered")]

    breaks = timeline_breaks("delivered", chain)

    assert breaks == ["an event goes delivering → delivered, but the one before ended in ready"]


def test_a_status_that_no_event_reached_is_a_break():
    assert timeline_breaks("submitting", [("", "new"), ("new", "ready")]) == [
        "the last event ends in ready, the invoice is submitting"
    ]


def test_an_invoice_without_events_or_with_a_headless_timeline_is_reported():
    assert timeline_breaks("new", []) == ["no status event at all (status new)"]
    assert timeline_breaks("ready", [("new", "ready")]) == ["the first event starts from new, not from nothing"]


def test_tasks_received_but_never_finished_in_a_worker_life_count_as_taken_by_the_kill():
    log = """
===== worker started 10:00:00 =====
[INFO] Task outgoing.submit[aaaaaaaa-0000-0000-0000-000000000001] received
[INFO] Task outgoing.submit[aaaaaaaa-0000-0000-0000-000000000001] succeeded in 0.1s: None
[INFO] Task incoming.deliver[aaaaaaaa-0000-0000-0000-000000000002] received
===== worker started 10:00:03 =====
[INFO] Task outgoing.prepare[aaaaaaaa-0000-0000-0000-000000000003] received
[INFO] Task outgoing.prepare[aaaaaaaa-0000-0000-0000-000000000004] received
[INFO] Task outgoing.prepare[aaaaaaaa-0000-0000-0000-000000000004] raised unexpected: OperationalError()
"""

    assert interrupted_tasks(log) == {"incoming.deliver": 1, "outgoing.prepare": 1}


def test_the_command_refuses_to_run_without_postgresql(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///campaign.sqlite3")

    assert main(["--short", "--seed", "7"]) == 2

    output = capsys.readouterr()
    assert "seed 7" in output.out
    assert "DATABASE_URL=postgres://" in output.err
