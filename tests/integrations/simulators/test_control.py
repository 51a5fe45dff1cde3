"""The kit's control API refuses hostile bodies with 400 and a clear error, never an exception (hostile campaign)."""

import io

import httpx
import pytest

from integrations.simulators.app import Response, SimulatorApp
from integrations.simulators.control import ControlError, ControlSpec, parse_json, read_control_json
from integrations.simulators.faults import Fault
from integrations.simulators.transport import SimulatorTransport

HOSTILE_BODIES = {
    "null": b"null",
    "a list": b"[]",
    "a string": b'"operation"',
    "a number": b"42",
    "true": b"true",
    "truncated": b'{"operation": "x"',
    "not JSON": b"<html>502</html>",
    "invalid UTF-8": b'{"operation": "\xff\xfe\xc3\x28"}',
    "NaN": b'{"operation": "x", "delay": NaN}',
    "infinite number": b'{"operation": "x", "delay": 1e400}',
    "5,000 digits": b"1" * 5_000,
    "5,000 digits inside": b'{"operation": "x", "count": ' + b"9" * 5_000 + b"}",
    "deeply nested list": b"[" * 10_000 + b"]" * 10_000,
    "deeply nested object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "binary": bytes(range(256)) * 4,
}


@pytest.fixture
def client():
    with httpx.Client(base_url="http://sim", transport=SimulatorTransport(SimulatorApp())) as c:
        yield c


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_a_hostile_fault_body_is_refused_with_400_and_a_json_error(client, body):
    response = client.post("/_sim/faults", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]
    assert client.get("/_sim/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"operation": "x", "status": "503"}, "status"),
        ({"operation": "x", "status": 99}, "status"),
        ({"operation": "x", "status": True}, "status"),
        ({"operation": "x", "delay": "1"}, "delay"),
        ({"operation": "x", "delay": 1e9}, "delay"),
        ({"operation": "x", "trickle": -1}, "trickle"),
        ({"operation": "x", "headers": ["Retry-After", "1"]}, "headers"),
        ({"operation": "x", "headers": {"Retry-After": 1}}, "headers"),
        ({"operation": "x", "headers": {"X-Injected": "a\r\nSet-Cookie: b"}}, "headers"),
        ({"operation": "x", "headers": {"Bad Name": "1"}}, "headers"),
        ({"operation": "x", "body": {"a": 1}}, "body"),
        ({"operation": "x", "drop": "yes"}, "drop"),
        ({"operation": "x", "count": 1.5}, "count"),
        ({"operation": "x", "count": 0}, "count"),
        ({"operation": 5}, "operation"),
        ({"status": 500}, "operation"),
        ({"operation": "x", "statuss": 500}, "statuss"),
    ],
)
def test_a_fault_field_of_the_wrong_type_or_range_is_refused_by_name(client, spec, field):
    response = client.post("/_sim/faults", json=spec)

    assert response.status_code == 400
    assert field in response.json()["error"]


def test_a_fault_body_with_a_lone_surrogate_is_refused_by_name(client):
    response = client.post("/_sim/faults", content=b'{"operation": "x", "body": "\\ud800"}')

    assert response.status_code == 400
    assert "body" in response.json()["error"]


def test_a_listed_fault_can_be_posted_again(client):
    client.post("/_sim/faults", json={"operation": "x", "status": 503, "headers": {"Retry-After": "2"}, "count": None})
    [listed] = client.get("/_sim/faults").json()["faults"]

    assert client.post("/_sim/faults", json=listed).status_code == 201


def _wsgi_status(app, method: str, path: str, content_length: str, **headers: str) -> int:
    status = []
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_LENGTH": content_length,
        "wsgi.input": io.BytesIO(b'{"operation": "x"}'),
        **headers,
    }
    b"".join(app(environ, lambda line, headers, exc_info=None: status.append(line)))
    return int(status[0].split()[0])


@pytest.mark.parametrize("content_length", ["abc", "-1", "1e3", "9" * 40])
def test_an_invalid_content_length_is_a_400_not_a_crash_or_a_read_until_close(content_length):
    assert _wsgi_status(SimulatorApp(), "POST", "/_sim/faults", content_length) == 400


def test_an_odd_read_timeout_header_is_ignored():
    app = SimulatorApp()
    app.route("GET", r"/things", lambda request: Response.json({}), operation="CountThings")
    app.faults.add(Fault(operation="CountThings", status=503, delay=0.01))

    assert _wsgi_status(app, "GET", "/things", "", HTTP_X_SIMULATOR_READ_TIMEOUT="soon") == 503


@pytest.mark.parametrize(
    "data",
    [b"NaN", b"-Infinity", b"[1e400]", b"9" * 41, b"[" * 100 + b"]" * 100, b'"\xff"', b"{", b"[" * 50_000],
)
def test_the_strict_parser_refuses_with_a_value_error_and_a_message(data):
    with pytest.raises(ValueError, match=r"\w"):
        parse_json(data)


def test_the_strict_parser_reads_ordinary_json_including_a_byte_order_mark():
    assert parse_json(b'\xef\xbb\xbf{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


def test_an_empty_control_body_is_an_empty_object_and_null_is_not():
    assert read_control_json(b"  \n") == {}
    with pytest.raises(ControlError, match="must be an object, not null"):
        read_control_json(b"null")


def test_a_nested_field_is_named_with_its_path():
    spec = ControlSpec({"lines": [{"price": "1"}, {"price": []}]})

    with pytest.raises(ControlError, match=r"^lines\[1\]\.price: must be text"):
        [line.text("price") for line in spec.objects("lines")]


def test_text_with_control_characters_or_lone_surrogates_is_refused():
    for value in ("a\x00b", "\ud800", "x" * 101):
        with pytest.raises(ControlError, match="^name: "):
            ControlSpec({"name": value}).text("name", max_length=100)
