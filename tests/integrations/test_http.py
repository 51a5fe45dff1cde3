import time
from datetime import UTC, datetime

import httpx
import pytest

from integrations.http import (
    HttpClient,
    PermanentError,
    RemoteTimeout,
    RemoteUnavailable,
    TransientError,
    backoff_delay,
    call_with_retries,
    retry_after_seconds,
)


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Tue, 24 Nov 2026 10:00:30 GMT", 30.0),
        ("soon", None),
        (b"\xb2", None),  # read as latin-1: "²", a digit to str.isdigit() but not to float()
        ("", None),
        ("999999", 3600.0),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header, seconds):
    response = httpx.Response(503, headers={"Retry-After": header} if header else {})

    assert retry_after_seconds(response, now=datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) == seconds


def test_backoff_grows_exponentially_up_to_the_cap():
    ceilings = [backoff_delay(attempt, base=2, cap=60, rng=lambda: 1.0) for attempt in range(1, 8)]

    assert ceilings == [2, 4, 8, 16, 32, 60, 60]


def test_backoff_is_jittered():
    assert backoff_delay(3, base=2, rng=lambda: 0.25) == 2.0


def test_permanent_errors_are_not_retried():
    calls = []

    def refuse():
        calls.append(1)
        raise PermanentError("no")

    with pytest.raises(PermanentError):
        call_with_retries(refuse, attempts=5, sleep=lambda s: None)
    assert len(calls) == 1


def test_retry_after_is_honoured_between_attempts():
    outcomes = iter([TransientError("busy", retry_after=3.0), "done"])
    sleeps = []

    def operation():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_with_retries(operation, attempts=2, sleep=sleeps.append) == "done"
    assert sleeps == [3.0]


def test_a_retry_after_too_long_to_wait_in_line_is_left_to_the_caller():
    def busy():
        raise RemoteUnavailable("maintenance", retry_after=600.0)

    with pytest.raises(RemoteUnavailable):
        call_with_retries(busy, attempts=3, max_delay=10, sleep=lambda s: pytest.fail("must not wait"))


def test_the_last_transient_failure_is_raised():
    def always_down():
        raise RemoteUnavailable("down")

    with pytest.raises(RemoteUnavailable):
        call_with_retries(always_down, attempts=3, sleep=lambda s: None)


def test_clients_share_one_connection_pool_with_one_verifying_tls_context():
    import ssl

    from integrations.http import HttpClient, shared_tls_context, shared_transport

    with HttpClient(service="a") as first, HttpClient(service="b") as second:
        pools = {id(client._client._transport._pool) for client in (first, second)}

    assert pools == {id(shared_transport())}
    assert shared_transport()._pool._ssl_context is shared_tls_context()
    assert shared_tls_context().verify_mode == ssl.CERT_REQUIRED


def test_calls_of_different_clients_reuse_a_kept_alive_connection_and_closing_one_keeps_the_pool():
    from integrations.http import HttpClient
    from tests.integrations.keep_alive_server import keep_alive_server

    with keep_alive_server() as (base_url, connections):
        for service in ("AFAS", "eConnect", "AFAS"):
            with HttpClient(service=service, base_url=base_url) as client:
                assert client.request("GET", "/").content == b"ok"

    assert len(connections) == 1


def test_a_forked_process_builds_its_own_pool(monkeypatch):
    from integrations import http

    parent = http.shared_transport()
    monkeypatch.setattr(http.os, "getpid", lambda: -1)

    assert http.shared_transport() is not parent


class _Trickle(httpx.SyncByteStream):
    def __init__(self, pieces: int, gap: float):
        self.pieces, self.gap = pieces, gap

    def __iter__(self):
        for _ in range(self.pieces):
            time.sleep(self.gap)
            yield b"x"


def _client_answering(stream: httpx.SyncByteStream) -> HttpClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=stream))
    return HttpClient(service="Remote", timeout=httpx.Timeout(0.1, connect=0.05), transport=transport)


def test_an_answer_that_trickles_in_beyond_the_deadline_is_a_timeout():
    # Each piece arrives well within the read timeout; together they take longer than a whole call may.
    with _client_answering(_Trickle(pieces=6, gap=0.04)) as client, pytest.raises(RemoteTimeout):
        client.request("GET", "https://remote.test/slow")


def test_an_answer_within_the_deadline_is_read_whole():
    with _client_answering(_Trickle(pieces=3, gap=0.01)) as client:
        response = client.request("GET", "https://remote.test/quick")

    assert response.status_code == 200
    assert response.content == b"xxx"
