"""A real HTTP server on 127.0.0.1 for the live connectors' tests (`deskpulse fetch …`): what the three fake help
desk APIs share. Each test module writes its own `do_GET` on a subclass of `ApiHandler`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ApiHandler(BaseHTTPRequestHandler):
    """Answers in JSON (``content_type``); quiet, so the test output stays readable."""

    content_type = "application/json"

    def send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``body``: a string as it is, anything else as JSON."""
        self.send_response(status)
        for name, value in {"Content-Type": self.content_type, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write((body if isinstance(body, str) else json.dumps(body)).encode())

    def cut_off(self, start: bytes) -> None:
        """Headers promising a page, its ``start``, and the connection closed: a network that broke."""
        self.send_response(200)
        self.send_header("Content-Length", "4000")
        self.end_headers()
        self.wfile.write(start)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
