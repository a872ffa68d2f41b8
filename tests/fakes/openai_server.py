"""A local HTTP server that speaks the OpenAI-compatible wire format (Together AI flavour).

`POST /v1/chat/completions` and `POST /v1/embeddings` on 127.0.0.1, a random port, in a thread.
Tests script the answers (`server.script(reply, reply, …)`: status, JSON body or raw text,
headers, a delay to simulate a hang); when the script is empty the server answers with the
recorded good response. Every request is kept (`server.requests`) with its headers, JSON body
and arrival time, so tests can see retries, waits and what was sent.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON, str → sent as is, None → the default answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hang, when past the timeout)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


def ok_reply(content: str | None = None, **usage: int) -> Reply:
    body = fixture("together/chat_completion_ok.json")
    if content is not None:
        body["choices"][0]["message"]["content"] = content
    body["usage"].update(usage)
    return Reply(body=body)


def error_reply(status: int, name: str, **headers: str) -> Reply:
    return Reply(status=status, body=fixture(f"together/{name}.json"), headers=headers)


def rate_limited(reset: str = "0.3") -> Reply:
    return error_reply(429, "error_429_dynamic_request_limited", **{"x-ratelimit-reset": reset})


def unavailable() -> Reply:
    return error_reply(503, "error_503_service_unavailable")


def clip_vector(item: str, dimensions: int) -> list[float]:
    """A deterministic stand-in for CLIP: images by their 4×4 thumbnail, texts by their hash,
    projected to `dimensions` with a fixed random matrix (not normalised: the client must)."""
    if item.startswith("data:image/"):
        raw = base64.b64decode(item.split(",", 1)[1])
        pixels = Image.open(io.BytesIO(raw)).convert("RGB").resize((4, 4))
        features = np.asarray(pixels, dtype=np.float64).reshape(-1) / 255.0
    else:
        seed = int.from_bytes(hashlib.sha256(item.encode()).digest()[:4], "little")
        features = np.random.default_rng(seed).normal(size=48)
    projection = np.random.default_rng(7).normal(size=(features.size, dimensions))
    return (features @ projection * 3.0).round(6).tolist()


class FakeOpenAIServer:
    def __init__(
        self,
        *,
        embedding_dimensions: int = 512,
        shuffle_embeddings: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.clock = clock  # stamps each request's arrival (a test's own clock, if it has one)
        self.requests: list[Recorded] = []
        self.embedding_dimensions = embedding_dimensions
        self.shuffle_embeddings = shuffle_embeddings
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, path: str, body: Any) -> Reply:
        with self._lock:
            reply = self._script.popleft() if self._script else Reply()
        if reply.body is None and reply.status == 200:
            reply = copy.copy(reply)
            reply.body = self._default(path, body)
        return reply

    def _default(self, path: str, body: Any) -> Any:
        if path.endswith("/embeddings"):
            inputs = body.get("input", [])
            inputs = [inputs] if isinstance(inputs, str) else inputs
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": clip_vector(item, self.embedding_dimensions),
                }
                for i, item in enumerate(inputs)
            ]
            if self.shuffle_embeddings:
                data.reverse()  # indices, not order, say which input a vector belongs to
            answer = fixture("clip/embeddings_shape.json")
            answer.update(data=data, model=body.get("model"))
            return answer
        return fixture("together/chat_completion_ok.json")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                server.requests.append(
                    Recorded(self.path, dict(self.headers.items()), body, server.clock())
                )
                if self.path not in ("/v1/chat/completions", "/v1/embeddings"):
                    self._send(Reply(404, {"error": {"message": "not found", "code": None}}))
                    return
                reply = server._next(self.path, body)
                if reply.delay:
                    time.sleep(reply.delay)
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if isinstance(reply.body, str):
                    payload, kind = reply.body.encode(), "text/plain"
                else:
                    payload, kind = json.dumps(reply.body).encode(), "application/json"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test): nothing to answer to

        return Handler
