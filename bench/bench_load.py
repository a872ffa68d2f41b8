"""Load on loopback: C clients for S seconds against one node, with and without Redis.

    SWATCH_ENV=development python bench/bench_load.py [--clients 20] [--seconds 60]
        [--json bench/results/load.json]

Imports the demo catalog into a catalog of this run and analyses it with the offline models,
then for each setup (the database for cache, limits and broker; then Redis) starts gunicorn as
`./swatch up` does (config/gunicorn.py: workers and threads from the CPU count) and runs C
client threads for S seconds, each cycling through a text search, a "more like this" of a
demo material and an image search (a small PNG upload). Rate limits are raised for the run (the
clients share one address). Reports requests, errors (any answer but 2xx, or no answer) and
p50/p95 per kind. The catalog is removed afterwards. Figures are this machine's, on its load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from bench.bench_big_upload import _multipart, _start  # noqa: E402 - after the path

TEXTS = ["oak", "white marble", "grey stone tile", "dark walnut wood", "red brick", "linen fabric"]
RATES = {
    "SWATCH_SEARCH_RATE_BURST": "100000/1s",
    "SWATCH_SEARCH_RATE_MINUTE": "1000000/60s",
    "SWATCH_SEARCH_RATE_HOUR": "10000000/3600s",
    "SWATCH_SEARCH_RATE_LOOKUP": "1000000/60s",
}


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def _png(seed: int) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _call(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            response.read()
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _requests(url: str, material_ids: list[int], uploads: list[bytes], n: int):
    kind = ("text", "similar", "image")[n % 3]
    if kind == "text":
        body = json.dumps({"text": TEXTS[n % len(TEXTS)]}).encode()
        headers = {"Content-Type": "application/json"}
        return kind, urllib.request.Request(f"{url}/api/v1/search/", body, headers, method="POST")  # noqa: S310
    if kind == "similar":
        pk = material_ids[n % len(material_ids)]
        return kind, urllib.request.Request(f"{url}/api/v1/materials/{pk}/similar/")  # noqa: S310
    headers = {"Content-Type": "multipart/form-data; boundary=swatchbench"}
    body = _multipart(uploads[n % len(uploads)])
    return kind, urllib.request.Request(f"{url}/api/v1/search/", body, headers, method="POST")  # noqa: S310


def _client(url, material_ids, uploads, until, start, results, lock) -> None:
    n = start
    while time.monotonic() < until:
        kind, request = _requests(url, material_ids, uploads, n)
        began = time.perf_counter()
        ok = _call(request)
        took = time.perf_counter() - began
        with lock:
            results.append((kind, ok, took))
        n += 1


def _summary(results: list[tuple[str, bool, float]], seconds: float) -> dict:
    out = {"requests": len(results), "errors": sum(1 for _, ok, _ in results if not ok),
           "requests_per_s": round(len(results) / seconds, 1)}  # fmt: skip
    for kind in ("text", "similar", "image"):
        times = sorted(t for k, _, t in results if k == kind)
        if times:
            out[kind] = {
                "requests": len(times),
                "errors": sum(1 for k, ok, _ in results if k == kind and not ok),
                "p50_ms": round(statistics.median(times) * 1000, 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1000, 1),
            }
    return out


def run_setup(env: dict[str, str], clients: int, seconds: float, material_ids: list[int]) -> dict:
    log = Path(tempfile.mkdtemp(prefix="swatch-load-")) / "server.log"
    server, url = _start(log, env, workers=None)
    uploads = [_png(i) for i in range(30)]
    results: list[tuple[str, bool, float]] = []
    lock = threading.Lock()
    try:
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(
                target=_client, args=(url, material_ids, uploads, until, i, results, lock)
            )
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    return _summary(results, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    catalog = f"bench-load-{uuid.uuid4().hex[:8]}"
    base = {**os.environ, "SWATCH_ENV": os.environ.get("SWATCH_ENV", "development"),
            "SWATCH_LOG_LEVEL": "WARNING", **RATES}  # fmt: skip
    base.pop("REDIS_URL", None)
    _manage(base, "migrate", "-v", "0")
    _manage(base, "collectstatic", "--noinput", "-v", "0")
    _manage(base, "import_catalog", "demo", "--labels", "demo/labels.csv", "--catalog", catalog,
            "--no-analysis")  # fmt: skip
    _manage(base, "analyze_catalog", "--catalog", catalog, "--sync")
    ids = json.loads(_manage(base, "shell", "-c", (
        "import json; from materials.models import Material; "
        f"print(json.dumps(list(Material.objects.filter(catalog__name='{catalog}')"
        ".values_list('pk', flat=True))))")).strip().splitlines()[-1])  # fmt: skip
    result = {"machine": platform.node(), "cpus": os.cpu_count(), "clients": args.clients,
              "seconds": args.seconds, "materials": len(ids)}  # fmt: skip
    try:
        result["database"] = run_setup(base, args.clients, args.seconds, ids)
        redis_env = {**base, "REDIS_URL": args.redis_url, "SWATCH_CACHE_PREFIX": catalog,
                     "SWATCH_Q_NAME": catalog}  # fmt: skip
        result["redis"] = run_setup(redis_env, args.clients, args.seconds, ids)
    finally:
        cleanup = (
            "from materials.models import Catalog\nfrom materials.services import catalog_delete\n"
            f"for c in Catalog.objects.filter(name='{catalog}'):\n    catalog_delete(catalog=c)"
        )
        _manage(base, "shell", "-c", cleanup)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
