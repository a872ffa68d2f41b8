"""A local image server on loopback for the URL-import tests (the network here is loopback
only): images by name, redirects, an over-sized answer, a flaky one, a silent one, and a gate
that holds the requests of some images until the test opens it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class ImageServer:
    images: dict[str, bytes]
    url: str = ""
    hits: Counter = field(default_factory=Counter)
    hold: frozenset[str] = frozenset()  # images whose requests wait for the gate
    gate: threading.Event = field(default_factory=threading.Event)
    held: int = 0
    silence: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def image_url(self, name: str) -> str:
        return f"{self.url}/img/{name}"


def _handler(server: ImageServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _image(self, name: str) -> None:
            if name in server.hold and not server.gate.is_set():
                with server.lock:
                    server.held += 1
                server.gate.wait(120)
            if name not in server.images:
                self._send(404, b"no such image")
                return
            self._send(200, server.images[name], {"Content-Type": "image/png"})

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            parts = urlsplit(self.path)
            with server.lock:
                server.hits[parts.path] += 1
                count = server.hits[parts.path]
            query = parse_qs(parts.query)
            if parts.path.startswith("/img/"):
                self._image(parts.path.removeprefix("/img/"))
            elif parts.path == "/redirect":
                self._send(302, headers={"Location": query["to"][0]})
            elif parts.path == "/declared-huge":
                self._send(200, headers={"Content-Length": str(10**9)})
            elif parts.path == "/endless":
                self.send_response(200)
                self.end_headers()  # no length: the body runs until the client stops
                try:
                    for _ in range(10_000):
                        self.wfile.write(b"\0" * 65536)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif parts.path == "/flaky":
                if count == 1:
                    self._send(503, b"busy")
                else:
                    self._send(200, next(iter(server.images.values())))
            elif parts.path == "/silent":
                server.silence.wait(60)
                self._send(200, b"late")
            else:
                self._send(404)

    return Handler


@contextmanager
def image_server(images: dict[str, bytes], **options) -> Iterator[ImageServer]:
    server = ImageServer(images=images, **options)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.gate.set()
        server.silence.set()
        httpd.shutdown()
        httpd.server_close()
