"""The largest image Swatch accepts, searched over HTTP: how long its answer takes and what it
does to the web worker's memory, measured in one run.

    SWATCH_ENV=development python bench/bench_big_upload.py [--uploads N] [--concurrent C]
        [--json bench/results/big_upload.json]

Starts gunicorn (one worker, as `./swatch up` starts it, on the embedded database) on a free
loopback port, makes a 40-megapixel PNG under the upload cap (smooth, so it compresses below
25 MiB like a rendered texture; the pixel count is what costs), then uploads it N times one
after the other and C at once to `POST /api/v1/search/`, reading the worker's resident memory
(RSS, psutil) before, after each answer and after a short rest. Figures are this machine's, on
its load: compare them with each other, not across machines.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BOUNDARY = "swatchbench"


def big_png(width: int = 7744, height: int = 5164) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(12)
    cells = rng.integers(0, 255, (height // 256 + 1, width // 256 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(cells).resize((width, height), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _multipart(data: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(url: str, body: bytes) -> tuple[int, float]:
    request = urllib.request.Request(  # noqa: S310 - the loopback server this starts
        f"{url}/api/v1/search/",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return status, round(time.perf_counter() - started, 3)


def _start(log: Path, env: dict[str, str], workers: int | None = 1) -> tuple[subprocess.Popen, str]:
    """gunicorn as config/gunicorn.py sizes it (`workers` None: from the CPU count)."""
    sized = ["--workers", str(workers)] if workers else []
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn and settings
        [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py",
         "config.wsgi:application", "--bind", "127.0.0.1:0", *sized],
        cwd=BASE_DIR, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())
        if found:
            url = f"http://127.0.0.1:{found.group(1)}"
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=5).read()  # noqa: S310
                return process, url
            except OSError:
                pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-2000:]}")


def _worker_rss(master: int) -> tuple[int, float]:
    import psutil

    children = psutil.Process(master).children()
    worker = children[0]
    return worker.pid, round(worker.memory_info().rss / 2**20, 1)


def run(*, uploads: int, concurrent: int) -> dict:
    data = big_png()
    body = _multipart(data)
    log = Path(tempfile.mkdtemp(prefix="swatch-bench-")) / "server.log"
    env = {**os.environ, "SWATCH_ENV": os.environ.get("SWATCH_ENV", "development"),
           "SWATCH_SEARCH_RATE_BURST": "1000/1s", "SWATCH_SEARCH_RATE_MINUTE": "10000/60s",
           "SWATCH_LOG_LEVEL": "WARNING"}  # fmt: skip
    for command in (["migrate"], ["collectstatic", "--noinput"]):  # as ./swatch up does
        subprocess.run([sys.executable, "manage.py", *command, "-v", "0"], cwd=BASE_DIR, env=env,  # noqa: S603
                       check=True)  # fmt: skip
    server, url = _start(log, env)
    try:
        upload(url, _multipart(_small_png()))  # the worker's models loaded before the baseline
        time.sleep(15)  # its refinement too (the describer's model)
        pid, baseline = _worker_rss(server.pid)
        one_by_one = []
        for _ in range(uploads):
            status, seconds = upload(url, body)
            one_by_one.append(
                {"status": status, "seconds": seconds, "rss_mib": _worker_rss(server.pid)[1]}
            )
        with ThreadPoolExecutor(concurrent) as pool:
            together = list(pool.map(lambda _: upload(url, body), range(concurrent)))
        after_together = _worker_rss(server.pid)[1]
        time.sleep(15)  # the queued refinements (the model describing each query) finish
        worker_now, rested = _worker_rss(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    return {
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "image": {"width": 7744, "height": 5164, "megapixels": 40.0, "png_bytes": len(data)},
        "baseline_rss_mib": baseline,
        "sequential": one_by_one,
        "concurrent": [{"status": s, "seconds": t} for s, t in together],
        "rss_after_concurrent_mib": after_together,
        "rss_after_rest_mib": rested,
        "rss_growth_after_rest_mib": round(rested - baseline, 1),
        "worker_recycled": worker_now != pid,
        "slowest_seconds": max([r["seconds"] for r in one_by_one] + [t for _, t in together]),
    }


def _small_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (120, 90, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(uploads=args.uploads, concurrent=args.concurrent)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
