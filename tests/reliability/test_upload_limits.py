"""Uploads against a live server: a request larger than the server accepts is refused from its
Content-Length before its body is read (413), and no upload, refused or served, ever puts a
file in the temporary directory (watched with inotify while the requests run)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fakes.file_watch import CreatedFiles
from tests.fakes.servers import gunicorn_server

THIRTY_MB = 30 * 1024 * 1024
BOUNDARY = "swatchboundary"


@pytest.fixture
def live(tmp_path, transactional_db):
    """A gunicorn server on the test database, its temporary directory a folder of its own."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    with gunicorn_server(env={"TMPDIR": str(temp)}, log=tmp_path / "server.log") as server:
        yield server, temp


def _head(path: str, length: int, host: str, content_type: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nAccept: application/json\r\n\r\n"
    ).encode()


def _multipart_start(field: str = "image") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()


def _send_part_then_read(url: str, path: str, content_type: str, length: int, first: bytes):
    """Send the headers and the first bytes of a body of `length`; read the answer without
    sending the rest. Returns (status, headers text, body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as conn:
        conn.sendall(_head(path, length, parts.netloc, content_type) + first)
        answer = b""
        while not _complete(answer):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunked(body)
    return int(head.split(b" ", 2)[1]), head.decode(errors="replace"), body


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.decode(errors="replace").lower().split("\r\n"):
        if line.startswith("content-length:"):
            return len(body) >= int(line.split(":", 1)[1])
    return body.endswith(b"0\r\n\r\n")


def _unchunked(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        count = int(size, 16)
        if count == 0:
            break
        out, body = out + rest[:count], rest[count + 2 :]
    return out


def test_30_mb_uploads_are_413s_before_their_body_is_read_and_never_on_disk(live):
    server, temp = live
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    with CreatedFiles(temp) as created:
        # when a client announces a 30 MB multipart upload and sends only its first 64 KB
        status, _, body = _send_part_then_read(
            server.url,
            "/api/v1/search/",
            multipart,
            THIRTY_MB,
            _multipart_start() + os.urandom(65536),
        )
        # then the answer comes without the rest: a 413 in the JSON envelope, with its id
        assert status == 413
        error = json.loads(body)["error"]
        assert error["code"] == "payload_too_large"
        assert error["request_id"]
        # a 30 MB JSON body (the image as base64): the same
        status, _, body = _send_part_then_read(
            server.url,
            "/api/v1/search/",
            "application/json",
            THIRTY_MB,
            b'{"image": "' + b"A" * 4096,
        )
        assert status == 413
        assert json.loads(body)["error"]["code"] == "payload_too_large"
        # a 30 MB upload of the search page: the site's 413 page
        status, head, body = _send_part_then_read(
            server.url, "/", multipart, THIRTY_MB, _multipart_start() + os.urandom(65536)
        )
        assert status == 413
        assert "text/html" in head.lower()
        assert b"larger than" in body
    # and nothing was ever written to the temporary directory
    assert created.names == []


def test_an_upload_within_the_limit_is_held_in_memory_never_in_a_temp_file(live):
    # given a 10 MB file: Django's default handlers spill anything past 2.5 MB to a temp file
    server, temp = live
    payload = os.urandom(10 * 1024 * 1024)
    body = _multipart_start() + payload + f"\r\n--{BOUNDARY}--\r\n".encode()
    with CreatedFiles(temp) as created:
        status, _, answer = _send_part_then_read(
            server.url,
            "/api/v1/search/",
            f"multipart/form-data; boundary={BOUNDARY}",
            len(body),
            body,
        )
    # then it is read, found not to be an image (a 400 naming the field), and never on disk
    assert status == 400
    assert json.loads(answer)["error"]["field"] == "image"
    assert created.names == []


def test_the_watch_sees_a_file_that_lives_a_moment(tmp_path: Path):
    # the watch itself: a file created and removed at once is still seen
    with CreatedFiles(tmp_path) as created:
        (tmp_path / "brief").write_bytes(b"x")
        (tmp_path / "brief").unlink()
    assert created.names == ["brief"]
