import http.server
import threading

from integrations.simulators import outbound


def test_deliveries_share_one_kept_alive_connection():
    connections = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            connections.append(self.client_address)
            super().setup()

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks/x/"
    try:
        statuses = [outbound.post(url, b"{}", {"Content-Type": "application/json"}, timeout=2) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()

    assert statuses == [204, 204, 204]
    assert len(connections) == 1


def test_an_address_that_is_no_web_address_or_cannot_be_reached_is_status_0():
    assert outbound.post("file:///etc/passwd", b"{}", {}, timeout=1) == 0
    assert outbound.post("http://127.0.0.1:9/", b"{}", {}, timeout=1) == 0
