import threading
import time

import httpx
import pytest

from integrations.http import HttpClient, RemoteTimeout, RemoteUnavailable, call_with_retries
from integrations.simulators.app import Request, Response, SimulatorApp
from integrations.simulators.server import make_server
from integrations.simulators.state import StateStore
from integrations.simulators.transport import SimulatorTransport


class CounterApp(SimulatorApp):
    """A toy simulator: POST /things adds one, GET /things counts them."""

    name = "counter"

    def __init__(self, state_dir=None):
        super().__init__()
        self.state = StateStore(state_dir, name="counter", initial=lambda: {"things": 0})
        self.route("POST", r"/things", self.add_thing, operation="AddThing")
        self.route("GET", r"/things", self.count_things, operation="CountThings")

    def add_thing(self, request: Request) -> Response:
        with self.state.lock:
            self.state.data["things"] += 1
            self.state.save()
        return Response.json({"things": self.state.data["things"]}, 201)

    def count_things(self, request: Request) -> Response:
        return Response.json({"things": self.state.data["things"]})

    def reset(self):
        self.state.reset()


@pytest.fixture
def app():
    return CounterApp()


@pytest.fixture(params=["in-process", "live"])
def client(request, app):
    """The same client behaviour whether the simulator is mounted in-process or served over a socket."""
    timeout = httpx.Timeout(0.5)
    if request.param == "in-process":
        with HttpClient(
            service="Counter", base_url="http://sim", transport=SimulatorTransport(app), timeout=timeout
        ) as c:
            yield c
        return
    server = make_server(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with HttpClient(service="Counter", base_url=f"http://127.0.0.1:{server.server_port}", timeout=timeout) as c:
            yield c
    finally:
        server.shutdown()
        server.server_close()


def add_fault(client, **spec):
    assert client.request("POST", "/_sim/faults", json=spec).status_code == 201


def test_a_request_reaches_the_simulator(client):
    assert client.request("POST", "/things").json() == {"things": 1}
    assert client.request("GET", "/things").json() == {"things": 1}


def test_a_status_fault_answers_instead_of_the_handler_and_changes_nothing(client):
    add_fault(client, operation="AddThing", status=503, headers={"Retry-After": "7"})

    response = client.request("POST", "/things")

    assert (response.status_code, response.headers["Retry-After"]) == (503, "7")
    assert client.request("GET", "/things").json() == {"things": 0}


def test_a_fault_after_the_handler_keeps_what_the_handler_did(client):
    add_fault(client, operation="AddThing", phase="after", drop=True)

    with pytest.raises(RemoteUnavailable):
        client.request("POST", "/things")

    assert client.request("GET", "/things").json() == {"things": 1}


def test_a_delay_beyond_the_client_timeout_is_a_timeout(client):
    add_fault(client, operation="CountThings", delay=1.0)

    with pytest.raises(RemoteTimeout):
        client.request("GET", "/things")


def test_a_trickled_answer_arrives_whole_but_slowly_when_each_gap_is_within_the_read_timeout(client):
    add_fault(client, operation="AddThing", phase="after", trickle=0.02)
    started = time.monotonic()

    response = client.request("POST", "/things")

    assert response.json() == {"things": 1}
    assert time.monotonic() - started >= 0.02 * 8 * 0.9  # every chunk waited for


def test_a_trickle_gap_as_long_as_the_read_timeout_is_a_timeout_after_the_work_was_done(client):
    add_fault(client, operation="AddThing", phase="after", trickle=0.6)

    with pytest.raises(RemoteTimeout):
        client.request("POST", "/things")

    assert client.request("GET", "/things").json() == {"things": 1}


def test_a_negative_trickle_is_refused(client):
    response = client.request("POST", "/_sim/faults", json={"operation": "x", "trickle": -1})

    assert response.status_code == 400


def test_a_fault_lasts_for_its_count(client):
    add_fault(client, operation="count*", status=500, count=2)

    statuses = [client.request("GET", "/things").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]


def test_a_malformed_body_replaces_the_real_one(client):
    add_fault(client, operation="CountThings", body="<html>proxy error")

    assert client.request("GET", "/things").text == "<html>proxy error"


def test_reset_clears_state_and_faults(client):
    client.request("POST", "/things")
    add_fault(client, operation="*", status=500, count=None)

    client.request("POST", "/_sim/reset")

    assert client.request("GET", "/things").json() == {"things": 0}


def test_an_invalid_fault_is_refused_with_the_reason(client):
    response = client.request("POST", "/_sim/faults", json={"operation": "x", "phase": "during"})

    assert response.status_code == 400
    assert "phase" in response.json()["error"]


def test_unknown_paths_and_methods_are_refused(client):
    assert client.request("GET", "/nothing").status_code == 404
    assert client.request("DELETE", "/things").status_code == 405


def test_state_persists_in_its_directory(tmp_path):
    first = CounterApp(tmp_path)
    with HttpClient(service="Counter", base_url="http://sim", transport=SimulatorTransport(first)) as client:
        client.request("POST", "/things")

    second = CounterApp(tmp_path)

    assert second.state.data == {"things": 1}


def test_transient_failures_are_retried_until_success(app):
    with HttpClient(service="Counter", base_url="http://sim", transport=SimulatorTransport(app)) as client:
        add_fault(client, operation="CountThings", drop=True, count=2)
        sleeps = []

        result = call_with_retries(lambda: client.request("GET", "/things").json(), attempts=3, sleep=sleeps.append)

    assert result == {"things": 0}
    assert len(sleeps) == 2


def test_a_live_simulator_keeps_the_connection_open_between_requests_as_the_vendors_do(app):
    server = make_server(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    peers = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}") as plain:
            for _ in range(3):
                response = plain.post("/things", content=b'{"ignored": "a body the app does not read"}')
                assert response.status_code == 201 and response.http_version == "HTTP/1.1"
                peers.append(response.extensions["network_stream"].get_extra_info("client_addr"))
            assert plain.get("/things").json() == {"things": 3}
    finally:
        server.shutdown()
        server.server_close()

    assert len(set(peers)) == 1  # one connection, three requests
