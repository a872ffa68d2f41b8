"""Run a snippet of Django code in another process that shares this test's cache/database.

The breaker's promise is that every process sees one state; a test proves it only with a
real second process, configured from the environment as a worker would be.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
"""


def _database_env() -> dict[str, str]:
    name = connection.settings_dict["NAME"]  # the test database of this process
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        return {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    return {"SWATCH_DB_NAME": name}


def run_django(code: str, *, env: dict[str, str], timeout: float = 120.0) -> str:
    """Run `code` after django.setup() in a new Python process; its stdout, stripped."""
    full_env = {
        **os.environ,
        "SWATCH_ENV": "test",
        "SWATCH_LOG_LEVEL": "ERROR",
        **_database_env(),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed:\n{result.stderr[-3000:]}")
    return result.stdout.strip()
