"""The offline analyser (the real one: its ONNX embedder and type classifier) at each analysis
depth: basic is the material type and colours only, a smaller answer; comprehensive adds what
pixels can tell and says what they cannot; each depth under its own cache key; the note of
what could not be done reaches the analysis row and the search answer."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from analysis.caching import description_key
from analysis.depth import AnalysisOptions, AtDepth, depth_check
from analysis.ingest import analysis_run_batch
from analysis.models import VisualAnalysis
from analysis.pipeline import PipelineProviders
from analysis.providers.chains import FallbackDescriber
from analysis.providers.fallback import ProviderLink
from analysis.providers.offline_analyser import OfflineAnalyser
from analysis.providers.protocols import DescribeHints
from analysis.query import query_image_description
from tests.analysis.offline_support import shared_image, shared_rows
from tests.analysis.pipeline_support import (
    HashingTextEmbedder,
    RgbHistogramEmbedder,
    pending_analyses,
    store_images,
)


@pytest.fixture(scope="module")
def analyser() -> OfflineAnalyser:
    return OfflineAnalyser()


@pytest.fixture(scope="module")
def wood() -> Image.Image:
    row = next(r for r in shared_rows() if r["category"] == "wood")
    return shared_image(row)


def _at(analyser, image, depth: str):
    return analyser.describe(image, hints=DescribeHints(depth=depth))


def _size(result) -> int:
    return len(json.dumps(result.description.model_dump(mode="json")))


def test_basic_is_the_material_type_and_colours_only_a_smaller_answer(analyser, wood):
    detailed, basic = _at(analyser, wood, "detailed"), _at(analyser, wood, "basic")
    # the same type and colours as the detailed answer
    assert basic.description.material_type == detailed.description.material_type
    assert basic.description.colors == detailed.description.colors
    assert (
        basic.description.confidence.material_type == detailed.description.confidence.material_type
    )
    # and nothing else assessed: finish and pattern unknown at confidence 0, no properties
    assert (basic.description.finish, basic.description.pattern) == ("unknown", "unknown")
    assert (basic.description.confidence.finish, basic.description.confidence.pattern) == (0, 0)
    assert basic.description.properties == []
    assert basic.description.summary.count(". ") == 0  # one sentence
    assert _size(basic) < _size(detailed)
    # an answer of its own: its depth, its prompt version; nothing it could not do
    assert (basic.depth, basic.depth_note) == ("basic", "")
    assert basic.prompt_version != detailed.prompt_version
    assert detailed.depth == "detailed"


def test_comprehensive_adds_what_pixels_tell_and_says_what_they_cannot(analyser, wood):
    detailed, full = _at(analyser, wood, "detailed"), _at(analyser, wood, "comprehensive")
    # what it can add: more properties (those of detailed kept), a longer summary
    assert set(detailed.description.properties) < set(full.description.properties)
    assert any(p.endswith(" texture") for p in full.description.properties)
    assert len(re.findall(r"[.!?](\s|$)", full.description.summary)) >= 3
    assert len(full.description.summary) > len(detailed.description.summary)
    # and every per-field confidence it has: the schema's comprehensive check passes
    raw = full.description.model_dump(mode="json")
    assert depth_check(raw, "comprehensive") == []
    assert set(raw["confidence"]) == {
        "overall", "material_type", "colors", "texture", "finish", "pattern",
    }  # fmt: skip
    # what it cannot do is said, in the answer and in its summary
    assert full.depth == "comprehensive"
    assert "finish" in full.depth_note
    assert "likely use and care" in full.depth_note
    assert "cannot be judged from pixels" in full.description.summary
    assert full.prompt_version not in (
        detailed.prompt_version,
        _at(analyser, wood, "basic").prompt_version,
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("own_cache")
def test_each_depth_is_cached_under_its_own_key_with_its_note(analyser, wood):
    results = {
        depth: query_image_description(
            pixels=wood, sha256="b" * 64, describer=AtDepth(analyser, depth)
        )
        for depth in ("basic", "comprehensive")
    }
    keys = {
        description_key(
            sha256="b" * 64, model_id=analyser.model_id, prompt_version=r.prompt_version
        )
        for r in results.values()
    }
    assert len(keys) == 2
    # asked again: from the cache, at its depth, with its note
    again = query_image_description(
        pixels=wood, sha256="b" * 64, describer=AtDepth(analyser, "comprehensive")
    )
    assert again.description == results["comprehensive"].description
    assert (again.depth, again.depth_note) == ("comprehensive", results["comprehensive"].depth_note)
    basic = query_image_description(
        pixels=wood, sha256="b" * 64, describer=AtDepth(analyser, "basic")
    )
    assert (basic.depth, basic.description.finish) == ("basic", "unknown")


@pytest.mark.django_db(transaction=True)  # the pipeline's threads write the ledger
@pytest.mark.usefixtures("own_cache")
def test_an_analysis_without_the_vision_model_records_its_depth_and_note(analyser, shared_data):
    offline = ProviderLink(
        name="offline-analyser", build=lambda: analyser, model_of=lambda p: p.model_id,
        offline=True,
    )  # fmt: skip
    providers = PipelineProviders(
        FallbackDescriber([offline]), RgbHistogramEmbedder(), HashingTextEmbedder()
    )
    ids = pending_analyses(store_images(shared_data, 2, catalog="offline-depth"))
    for depth in ("comprehensive", "basic"):
        analysis_run_batch(
            analysis_ids=ids[:1] if depth == "comprehensive" else ids[1:],
            providers=providers,
            options=AnalysisOptions(vision=False, depth=depth),
        )
    full, basic = (VisualAnalysis.objects.get(pk=pk) for pk in ids)
    assert (full.source, full.depth) == ("offline", "comprehensive")
    assert "cannot be judged from pixels" in full.depth_note
    assert (basic.depth, basic.depth_note, basic.description["finish"]) == ("basic", "", "unknown")
    assert full.prompt_version.endswith(".comprehensive")
