"""A few of shared/data's labelled textures of each category, copied as a labelled folder
(images and labels.csv) for the commands and harness that read one."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import SHARED_DATA


def labelled_textures(folder: Path, *, per_category: int, also: str | None = None) -> Path:
    """`per_category` textures of each category, and the one whose path ends with `also`."""
    with (SHARED_DATA / "labels.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    picked, seen = [], {}
    for row in rows:
        if seen.get(row["category"], 0) < per_category or (also and row["path"].endswith(also)):
            seen[row["category"]] = seen.get(row["category"], 0) + 1
            picked.append(row)
    for row in picked:
        target = folder / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((SHARED_DATA / row["path"]).read_bytes())
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return folder
