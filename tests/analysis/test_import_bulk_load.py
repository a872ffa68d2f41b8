"""A large `import_catalog --sync` is a bulk load of its vectors (analysis/import_runs.py),
against the real Postgres: the image and description models' indexes dropped, every batch's
analyses written with their vectors COPYed in one transaction, the indexes built again; the
same vectors and nearest neighbours as a row-by-row import. A load that stops part way keeps
every batch it committed (an analysis never without its vectors), loses nothing stored before,
gets its indexes back, and `analyze_catalog --sync` finishes it."""

from __future__ import annotations

import io
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection

from analysis import ingest
from analysis.models import AnalysisStatus, Embedding, VisualAnalysis
from analysis.queueing import analysis_reap_stuck
from analysis.registry.bulk_load import EmbeddingBulkLoad
from analysis.registry.indexes import index_state
from analysis.vector_indexes import VectorIndex
from search.models import MaterialFacets
from tests.analysis.pipeline_support import (
    HashingTextEmbedder,
    PixelStatsDescriber,
    RgbHistogramEmbedder,
    counted,
    make_providers,
)
from tests.analysis.test_bulk_load import _nearest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache")]
IMAGES = 8
MODELS = ((RgbHistogramEmbedder, "image"), (HashingTextEmbedder, "description"))
ORIGINAL_FLUSH = EmbeddingBulkLoad.flush
PROVIDERS = "tests.analysis.test_import_bulk_load.current_providers"
CURRENT: dict = {}


def current_providers():
    """`SWATCH_PIPELINE_PROVIDERS` of these tests: what the test put in CURRENT."""
    return CURRENT["providers"]


class InterruptedImageEmbedder(RgbHistogramEmbedder):
    """Ctrl-C (or a SIGTERM turned into one) landing while the `stop_at`-th batch embeds: a
    model's own errors are per-image failures the run records, this stops the run."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at, self.calls = stop_at, 0

    def embed_images(self, images):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return super().embed_images(images)


def failing_flush(monkeypatch, at: int) -> None:
    """The database failing in the `at`-th COPY, after its rows went in: a lost connection or
    a full disk cannot be provoked on the test's own connection without losing the test's
    transaction handling, so the error is raised where the driver would raise it."""
    original, calls = EmbeddingBulkLoad.flush, []

    def flush(self) -> None:
        original(self)
        calls.append(self.model)
        if len(calls) == at:
            raise DatabaseError("connection lost during COPY")

    monkeypatch.setattr(EmbeddingBulkLoad, "flush", flush)


@pytest.fixture
def indexes():
    made = [VectorIndex(cls.model, kind, cls.dimensions) for cls, kind in MODELS]
    with connection.cursor() as cursor:
        for index in made:
            cursor.execute(index.create_sql())
    yield made
    with connection.cursor() as cursor:
        for index in made:
            cursor.execute(index.drop_sql())


@pytest.fixture
def bulk(settings, monkeypatch):
    """Batches of 3 (embedded and written), a bulk load from 4 analyses, the providers the
    test puts in CURRENT."""
    monkeypatch.setattr(ingest, "BULK_WRITE_ROWS", 3)
    settings.SWATCH = {
        **settings.SWATCH, "PIPELINE_PROVIDERS": PROVIDERS, "INGEST_BATCH_SIZE": 3,
        "BULK_LOAD_MIN_ROWS": 4,
    }  # fmt: skip
    CURRENT["providers"] = counted()
    return settings


def _folder(shared_data: Path, root: Path, *, skip: int = 0) -> Path:
    """IMAGES real textures (from the `skip`-th) in their category folders."""
    for path in sorted((shared_data / "images").rglob("*.png"))[skip : skip + IMAGES]:
        target = root / path.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return root


@pytest.fixture
def folder(shared_data, tmp_path) -> Path:
    return _folder(shared_data, tmp_path / "import")


def _import(folder: Path, catalog: str, *more: str) -> str:
    err = io.StringIO()
    call_command(
        "import_catalog", str(folder), "--catalog", catalog, *more,
        stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    return err.getvalue()


def _vectors(catalog: str) -> dict[tuple[str, str], tuple[str, np.ndarray]]:
    """Each stored vector of the catalog by (image hash, kind): its source and the vector."""
    rows = Embedding.objects.filter(image__catalog__name=catalog)
    return {
        (sha, kind): (source, np.asarray(vector))
        for sha, kind, source, vector in rows.values_list(
            "image__sha256", "kind", "source_sha256", "vector"
        )
    }


def _same(found: dict, expected: dict) -> None:
    assert found.keys() == expected.keys()
    for key, (source, vector) in found.items():
        assert source == expected[key][0]
        np.testing.assert_allclose(vector, expected[key][1], atol=1e-6)


def _complete_with_vectors(catalog: str) -> None:
    """Every completed analysis of the catalog has both vectors, and only those have any."""
    analyses = VisualAnalysis.objects.filter(image__catalog__name=catalog)
    done = set(analyses.filter(status=AnalysisStatus.COMPLETED).values_list("image_id", flat=True))
    embedded = Embedding.objects.filter(image__catalog__name=catalog)
    assert set(embedded.values_list("image_id", flat=True)) == done
    assert embedded.count() == 2 * len(done)


def test_a_large_sync_import_bulk_loads_the_vectors_a_row_by_row_import_writes(
    bulk, indexes, folder
):
    # given the folder imported and analysed here below the bulk threshold (row by row)
    bulk.SWATCH = {**bulk.SWATCH, "BULK_LOAD_MIN_ROWS": IMAGES + 1}
    err = _import(folder, "rows", "--sync")
    assert "bulk load" not in err
    # when it is imported again into another catalog at the threshold
    bulk.SWATCH = {**bulk.SWATCH, "BULK_LOAD_MIN_ROWS": 4}
    err = _import(folder, "bulk", "--sync")
    # then it took the bulk path: both models' vectors COPYed, both indexes back and valid
    assert f"analysed {IMAGES}: completed {IMAGES}," in err
    assert f"bulk load: {2 * IMAGES} vectors copied" in err
    assert [index_state(index) for index in indexes] == ["valid", "valid"]
    # and every analysis is completed with the same vectors and sources as row by row
    _complete_with_vectors("bulk")
    loaded = _vectors("bulk")
    assert len(loaded) == 2 * IMAGES
    _same(loaded, _vectors("rows"))
    # and the rebuilt image index answers the nearest images, through the index
    image_index = indexes[0]
    images = [vector for (_, kind), (_, vector) in loaded.items() if kind == "image"]
    stored = dict(
        Embedding.objects.filter(model=image_index.model).values_list("image_id", "vector")
    )
    for vector in images[:3]:
        found, plan = _nearest(image_index, vector, k=3)
        assert image_index.name in plan
        # the nearest is the query's own image (in either catalog: the same pixels)
        np.testing.assert_allclose(stored[found[0]], vector, atol=1e-6)


ANALYSIS_FIELDS = ("status", "source", "description", "model_output", "material_type",
                   "confidence", "model_id", "prompt_version", "depth", "depth_note",
                   "error_reason", "attempts", "reviewed_by_id", "reviewed_at")  # fmt: skip


def _analyses(catalog: str) -> dict[str, tuple]:
    """Each analysis of the catalog by its image's hash: what the write set."""
    rows = VisualAnalysis.objects.filter(image__catalog__name=catalog)
    assert not rows.filter(finished_at__isnull=True).exists()
    return {row[0]: row[1:] for row in rows.values_list("image__sha256", *ANALYSIS_FIELDS)}


def _facets(catalog: str) -> dict[str, tuple]:
    """The search read model's row of each material of the catalog, by material name."""
    rows = MaterialFacets.objects.filter(catalog=catalog)
    return {name: rest for name, *rest in rows.values_list("name", "category", "compared")}


def test_a_bulk_import_writes_the_analyses_and_read_model_a_row_by_row_import_writes(
    bulk, indexes, folder
):
    # given the folder imported and analysed below the bulk threshold (row by row)
    bulk.SWATCH = {**bulk.SWATCH, "BULK_LOAD_MIN_ROWS": IMAGES + 1}
    assert "bulk load" not in _import(folder, "rows", "--sync")
    # when it is imported again into another catalog as a bulk load
    bulk.SWATCH = {**bulk.SWATCH, "BULK_LOAD_MIN_ROWS": 4}
    assert "bulk load" in _import(folder, "bulk", "--sync")
    # then every analysis holds what the row-by-row write stored: description, status, model
    rows, loaded = _analyses("rows"), _analyses("bulk")
    assert len(loaded) == IMAGES
    assert loaded == rows
    assert {row[0] for row in loaded.values()} == {AnalysisStatus.COMPLETED}
    # and the search read model says the same of every material (its facets from them)
    facets = _facets("bulk")
    assert len(facets) == IMAGES
    assert all(compared["material_type"] for _, compared in facets.values())
    assert facets == _facets("rows")


@pytest.mark.parametrize("how", ["interrupted", "copy-fails"])
def test_a_bulk_import_that_stops_keeps_what_it_committed_and_is_finished_by_a_rerun(
    bulk, indexes, folder, shared_data, tmp_path, monkeypatch, how
):
    # given another catalog of other images analysed before, its vectors stored
    _import(_folder(shared_data, tmp_path / "before", skip=IMAGES), "before", "--sync")
    before = _vectors("before")
    # when a bulk import stops in its second batch of three: interrupted while it embeds, or
    # its COPY failing (after the rows went in: the batch's transaction rolls them back)
    if how == "interrupted":
        CURRENT["providers"] = make_providers(
            describer=PixelStatsDescriber(), image_embedder=InterruptedImageEmbedder(2)
        )
    else:
        failing_flush(monkeypatch, at=3)
    with pytest.raises((KeyboardInterrupt, DatabaseError)):
        _import(folder, "stopped", "--sync")
    monkeypatch.setattr(EmbeddingBulkLoad, "flush", ORIGINAL_FLUSH)
    # then the first batch is stored with its vectors, the stopped batch has none
    analyses = VisualAnalysis.objects.filter(image__catalog__name="stopped")
    assert analyses.filter(status=AnalysisStatus.COMPLETED).count() == 3
    _complete_with_vectors("stopped")
    # and the stopped batch is failed (a write that failed: the next run does it again) or
    # still claimed (interrupted: the reaper gives it back), the rest pending
    stopped_as = AnalysisStatus.RUNNING if how == "interrupted" else AnalysisStatus.FAILED
    assert analyses.filter(status=stopped_as).count() == 3
    assert analyses.filter(status=AnalysisStatus.PENDING).count() == IMAGES - 6
    # and nothing stored before is lost, and both indexes are back and valid
    _same(_vectors("before"), before)
    assert [index_state(index) for index in indexes] == ["valid", "valid"]
    # when the catalog is analysed again here, then every image is completed with its vectors
    analysis_reap_stuck(older_than=timedelta(0))
    CURRENT["providers"] = counted()
    call_command(
        "analyze_catalog", "--catalog", "stopped", "--sync",
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert analyses.filter(status=AnalysisStatus.COMPLETED).count() == IMAGES
    _complete_with_vectors("stopped")
    assert len(_vectors("stopped")) == 2 * IMAGES
    _same(_vectors("before"), before)
