"""Real server processes for tests: gunicorn serving Swatch on loopback, configured from the
environment as a deployment is (`config/gunicorn.py`), on the test database of this process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.processes import ROOT, _database_env

GUNICORN = Path(sys.executable).with_name("gunicorn")
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class ServerProcess:
    url: str
    pid: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0):
    """(status, headers, body bytes) of a GET, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post_json(url: str, payload: dict, *, headers: dict[str, str] | None = None):
    """(status, headers, parsed JSON body) of a JSON POST, whatever the status."""
    import json

    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


@contextmanager
def gunicorn_server(
    *, env: dict[str, str], log: Path, workers: int = 1, timeout: float = 180.0
) -> Iterator[ServerProcess]:
    """Start gunicorn on a free loopback port; yield once it answers `/healthz`; stop it."""
    full_env = {**os.environ, "SWATCH_ENV": "test", **_database_env(), **env}
    handle = log.open("ab")
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.py", "config.wsgi:application",
         "--bind", "127.0.0.1:0", "--workers", str(workers), "--threads", "2",
         "--timeout", "120", "--graceful-timeout", "5"],
        cwd=ROOT, env=full_env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        server = _started(process, log, timeout)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        handle.close()


def _started(process: subprocess.Popen, log: Path, timeout: float) -> ServerProcess:
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
        if url is None:
            found = _LISTENING.search(log.read_text(errors="replace"))
            url = f"http://127.0.0.1:{found.group(1)}" if found else None
        if url is not None:
            try:
                status, _, _ = get(f"{url}/healthz", timeout=5)
            except OSError:
                status = None
            if status is not None:
                return ServerProcess(url=url, pid=process.pid, log=log)
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')[-3000:]}")
