"""Issue 12: a web worker gives a large upload's memory back, or is replaced. The worker's bound
is tried on a real gunicorn worker; the heap settings and the reduced JPEG decode in processes
of their own, by their resident memory (what the kernel counts, not a Python tracer)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.processes import ROOT
from tests.fakes.servers import get, gunicorn_server

pytestmark = [pytest.mark.slow]


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def _replaced(master: int, old: list[int], limit: float = 120.0) -> list[int]:
    """The master's worker once it is another process than `old` (waits for the state)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        now = _workers(master)
        if now and now != old:
            return now
        time.sleep(0.2)
    return _workers(master)


@pytest.mark.django_db(transaction=True)
def test_a_worker_over_its_memory_bound_answers_then_is_replaced(tmp_path):
    # given a bound below what any worker takes (Django loaded: tens of MB)
    env = {"SWATCH_WEB_MAX_WORKER_MEMORY_MB": "5", "SWATCH_LOG_LEVEL": "WARNING"}
    with gunicorn_server(env=env, log=tmp_path / "server.log") as server:
        first = _workers(server.pid)
        # when a request is served, then it is answered in full
        status, _, body = get(f"{server.url}/healthz")
        assert status == 200
        assert body
        # and the worker is replaced after it, by a fresh one that serves the next
        second = _replaced(server.pid, first)
        assert second
        assert second != first
        assert get(f"{server.url}/healthz")[0] == 200
        log = server.log_text()
    assert "over SWATCH_WEB_MAX_WORKER_MEMORY_MB" in log
    assert f"worker {first[0]}:" in log


@pytest.mark.django_db(transaction=True)
def test_a_worker_within_its_bound_keeps_serving(tmp_path):
    env = {"SWATCH_WEB_MAX_WORKER_MEMORY_MB": "100000", "SWATCH_LOG_LEVEL": "WARNING"}
    with gunicorn_server(env=env, log=tmp_path / "server.log") as server:
        first = _workers(server.pid)
        for _ in range(5):
            assert get(f"{server.url}/healthz")[0] == 200
        assert _workers(server.pid) == first
        assert "over SWATCH_WEB_MAX_WORKER_MEMORY_MB" not in server.log_text()


def _run(code: str, *args: str) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        timeout=300,
    )
    return [float(x) for x in out.stdout.split()]


# Two threads decode a 40 MP image at once, twice over (Pillow's 16 MB blocks, freed in
# between), as two uploads do in a worker; the resident memory before and after.
HEAP_CODE = """
import sys, threading
from config.memory import malloc_tuned, resident_mib
from PIL import Image
if sys.argv[1] == "tuned":
    assert malloc_tuned()
def decode():
    image = Image.new("RGB", (7744, 5164), (120, 90, 60))
    image.reduce(2)
    del image
before = resident_mib()
for _ in range(2):
    threads = [threading.Thread(target=decode) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
print(before, resident_mib())
"""


def test_with_the_servers_heap_settings_a_large_decode_is_given_back():
    before, after = _run(HEAP_CODE, "tuned")
    assert after - before < 40  # two 160 MB decodes at once: all but a few MB unmapped


def test_the_heap_settings_are_what_gives_it_back():
    # the same work without them keeps a large part of it (the reason they exist)
    before, after = _run(HEAP_CODE, "default")
    assert after - before > 100


# Decoding a 24 MP JPEG: the process's peak resident memory (ru_maxrss) before and after.
PEAK_CODE = """
import resource, sys
import django
django.setup()
from materials.intake import image_decode
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
pixels = image_decode(data=data)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(before, after, pixels.width, pixels.height)
"""


def test_a_large_jpeg_is_decoded_at_the_working_size_never_at_full_size(tmp_path):
    # given a 24 MP photo (6000 × 4000: 96 MB of pixels at full size), under the pixel cap
    ramp = Image.linear_gradient("L").resize((6000, 4000))
    buffer = io.BytesIO()
    Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_180), ramp)).save(
        buffer, "JPEG", quality=85
    )
    path = tmp_path / "photo.jpg"
    path.write_bytes(buffer.getvalue())
    # when it is decoded, then at half of each side at once (JPEG draft mode): the process's
    # peak grows by about the 24 MB of the reduced pixels, not by the full decode's 96
    before, after, width, height = _run(PEAK_CODE, str(path))
    assert (width, height) == (3000, 2000)
    assert after - before < 60
