"""The interpreter's switch interval is the server's start-up setting, not library code's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _switch_interval_after(code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(sys.getswitchinterval())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def test_a_gunicorn_worker_shortens_the_switch_interval_at_start_up():
    # when gunicorn's hook runs after a worker's start (gunicorn reads the config file by path)
    code = (
        "import runpy; hooks = runpy.run_path('config/gunicorn.py'); "
        "hooks['post_worker_init'](None)"
    )
    # then a thread whose query came back gets the GIL within half a millisecond, not five
    assert _switch_interval_after(code) <= 0.0005


def test_importing_and_running_search_threads_leaves_the_interpreter_alone():
    # when the search's thread helpers are imported (library code)
    code = "import django; django.setup(); import search.side_by_side, search.background"
    # then the interpreter keeps CPython's default 5 ms
    assert _switch_interval_after(code) == 0.005
