"""The README's scale tables from `bench_search` JSON files (one per catalog size).

python bench/scale_table.py bench/results/bench_search_*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _f(figures: dict, key: str, spec: str) -> str:
    value = figures.get(key)
    return "—" if value is None else format(value, spec)


def _p95(run: dict, path: str) -> float:
    return run[path]["p95_ms"]


def _image_index(run: dict) -> tuple[float, float]:
    builds = run.get("index_builds", {})
    image = next((v for k, v in builds.items() if k.endswith("_image")), {})
    return image.get("seconds", float("nan")), image.get("mb", float("nan"))


def scale_rows(runs: list[dict]) -> list[str]:
    rows = [
        "| items | COPY s | image HNSW build s | image index MB | recall@20 | raw_sql p50 / p95 ms "
        "| vector p95 | fused p95 | api p95 | api − raw p95 | 5% filter recall / p95 "
        "| 0.1% filter recall / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        seconds, mb = _image_index(run)
        f5, f01 = run.get("filter_5pct", {}), run.get("filter_0_1pct", {})
        rows.append(
            f"| {run['items']:,} | {run['seconds'].get('copy', 0):.0f} | {seconds:.0f} | {mb:.0f} "
            f"| {run['recall_at_20']:.3f} | {run['raw_sql']['p50_ms']:.1f} / "
            f"{_p95(run, 'raw_sql'):.1f} "
            f"| {_p95(run, 'vector'):.1f} | {_p95(run, 'fused'):.1f} | {_p95(run, 'api'):.1f} "
            f"| {_p95(run, 'api') - _p95(run, 'raw_sql'):+.1f} "
            f"| {_f(f5, 'recall_at_20', '.3f')} / {_f(f5, 'p95_ms', '.0f')} "
            f"| {_f(f01, 'recall_at_20', '.3f')} / {_f(f01, 'p95_ms', '.0f')} |"
        )
    return rows


def method_rows(run: dict) -> list[str]:
    methods = run.get("index_methods", {}).get("methods", {})
    rows = [
        "| method | build s | index MB | setting at recall@20 ≥ 0.95 | recall@20 | p50 ms "
        "| p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, figures in methods.items():
        best, build = figures.get("at_target") or {}, figures.get("build", {})
        if not best and figures.get("sweep"):  # no setting reached the target: the closest
            setting, closest = max(figures["sweep"].items(), key=lambda kv: kv[1]["recall_at_20"])
            best = {**closest, "setting": f"{setting} (highest swept; below the target)"}
        rows.append(
            f"| `{name}` | {_f(build, 'seconds', '.0f')} | {_f(build, 'mb', '.0f')} "
            f"| {figures['knob']} = {best.get('setting', '—')} "
            f"| {_f(best, 'recall_at_20', '.3f')} | {_f(best, 'p50_ms', '.2f')} "
            f"| {_f(best, 'p95_ms', '.2f')} |"
        )
    return rows


def main(paths: list[str]) -> None:
    runs = sorted((json.loads(Path(p).read_text()) for p in paths), key=lambda r: r["items"])
    print("\n".join(scale_rows(runs)))
    for run in runs:
        if run.get("index_methods"):
            print(f"\n{run['items']:,} items:\n" + "\n".join(method_rows(run)))


if __name__ == "__main__":
    main(sys.argv[1:])
