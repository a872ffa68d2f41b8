"""Issue 14: docs/API.md's examples work. Every `sh` block of it is run, in order, in one bash
session against a live server, with a key made as the page says (by the service behind
`api_keys create`) and a sample photo; each block must succeed, and what the page says they
show is checked in their output."""

from __future__ import annotations

import io
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from PIL import Image

from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db(transaction=True)
DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)


def _new_sample_png() -> bytes:
    """A brown photo no earlier test can have had described: a description cached under the
    image's hash (another test's refinement may finish after that test) would answer the first
    search refined at once, and the page shows a fast first answer, then the poll."""
    image = Image.open(io.BytesIO(png(COLORS["brown"]))).convert("RGB")  # the tests' sample
    image.putpixel((1, 0), tuple(uuid.uuid4().bytes[:3]))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text())


def test_the_page_has_the_quickstart_examples():
    text = "\n".join(_blocks())
    for step in ("-F image=@sample.png", "/api/v1/search/$QUERY_ID/", "page=2", '"filters"',
                 '"weights"', "ratelimit"):  # fmt: skip
        assert step in text, step


def test_every_example_of_docs_api_runs_against_a_live_server(
    live_server, providers, sample_catalog, make_key, gate, settings, tmp_path
):
    settings.SWATCH_API_ANONYMOUS = False  # as in production: the key is what lets them in
    gate.set()  # the describer answers: the poll sees the refined answer
    (tmp_path / "sample.png").write_bytes(_new_sample_png())
    env = {"SWATCH_URL": live_server.url, "SWATCH_KEY": make_key().secret, "PATH": "/usr/bin:/bin"}
    outputs = []
    for block in _blocks():
        script = "set -euo pipefail\n" + "\n".join(f"export {k}={v!r}" for k, v in env.items())
        state = tmp_path / "state.sh"
        if state.exists():
            script += "\n" + state.read_text()
        script += f"\n{block}\ndeclare -p QUERY_ID > {state} 2>/dev/null || true\n"
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, f"{block}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)

    first = json.loads((tmp_path / "first.json").read_text())
    answer = json.loads((tmp_path / "answer.json").read_text())
    error = json.loads((tmp_path / "error.json").read_text())["error"]
    assert first["phase"] == "fast"
    assert first["results"]
    assert (answer["phase"], answer["refinement"]) == ("refined", "done")
    assert '"page": 2' in outputs[3]
    assert (error["code"], error["field"]) == ("unknown_field", "filter")
    assert "ratelimit-remaining" in outputs[-1].lower()
