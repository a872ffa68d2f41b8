"""The project's WSGI application on 127.0.0.1 in a thread of this process, for timing real
HTTP requests (the thread sees this process's settings and provider overrides)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.servers.basehttp import (
    WSGIRequestHandler,
    WSGIServer,
    get_internal_wsgi_application,
)
from django.db import connections


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        """No access log: thousands of requests would drown the command's output."""


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int

    def post_json(self, path: str, payload: dict) -> tuple[int, dict]:
        """One request on a new connection, as a client without keep-alive makes it."""
        body = json.dumps(payload).encode()
        client = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            client.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = client.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            client.close()


@contextmanager
def live_server() -> Iterator[LiveServer]:
    server = WSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(get_internal_wsgi_application())

    def serve() -> None:
        try:
            server.serve_forever(poll_interval=0.1)
        finally:
            connections.close_all()

    thread = threading.Thread(target=serve, name="bench-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(host="127.0.0.1", port=server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
