"""Run a simulator as a live HTTP server (threaded, quiet, able to drop connections on request)."""

from __future__ import annotations

import io
import logging
import signal
import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from integrations.simulators.faults import ConnectionDropped

logger = logging.getLogger(__name__)


class _ServerHandler(ServerHandler):
    http_version = "1.1"  # answers keep the connection open, as the vendors' servers do

    def handle_error(self) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionDropped):
            raise  # leave the response unwritten; the request handler drops the socket
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    """HTTP/1.1 with kept-alive connections: requests are answered one after the other on a connection until the
    client closes it, asks to close it, or leaves it idle for ``timeout`` seconds."""

    protocol_version = "HTTP/1.1"
    timeout = 30
    # The answer goes out in several writes (status, headers, body): without this, on a kept-alive connection Nagle's
    # algorithm holds the last one back until the client's delayed ACK, 40 ms per request.
    disable_nagle_algorithm = True

    def handle(self) -> None:
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, OSError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        environ = self.get_environ()
        body = self.rfile
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # the app reads the stream itself; nothing may follow on it
        else:
            # The whole body is read here, so that the next request starts where this one ends, whatever the app read.
            body = io.BytesIO(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            environ["wsgi.input"] = body
        handler = _ServerHandler(body, self.wfile, self.get_stderr(), environ, multithread=True)
        handler.request_handler = self
        try:
            handler.run(self.server.get_app())
        except ConnectionDropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def log_message(self, format: str, *args) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(app, host: str = "127.0.0.1", port: int = 0) -> _ThreadingServer:
    """A server bound to host:port (port 0 = any free port, see ``server.server_port``); call ``serve_forever``."""
    server = _ThreadingServer((host, port), _RequestHandler)
    server.set_app(app)
    return server


def start_heartbeat(app, interval: float = 1.0) -> threading.Event | None:
    """Call ``app.tick()`` every ``interval`` seconds from a daemon thread, for a simulator whose world moves on by
    itself (e.g. eConnect's webhook deliveries); returns the event that stops it, or None when the app has no tick."""
    tick = getattr(app, "tick", None)
    if tick is None:
        return None
    stopped = threading.Event()

    def beat() -> None:
        while not stopped.wait(interval):
            try:
                tick()
            except Exception:  # a failing beat must not stop the next one
                logger.exception("%s: tick failed", getattr(app, "name", "simulator"))

    threading.Thread(target=beat, name=f"{getattr(app, 'name', 'simulator')}-heartbeat", daemon=True).start()
    return stopped


def serve(app, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, with the app's heartbeat when it has one."""
    server = make_server(app, host, port)
    heartbeat = start_heartbeat(app)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"{getattr(app, 'name', 'simulator')} listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if heartbeat is not None:
            heartbeat.set()
        server.server_close()
