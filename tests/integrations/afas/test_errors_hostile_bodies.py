"""An AFAS error body is only a hint: hostile ones must still give the typed error, never a crash or a bad delay."""

import httpx
import pytest

from integrations.afas.errors import AfasFunctionalError, AfasMaintenance, error_for
from integrations.http import MAX_RETRY_AFTER_SECONDS, RemoteUnavailable, call_with_retries

JSON = {"Content-Type": "application/json"}


def answer(status: int, body: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers={**JSON, **headers})


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"error": {"message": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}", id="nested beyond recursion"),
        pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="objects nested beyond recursion"),
        pytest.param(b'{"retry_after": ' + b"9" * 5_000 + b"}", id="integer beyond 4300 digits"),
        pytest.param(b"\xff\xfe\xc3\x28", id="not UTF-8"),
    ],
)
@pytest.mark.parametrize("status", [500, 503])
def test_an_unreadable_error_body_is_ignored_and_the_status_decides(body, status):
    error = error_for(answer(status, body), what="GetConnector Profit_Debtor")

    assert isinstance(error, RemoteUnavailable) and error.transient
    assert error.retry_after is None


@pytest.mark.parametrize(
    "retry_after",
    [b"NaN", b"Infinity", b"-Infinity", b"-5", b"9" * 400, b"1e400", b"true", b'"30"', b"[30]"],
    ids=["NaN", "Infinity", "-Infinity", "negative", "400 digits", "1e400", "boolean", "string", "list"],
)
def test_a_503_body_with_an_unusable_retry_after_has_no_delay(retry_after):
    error = error_for(answer(503, b'{"error": "x", "retry_after": ' + retry_after + b"}"), what="GetConnector")

    assert isinstance(error, AfasMaintenance)
    assert error.retry_after is None


@pytest.mark.parametrize(("retry_after", "seconds"), [(b"0", 0.0), (b"30", 30.0), (b"2.5", 2.5), (b"1e300", None)])
def test_a_503_body_with_a_usable_retry_after_is_honoured_and_capped(retry_after, seconds):
    error = error_for(answer(503, b'{"retry_after": ' + retry_after + b"}"), what="GetConnector")

    assert error.retry_after == (seconds if seconds is not None else MAX_RETRY_AFTER_SECONDS)


def test_the_retry_after_header_wins_over_the_body():
    error = error_for(answer(503, b'{"retry_after": NaN}', **{"Retry-After": "7"}), what="GetConnector")

    assert error.retry_after == 7.0


def test_a_hostile_maintenance_body_is_retried_with_the_normal_backoff_and_never_a_bad_sleep():
    sleeps: list[float] = []

    def operation():
        raise error_for(answer(503, b'{"error": {"message": "onderhoud"}, "retry_after": -5}'), what="GetConnector")

    with pytest.raises(AfasMaintenance) as caught:
        call_with_retries(operation, attempts=3, sleep=sleeps.append)

    assert "onderhoud" in caught.value.message
    assert len(sleeps) == 2 and all(0 <= delay <= 10 for delay in sleeps)


def test_a_functional_500_with_a_hostile_error_number_keeps_its_message():
    body = b'{"externalMessage": "Dagboek onbekend", "errorNumber": 1e400, "profitLogReference": []}'

    error = error_for(answer(500, body), what="UpdateConnector FiEntries")

    assert isinstance(error, AfasFunctionalError) and not error.transient
    assert "Dagboek onbekend" in error.message and error.error_number is None
