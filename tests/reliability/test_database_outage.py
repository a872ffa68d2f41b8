"""Acceptance: the database stops under a running server. A page is the site's 503 page, an
API call the JSON `503 database_unavailable` with Retry-After; the server process that found
the embedded database gone starts it again, and the same server answers again without a
restart; `/healthz` says so. On a PostgreSQL of this test's own (stopping the shared one
would stop every other test)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.fakes.processes import ROOT
from tests.fakes.servers import get, gunicorn_server

pytestmark = pytest.mark.slow

MIGRATE = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("createcachetable", verbosity=0)
"""


@pytest.fixture
def embedded():
    """The environment of a node on an embedded PostgreSQL of its own, and the server."""
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="swatch-outage-"))
    os.chmod(folder, 0o755)  # noqa: S103 - the server's own system user must reach it
    server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    env = {
        "SWATCH_PGDATA": str(folder / "pgdata"),
        "SWATCH_DB_NAME": "swatch_outage",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SWATCH_LOG_LEVEL": "WARNING",
    }
    try:
        subprocess.run(
            [sys.executable, "-c", MIGRATE],
            cwd=ROOT, env={**os.environ, "SWATCH_ENV": "test", **env},
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        yield env, server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _stop(server) -> None:
    """Stop the postmaster (fast shutdown), as a crash or `pg_ctl stop` would."""
    pid = int((server.pgdata / "postmaster.pid").read_text().split()[0])  # who runs it now
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 60
    while _alive(pid):
        assert time.monotonic() < deadline, "the database did not stop"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _until(url: str, status: int, what: str, timeout: float = 120) -> tuple[int, dict, bytes]:
    deadline = time.monotonic() + timeout
    while True:
        answer = get(url, headers={"Accept": "application/json"})
        if answer[0] == status:
            return answer
        assert time.monotonic() < deadline, f"{what}: still {answer[0]}"
        time.sleep(0.2)


def test_a_stopped_database_is_a_503_then_the_same_server_recovers(embedded, tmp_path):
    env, server = embedded
    with gunicorn_server(env=env, log=tmp_path / "server.log") as node:
        page = f"{node.url}/materials/1/"  # a page that reads the database: none yet, a 404
        assert get(page)[0] == 404
        assert get(f"{node.url}/api/v1/materials/")[0] == 200

        # when the database stops: a page is the site's 503 page
        _stop(server)
        status, headers, body = get(page)
        assert status == 503
        assert headers["Content-Type"].startswith("text/html")
        assert b"database" in body.lower()
        assert headers.get("Retry-After")
        # then the server starts the embedded database again, and the page answers
        _until(page, 404, "the page after the restart")

        # when it stops again: an API call is the JSON 503 with Retry-After
        _stop(server)
        status, headers, body = get(f"{node.url}/api/v1/materials/")
        assert status == 503
        error = json.loads(body)["error"]
        assert error["code"] == "database_unavailable"
        assert error["request_id"] == headers["X-Request-ID"]
        assert int(headers["Retry-After"]) > 0
        # then it recovers too, and /healthz says the database was started again
        _until(f"{node.url}/api/v1/materials/", 200, "the API after the restart")
        status, _, body = _until(f"{node.url}/healthz", 200, "healthz")
        database = json.loads(body)["database"]
        assert database["ok"] is True
        assert database["embedded"] is True
        assert database["restarted_seconds_ago"] >= 0

    # and it was the same server throughout: one worker booted, never another
    log = (tmp_path / "server.log").read_text()
    assert log.count("Booting worker") == 1, log[-3000:]
