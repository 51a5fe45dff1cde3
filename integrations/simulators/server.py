"""Run a simulator as a live HTTP server (threaded, quiet, able to drop connections on request)."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from integrations.simulators.faults import ConnectionDropped

logger = logging.getLogger(__name__)


class _ServerHandler(ServerHandler):
    def handle_error(self) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionDropped):
            raise  # leave the response unwritten; the request handler drops the socket
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
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
