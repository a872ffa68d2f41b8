"""Acceptance: `/readyz` turns 503 when the database is stopped. A PostgreSQL of this test's
own (the embedded server, in a temporary folder: stopping the shared one would stop every
other test), migrated, a worker heartbeat written; then a real gunicorn on it, and the server
stopped under it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fakes.processes import ROOT
from tests.fakes.servers import get, gunicorn_server

pytestmark = pytest.mark.slow

MIGRATE_AND_BEAT = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from analysis.worker import heartbeat_beat
heartbeat_beat()
"""


@pytest.fixture
def own_database():
    """(database URL, the server's handle), on a throw-away embedded PostgreSQL."""
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="swatch-readyz-"))
    # the server runs as a system user of its own when we are root: it must reach the folder
    os.chmod(folder, 0o755)  # noqa: S103
    server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE swatch_ready;")
        info = server.get_postmaster_info()
        host = quote(str(info.socket_dir), safe="")
        url = f"postgresql://postgres@{host}:{info.port}/swatch_ready"
        yield url, server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def test_readyz_turns_503_when_the_database_is_stopped(own_database, tmp_path):
    url, server = own_database
    env = {"DATABASE_URL": url, "SWATCH_LOG_LEVEL": "WARNING"}
    subprocess.run(
        [sys.executable, "-c", MIGRATE_AND_BEAT],
        cwd=ROOT, env={**os.environ, "SWATCH_ENV": "test", **env},
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    with gunicorn_server(env=env, log=tmp_path / "server.log") as node:
        status, _, body = get(f"{node.url}/readyz")
        assert status == 200, body
        assert json.loads(body)["status"] == "ready"

        # when the database stops under the running node
        server.cleanup()

        status, headers, body = get(f"{node.url}/readyz")
        assert status == 503
        answer = json.loads(body)
        assert answer["status"] == "not_ready"
        assert answer["failing"] == ["database"]
        assert headers.get("Retry-After")
