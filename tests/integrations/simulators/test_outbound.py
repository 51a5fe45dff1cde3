from integrations.simulators import outbound
from tests.integrations.keep_alive_server import keep_alive_server


def test_deliveries_share_one_kept_alive_connection():
    with keep_alive_server(status=204, body=b"") as (base_url, connections):
        statuses = [
            outbound.post(f"{base_url}/hooks/x/", b"{}", {"Content-Type": "application/json"}, timeout=2)
            for _ in range(3)
        ]

    assert statuses == [204, 204, 204]
    assert len(connections) == 1


def test_an_address_that_is_no_web_address_or_cannot_be_reached_is_status_0():
    assert outbound.post("file:///etc/passwd", b"{}", {}, timeout=1) == 0
    assert outbound.post("http://127.0.0.1:9/", b"{}", {}, timeout=1) == 0
