"""Structured logs and the correlation id that follows an invoice from beat to task to HTTP call."""

import json
import logging
import sys
import time

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.db import connection

from integrations.correlation import HEADER, correlation_id_bound, current_correlation_id
from integrations.simulators.transport import SimulatorTransport
from portal.celery_app import CORRELATION_HEADER, app
from portal.core.logging import CorrelationIdFilter, JsonFormatter, logging_config
from portal.outgoing_invoices import tasks as outgoing_tasks
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.outgoing_invoices.conftest import world  # noqa: F401 - the sending world fixture


def record(message="Sent %s", args=("invoice 7",), **attributes) -> logging.LogRecord:
    entry = logging.LogRecord("portal.test", logging.WARNING, __file__, 1, message, args, None)
    entry.__dict__.update(attributes)
    return entry


# --- formatting -----------------------------------------------------------------------------------------------


def test_a_json_line_has_time_level_logger_message_and_correlation_id():
    with correlation_id_bound("beat-1a2b"):
        entry = record()
        CorrelationIdFilter().filter(entry)

    line = json.loads(JsonFormatter().format(entry))

    assert line["level"] == "WARNING"
    assert line["logger"] == "portal.test"
    assert line["message"] == "Sent invoice 7"
    assert line["correlation_id"] == "beat-1a2b"
    assert line["time"].endswith("+00:00") and "T" in line["time"]


def test_a_json_line_carries_the_exception_and_plain_extras_but_not_objects():
    try:
        raise ValueError("boom")
    except ValueError:
        entry = record(exc_info=sys.exc_info(), invoice_id=7, request=object())

    line = json.loads(JsonFormatter().format(entry))

    assert "ValueError: boom" in line["exception"]
    assert line["invoice_id"] == 7
    assert "request" not in line
    assert line["correlation_id"] == "-"  # outside any unit of work


def test_the_plain_format_shows_the_correlation_id():
    config = logging_config(log_format="plain", level="INFO")
    formatter = logging.Formatter(config["formatters"]["plain"]["format"])
    with correlation_id_bound("req-42"):
        entry = record()
        CorrelationIdFilter().filter(entry)

    assert "[req-42]: Sent invoice 7" in formatter.format(entry)


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match='LOG_FORMAT must be "json" or "plain"'):
        logging_config(log_format="xml", level="INFO")


def test_the_console_handler_adds_the_correlation_id_in_either_format():
    for log_format in ("json", "plain"):
        handler = logging_config(log_format=log_format, level="INFO")["handlers"]["console"]
        assert handler["formatter"] == log_format
        assert handler["filters"] == ["correlation_id"]


# --- web requests -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_web_request_gets_a_correlation_id_it_returns(client):
    first, second = client.get("/healthz"), client.get("/healthz")

    assert len(first[HEADER]) == 32
    assert first[HEADER] != second[HEADER]


@pytest.mark.django_db
def test_a_proxy_s_correlation_id_is_kept_and_a_forged_one_replaced(client):
    assert client.get("/healthz", headers={HEADER: "edge-7f3a"})[HEADER] == "edge-7f3a"
    forged = client.get("/healthz", headers={HEADER: "x\n2026-01-01 INFO fake line"})[HEADER]
    assert "\n" not in forged and len(forged) == 32


# --- Celery: the id travels in the message headers -------------------------------------------------------------


SEEN_BY_TASK: list[str] = []
# Its own app on the in-memory broker whatever CELERY_BROKER_URL says (the signals are connected for every app), so
# the worker thread below never consumes from a shared Redis queue.
worker_app = Celery("correlation-tests", broker="memory://", set_as_current=False)
worker_app.conf.update(task_always_eager=False, task_serializer="json", accept_content=["json"])


@worker_app.task(name="tests.record_correlation_id")
def record_correlation_id() -> None:
    SEEN_BY_TASK.append(current_correlation_id())


@pytest.fixture
def real_worker(transactional_db):
    """A worker thread on the in-memory broker: tasks are published as messages, not run eagerly."""
    try:
        with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.set_current()  # the worker made its app the current one, which shared tasks follow


def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker did not run the task in time"
        time.sleep(0.02)


def published_headers(monkeypatch) -> list[dict]:
    sent = []
    original = worker_app.amqp.send_task_message

    def capture(producer, name, message, **kwargs):
        result = original(producer, name, message, **kwargs)  # before_task_publish runs in there
        sent.append(dict(message.headers))
        return result

    monkeypatch.setattr(worker_app.amqp, "send_task_message", capture)
    return sent


def test_a_task_published_by_a_request_runs_with_the_request_s_id(real_worker, monkeypatch):
    sent = published_headers(monkeypatch)
    SEEN_BY_TASK.clear()
    with correlation_id_bound("web-5e6f"):
        record_correlation_id.apply_async()

    assert sent[-1][CORRELATION_HEADER] == "web-5e6f"
    wait_for(lambda: SEEN_BY_TASK)
    assert SEEN_BY_TASK == ["web-5e6f"]


def test_beat_s_dispatch_starts_a_new_id_for_each_message(real_worker, monkeypatch):
    sent = published_headers(monkeypatch)
    assert current_correlation_id() == ""  # beat has no id of its own

    SEEN_BY_TASK.clear()

    record_correlation_id.apply_async()
    record_correlation_id.apply_async()

    first, second = (headers[CORRELATION_HEADER] for headers in sent[-2:])
    assert len(first) == len(second) == 32 and first != second
    wait_for(lambda: len(SEEN_BY_TASK) == 2)
    assert sorted(SEEN_BY_TASK) == sorted([first, second])  # each task ran with its own message's id
    assert current_correlation_id() == ""


# --- one id from the dispatcher through the submit task to the HTTP call ----------------------------------------


@pytest.fixture
def sent_headers(monkeypatch):
    """Every request the simulators receive: (path, X-Correlation-ID)."""
    seen = []
    original = SimulatorTransport.handle_request

    def recording(self, request):
        seen.append((request.url.path, request.headers.get(HEADER)))
        return original(self, request)

    monkeypatch.setattr(SimulatorTransport, "handle_request", recording)
    return seen


@pytest.fixture
def task_ids():
    """(task name, correlation id while it runs) for every task started."""
    seen = []

    def remember(task=None, **kwargs):
        seen.append((task.name, current_correlation_id()))

    task_prerun.connect(remember, weak=False)
    yield seen
    task_prerun.disconnect(remember)


@pytest.mark.django_db(transaction=True)  # commits happen, so on_commit enqueues run inside the task, as in a worker
def test_one_id_follows_an_invoice_from_the_dispatcher_through_submit_to_the_http_call(
    world,  # noqa: F811
    sent_headers,
    task_ids,
    caplog,
):
    assert connection.in_atomic_block is False
    caplog.set_level(logging.DEBUG, logger="integrations.http")

    outgoing_tasks.dispatch_collects.delay()  # what beat sends

    assert OutgoingInvoice.objects.filter(status=OutgoingInvoice.Status.SUBMITTED).exists()
    names = [name for name, _ in task_ids]
    assert names[0] == "outgoing.dispatch_collects"
    assert {"outgoing.collect", "outgoing.prepare"} <= set(names)  # prepare submits what became ready
    ids = {correlation_id for _, correlation_id in task_ids}
    assert len(ids) == 1 and len(next(iter(ids))) == 32
    [correlation_id] = ids
    submits = [header for path, header in sent_headers if path.startswith("/soap")]
    assert submits and set(submits) == {correlation_id}
    assert {header for _, header in sent_headers} == {correlation_id}  # AFAS reads too
    http_lines = [entry for entry in caplog.records if entry.name == "integrations.http"]
    assert http_lines and {entry.correlation_id for entry in http_lines} == {correlation_id}
    assert current_correlation_id() == ""  # unbound again after the task


def test_an_http_call_outside_any_work_still_sends_an_id(monkeypatch):
    import httpx

    from integrations.http import HttpClient

    seen = []
    transport = httpx.MockTransport(lambda request: seen.append(request.headers.get(HEADER)) or httpx.Response(204))
    with HttpClient(service="test", base_url="http://remote", transport=transport) as client:
        client.request("GET", "/a")
        with correlation_id_bound("job-9"):
            client.request("GET", "/b")

    assert len(seen[0]) == 32
    assert seen[1] == "job-9"
