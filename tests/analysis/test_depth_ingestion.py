"""The analysis options of ingestion: `import_catalog` / `analyze_catalog` take `--depth`,
`--no-vision`, `--no-clip`; the task carries them (also when deferred); the depth reaches the
vision model's request, the ledger row and the analysis."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_q.models import OrmQ

from analysis.models import ModelCall, VisualAnalysis
from analysis.tasks import analysis_task
from tests.analysis.pipeline_support import own_cache  # noqa: F401 - a fixture
from tests.analysis.test_limits_pipeline import CHAT, _png
from tests.analysis.test_limits_pipeline import clock as clock  # noqa: PLC0414 - a fixture
from tests.analysis.test_limits_pipeline import fake as fake  # noqa: PLC0414 - a fixture

# The pipeline's threads write the ledger on their own connections: committed, then flushed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache")]


def _folder(tmp_path, count: int, seed: int):
    folder = tmp_path / "import" / "tiles"
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"tile-{i}.png").write_bytes(_png(seed + i))
    return tmp_path / "import"


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_at_a_depth_queues_tasks_that_ask_at_that_depth(fake, tmp_path):
    _run("import_catalog", str(_folder(tmp_path, 2, 500)), "--catalog", "deep",
         "--depth", "comprehensive")  # fmt: skip
    tasks = list(OrmQ.objects.all())
    assert {t.task["kwargs"]["analysis"]["depth"] for t in tasks} == {"comprehensive"}
    for queued in tasks:
        queued.delete()
        analysis_task(*queued.task["args"], **queued.task["kwargs"])
    assert [r.body["max_tokens"] for r in fake.requests_to(CHAT)] == [2000, 2000]
    rows = VisualAnalysis.objects.filter(image__catalog__name="deep")
    assert set(rows.values_list("depth", "source")) == {("comprehensive", "model")}
    assert set(ModelCall.objects.filter(provider="openai").values_list("depth", flat=True)) == {
        "comprehensive"
    }


def test_analyze_catalog_sync_basic_and_without_vision(fake, tmp_path):
    _run("import_catalog", str(_folder(tmp_path, 2, 600)), "--catalog", "c", "--no-analysis")
    _run("analyze_catalog", "--catalog", "c", "--sync", "--depth", "basic")
    assert [r.body["max_tokens"] for r in fake.requests_to(CHAT)] == [500, 500]
    assert set(VisualAnalysis.objects.values_list("depth", flat=True)) == {"basic"}
    # when analysed again without the vision model: the offline analyser, no request
    _run("analyze_catalog", "--catalog", "c", "--sync", "--force", "--no-vision")
    assert len(fake.requests_to(CHAT)) == 2
    assert set(VisualAnalysis.objects.values_list("source", flat=True)) == {"offline"}
