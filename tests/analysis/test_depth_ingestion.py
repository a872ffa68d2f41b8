"""The analysis options of ingestion: `import_catalog` / `analyze_catalog` take `--depth`,
`--no-vision`, `--no-clip`; the task carries them (also when deferred); the depth reaches the
vision model's request, the ledger row and the analysis; without CLIP the offline embedder's
vectors are stored and the CLIP endpoint (the fake) is never asked."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_q.models import OrmQ

from analysis.models import Embedding, ModelCall, VisualAnalysis
from analysis.pipeline import PipelineProviders
from analysis.tasks import analysis_task
from tests.analysis.pipeline_support import (
    HashingTextEmbedder,
)
from tests.analysis.test_limits_pipeline import CHAT, PROVIDERS, _chain, _png
from tests.analysis.test_limits_pipeline import clock as clock  # noqa: PLC0414 - a fixture
from tests.analysis.test_limits_pipeline import fake as fake  # noqa: PLC0414 - a fixture
from tests.analysis.test_limits_wire import EMBEDDINGS
from tests.fakes.clip_chain import remote_clip_chain as _clip_chain
from tests.fakes.local_providers import PixelEmbedder

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


def test_import_without_clip_embeds_offline_and_sends_nothing_to_clip(fake, tmp_path):
    # given a deployment whose image embedder is remote CLIP (the fake), then offline
    chain = PipelineProviders(
        _chain(fake.base_url), _clip_chain(fake.base_url), HashingTextEmbedder()
    )
    PROVIDERS.append(chain)
    try:
        # when images are imported with --no-clip and the worker runs the tasks
        _run("import_catalog", str(_folder(tmp_path, 2, 700)), "--catalog", "noclip", "--no-clip")
        tasks = list(OrmQ.objects.all())
        assert [t.task["kwargs"]["analysis"]["clip"] for t in tasks] == [False, False]
        for queued in tasks:
            queued.delete()
            analysis_task(*queued.task["args"], **queued.task["kwargs"])
        # then the vision model described them, but CLIP was never asked: offline vectors
        assert len(fake.requests_to(CHAT)) == 2
        assert not fake.requests_to(EMBEDDINGS)
        assert _image_models("noclip") == {PixelEmbedder.model}
        # and the control: analysed again with CLIP, CLIP is asked and its vectors stored
        _run("analyze_catalog", "--catalog", "noclip", "--sync", "--force")
        assert fake.requests_to(EMBEDDINGS)
        assert "clip-vit-b-32" in _image_models("noclip")
    finally:
        PROVIDERS.remove(chain)


def _image_models(catalog: str) -> set[str]:
    rows = Embedding.objects.filter(image__catalog__name=catalog, kind="image")
    return set(rows.values_list("model", flat=True))
