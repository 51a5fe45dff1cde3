"""The fault campaign in the test suite: every remote operation × every fault kind, each cell asserted against the
specification below (what the typed errors of ``integrations.http`` call for). ``python -m campaigns.faults`` prints
the same table."""

import pytest

from campaigns import faults
from campaigns.fault_world import CREDENTIALS, DONE, HOLD, NOT_APPLICABLE, RETRIED_NOW, RETRY, STOP
from campaigns.faults import Outcome

KINDS = ("timeout_before", "timeout_after", "http_500", "http_502", "unavailable_503", "malformed", "reset",
         "credentials", "token_expired", "slow")  # fmt: skip


def row(*decisions: str) -> dict[str, str]:
    assert len(decisions) == len(KINDS)
    return dict(zip(KINDS, decisions, strict=True))


R, N, A = RETRY, RETRIED_NOW, NOT_APPLICABLE
# Transient (timeouts, 5xx, 503, unreadable answers, resets, slow answers): retried, at once by a client that may
# repeat the call, else later with backoff (Retry-After honoured). Refused credentials: stopped with the reason and
# the environment marked (a periodic read goes on trying). A write whose answer was lost after it may have been
# acted on: sent again only where the outbox can be searched first (eConnect), held for a person where it cannot
# (an AFAS purchase invoice).
#                          t/o before  t/o after  500  502  503  malformed  reset  credentials  token exp.  slow
EXPECTED = {
    "afas_read_invoices": row(N, N, N, N, R, N, N, R + CREDENTIALS, A, N),
    "afas_read_debtors": row(N, N, N, N, R, N, N, R + CREDENTIALS, A, N),
    "afas_deliver": row(HOLD, HOLD, R, R, R, HOLD, HOLD, STOP + CREDENTIALS, A, HOLD),
    "afas_write_back": row(N, N, N, N, R, N, N, STOP + CREDENTIALS, A, N),
    "econnect_login": row(R, R, R, R, R, R, R, STOP + CREDENTIALS, A, R),
    "econnect_send": row(R, R, R, R, R, R, R, STOP + CREDENTIALS, N, R),
    "econnect_status": row(R, R, R, R, R, R, R, R + CREDENTIALS, N, R),
    "econnect_inbox": row(R, R, R, R, R, R, R, R + CREDENTIALS, N, R),
    "econnect_download": row(R, R, R, R, R, R, R, R + CREDENTIALS, N, R),
    "econnect_acknowledge": row(R, R, R, R, R, R, R, R + CREDENTIALS, N, R),
    "peppol_lookup": row(R, R, R, R, R, R, R, A, A, R),
    # eConnect PSB: a repeated send is answered 409 (the document id), so it is simply repeated after any doubt.
    "psb_send": row(R, R, R, R, R, R, R, STOP + CREDENTIALS, N, R),
    "psb_status": row(R, R, R, R, R, R, R, R + CREDENTIALS, N, R),
    "psb_download": row(R, R, R, R, R, R, R, R + CREDENTIALS, N, R),
    "psb_acknowledge": row(R, R, R, R, R, R, R, R + CREDENTIALS, N, R),
}
CELLS = [(operation, kind) for operation in EXPECTED for kind in KINDS]


def test_the_campaign_checks_against_this_specification():
    assert faults.EXPECTED == EXPECTED
    assert [kind.key for kind in faults.FAULT_KINDS] == list(KINDS)
    assert set(faults.KNOWN_FAILURES) <= set(CELLS)


@pytest.fixture(scope="module")
def outcomes(django_db_setup, django_db_blocker):
    """The whole matrix, once (every change it makes is rolled back). The tests that use it are marked django_db,
    so that the test database exists."""
    with django_db_blocker.unblock():
        return {(outcome.operation, outcome.fault): outcome for outcome in faults.run_matrix()}


def _params():
    for cell in CELLS:
        reason = faults.KNOWN_FAILURES.get(cell)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        yield pytest.param(*cell, id=f"{cell[0]}-{cell[1]}", marks=marks)


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "fault"), list(_params()))
def test_each_fault_gets_the_specified_decision_message_and_an_exactly_once_outcome(outcomes, operation, fault):
    outcome = outcomes[operation, fault]

    assert outcome.decision == EXPECTED[operation][fault], outcome
    assert outcome.problems == [], outcome
    if outcome.decision != NOT_APPLICABLE:
        assert outcome.exactly_once is True, outcome.detail


@pytest.mark.django_db
def test_the_matrix_runs_well_within_a_minute(outcomes):
    assert sum(outcome.seconds for outcome in outcomes.values()) < 60


def test_a_cell_that_sends_twice_or_decides_otherwise_is_a_mismatch_and_the_command_fails(capsys):
    twice = faults.judge(
        Outcome("econnect_send", "timeout_after", STOP, "did not answer in time", None, False, "sent 2x")
    )
    early = faults.judge(Outcome("afas_deliver", "unavailable_503", RETRY, "maintenance", 30.0, True, "booked 1x"))
    fine = faults.judge(Outcome("econnect_send", "reset", RETRY, "Could not reach eConnect", 9.0, True, "sent 1x"))

    assert twice.problems == ["decision 'stop', expected 'retry'", "not exactly once: sent 2x"]
    assert early.problems == ["retried after 30 s, before the Retry-After of 120 s"]
    assert fine.problems == []
    assert faults.report([fine], seconds=0.1, verbose=False) == 0
    assert faults.report([fine, twice], seconds=0.1, verbose=False) == 1
    assert "MISMATCH: not exactly once: sent 2x" in capsys.readouterr().out


def test_a_known_failure_is_printed_with_its_reason_but_does_not_fail_the_command(capsys, monkeypatch):
    monkeypatch.setitem(faults.KNOWN_FAILURES, ("econnect_send", "http_500"), "a reason a person can act on")
    known = faults.judge(Outcome("econnect_send", "http_500", STOP, "HTTP 500", None, True, "sent 1x"))

    assert faults.report([known], seconds=0.1, verbose=False) == 0
    assert "known failure: a reason a person can act on" in capsys.readouterr().out


def test_a_message_that_does_not_say_what_happened_is_a_mismatch():
    vague = faults.judge(Outcome("econnect_send", "credentials", STOP + CREDENTIALS, "Something failed.", None, True))

    assert vague.problems == ["message does not say what happened: 'Something failed.'"]


def test_a_done_cell_needs_no_message():
    assert faults.judge(Outcome("econnect_send", "token_expired", RETRIED_NOW, "", None, True)).problems == []
    assert faults.judge(Outcome("afas_read_invoices", "slow", DONE, "", None, True)).problems == [
        "decision 'done', expected 'retried now'"
    ]
