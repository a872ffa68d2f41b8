"""The largest images Swatch accepts, searched over HTTP: how long an answer takes and what it
does to the web worker's memory, measured in one run (optionally beside an earlier revision).

    SWATCH_ENV=development nice -n 10 .venv/bin/python bench/bench_big_upload.py \\
        [--uploads 5] [--concurrent 2] [--baseline REV] [--json bench/results/big_upload.json]

Starts gunicorn (one worker, as `./swatch up` starts each, on the embedded database and its
catalog: run `./swatch up` once first) on a free loopback port and makes two 40-megapixel
images under the upload cap: a JPEG photo of a texture (grain, quality 90) and a PNG render of
one (smooth, so it stays under 25 MiB). Each upload carries a different nonce (a JPEG comment,
a PNG text chunk): different bytes, the same pixels, so no cache keyed by the file's hash
answers for the work. Per format: `--uploads` one after the other (the worker idle before
each), then `--concurrent` at once, to `POST /api/v1/search/`; the worker's resident memory
(RSS, psutil) is read after a warm-up with small images (the models and the catalog's
features loaded), after the five uploads of each format, after the concurrent ones and after
a rest.

With `--baseline REV`, that revision's code (`git archive`, the same virtualenv, database and
settings) is measured first, then this tree's, in the same run: the machine is shared and
loaded, so compare the two (ratios), not figures across runs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BOUNDARY = "swatchbench"
WIDTH, HEIGHT = 7744, 5164  # 40.0 MP: the most pixels accepted


def _texture(width: int, height: int, *, grain: float):
    import numpy as np
    from PIL import Image, ImageChops

    rng = np.random.default_rng(12)
    cells = rng.integers(0, 255, (height // 256 + 2, width // 256 + 2, 3), dtype=np.uint8)
    image = Image.fromarray(cells).resize((width, height), Image.Resampling.BICUBIC)
    if grain:
        noise = Image.effect_noise((width, height), grain)
        image = ImageChops.add(image, Image.merge("RGB", (noise, noise, noise)), 1.0, -128)
    return image


def big_images(width: int = WIDTH, height: int = HEIGHT) -> dict[str, bytes]:
    """{"jpeg": a photo of a texture, "png": a render of one}, both `width` × `height`."""
    encoded = {}
    for kind, grain, options in (("jpeg", 4.0, {"quality": 90}), ("png", 0.0, {})):
        buffer = io.BytesIO()
        _texture(width, height, grain=grain).save(buffer, kind.upper(), **options)
        encoded[kind] = buffer.getvalue()
    return encoded


def with_nonce(data: bytes, nonce: str) -> bytes:
    """The same image in other bytes: a JPEG comment segment or a PNG text chunk."""
    text = nonce.encode()
    if data[:2] == b"\xff\xd8":
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]
    chunk = b"tEXt" + b"nonce\x00" + text
    packed = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return data[:33] + packed + data[33:]  # after the signature and IHDR


def _multipart(data: bytes, filename: str = "big.png", content_type: str = "image/png") -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _image_body(kind: str, data: bytes) -> bytes:
    return _multipart(data, f"big.{kind}", f"image/{kind}")


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


def _start(
    log: Path, env: dict[str, str], workers: int | None = 1, code: Path = BASE_DIR
) -> tuple[subprocess.Popen, str]:
    """gunicorn as config/gunicorn.py sizes it (`workers` None: from the CPU count), running
    the code in `code`."""
    sized = ["--workers", str(workers)] if workers else []
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn and settings
        [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py",
         "config.wsgi:application", "--bind", "127.0.0.1:0", *sized],
        cwd=code, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
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


def _worker(master: int):
    import psutil

    return psutil.Process(master).children()[0]


def _rss(master: int) -> tuple[int, float]:
    worker = _worker(master)
    return worker.pid, round(worker.memory_info().rss / 2**20, 1)


def _idle(master: int, limit: float = 60.0) -> None:
    """Until the worker has stopped working (its queued refinements done): under 5 % of a
    core over a second."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            worker = _worker(master)
            before = sum(worker.cpu_times()[:2])
            time.sleep(1.0)
            if sum(worker.cpu_times()[:2]) - before < 0.05:
                return
        except (IndexError, OSError):  # being replaced
            time.sleep(1.0)


def _measure(url: str, master: int, images: dict[str, bytes], uploads: int, concurrent: int):
    count = iter(range(10**6))

    def body(kind: str) -> bytes:
        return _image_body(kind, with_nonce(images[kind], f"{time.time_ns()}-{next(count)}"))

    pid, baseline = _rss(master)
    result: dict = {"baseline_rss_mib": baseline, "formats": {}}
    for kind in images:
        one_by_one = []
        for _ in range(uploads):
            _idle(master)
            status, seconds = upload(url, body(kind))
            one_by_one.append({"status": status, "seconds": seconds, "rss_mib": _rss(master)[1]})
        _idle(master)
        bodies = [body(kind) for _ in range(concurrent)]
        with ThreadPoolExecutor(concurrent) as pool:
            together = list(pool.map(lambda b: upload(url, b), bodies))
        result["formats"][kind] = {
            "one_at_a_time": one_by_one,
            "at_once": [{"status": s, "seconds": t} for s, t in together],
            "rss_after_at_once_mib": _rss(master)[1],
        }
    _idle(master)
    worker_now, rested = _rss(master)
    result.update(
        rss_after_rest_mib=rested,
        rss_growth_after_rest_mib=round(rested - baseline, 1),
        worker_recycled=worker_now != pid,
    )
    return result


def _warm_up(url: str, master: int) -> None:
    """The models loaded and the catalog's nearest images' features cached, by small images
    of the same textures (what the worker holds whatever the upload's size)."""
    for kind, data in big_images(1224, 816).items():
        for n in range(2):
            upload(url, _image_body(kind, with_nonce(data, f"warm-{n}")))
            _idle(master)


def _variant(code: Path, env: dict[str, str], images, uploads: int, concurrent: int) -> dict:
    log = Path(tempfile.mkdtemp(prefix="swatch-bench-")) / "server.log"
    server, url = _start(log, env, code=code)
    try:
        _warm_up(url, server.pid)
        return _measure(url, server.pid, images, uploads, concurrent)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def _baseline_tree(revision: str) -> Path:
    """That revision's code in a temporary folder, with this tree's virtualenv."""
    folder = Path(tempfile.mkdtemp(prefix="swatch-baseline-"))
    archive = subprocess.run(["git", "archive", revision], cwd=BASE_DIR, check=True,  # noqa: S603, S607
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)  # noqa: S603, S607
    (folder / ".venv").symlink_to(BASE_DIR / ".venv")
    return folder


def _summary(variant: dict) -> dict:
    summary = {}
    for kind, figures in variant["formats"].items():
        summary[f"{kind}_one_median_s"] = sorted(r["seconds"] for r in figures["one_at_a_time"])[
            len(figures["one_at_a_time"]) // 2
        ]
        summary[f"{kind}_at_once_slowest_s"] = max(r["seconds"] for r in figures["at_once"])
    summary["rss_growth_after_rest_mib"] = variant["rss_growth_after_rest_mib"]
    return summary


def run(*, uploads: int, concurrent: int, baseline: str | None) -> dict:
    images = big_images()
    var_dir = os.environ.get("SWATCH_VAR_DIR", str(BASE_DIR / "var"))
    env = {**os.environ, "SWATCH_ENV": os.environ.get("SWATCH_ENV", "development"),
           "SWATCH_VAR_DIR": var_dir, "SWATCH_SEARCH_RATE_BURST": "1000/1s",
           "SWATCH_SEARCH_RATE_MINUTE": "10000/60s", "SWATCH_LOG_LEVEL": "WARNING"}  # fmt: skip
    for command in (["migrate"], ["collectstatic", "--noinput"]):  # as ./swatch up does
        subprocess.run([sys.executable, "manage.py", *command, "-v", "0"], cwd=BASE_DIR, env=env,  # noqa: S603
                       check=True)  # fmt: skip
    result: dict = {
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
        "images": {
            kind: {
                "width": WIDTH,
                "height": HEIGHT,
                "megapixels": round(WIDTH * HEIGHT / 1e6, 1),
                "bytes": len(data),
            }
            for kind, data in images.items()
        },  # fmt: skip
        "uploads_one_at_a_time": uploads,
        "at_once": concurrent,
    }
    if baseline:
        result["baseline_revision"] = baseline
        result["baseline"] = _variant(_baseline_tree(baseline), env, images, uploads, concurrent)
    result["current"] = _variant(BASE_DIR, env, images, uploads, concurrent)
    result["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    result["summary"] = {"current": _summary(result["current"])}
    if baseline:
        result["summary"]["baseline"] = _summary(result["baseline"])
        result["summary"]["current_over_baseline"] = {
            key: round(value / result["summary"]["baseline"][key], 2)
            for key, value in result["summary"]["current"].items()
            if result["summary"]["baseline"][key]
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--baseline", default=None, help="a git revision to measure first")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(uploads=args.uploads, concurrent=args.concurrent, baseline=args.baseline)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
