"""`bench_search` end to end on a tiny synthetic catalog: the contract's JSON keys, a recall
worth the name, real timings of all four paths (the API over real HTTP), and nothing left
behind — also when the run is interrupted."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from materials.models import Catalog
from search.benchmark import synthetic
from search.benchmark.claims import synthetic_catalogs_abandoned_drop, synthetic_run_claimed
from search.benchmark.run import BenchmarkError, search_benchmark
from search.benchmark.synthetic import (
    SyntheticCatalog,
    synthetic_catalog_drop,
    synthetic_catalog_exists,
    synthetic_catalog_load,
)

PATHS = ("raw_sql", "vector", "fused", "api")


def _bench_leftovers() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analysis_embedding WHERE model LIKE 'bench-%%'")
        embeddings = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname ~ '^emb_[a-z]+_bench_'")
        indexes = cursor.fetchone()[0]
    return embeddings, indexes


@pytest.mark.django_db(transaction=True)
def test_bench_search_reports_the_contract_keys_and_cleans_up(tmp_path, shared_data, capsys):
    # given a tiny run: 2000 synthetic materials, 20 queries, 3 real images to ingest
    out = tmp_path / "bench.json"

    # when
    call_command(
        "bench_search",
        "--items", "2000", "--queries", "20", "--ingest-images", "3",
        "--images", str(shared_data / "images"), "--json", str(out),
    )  # fmt: skip

    # then the JSON has the contract's keys, printed and written
    result = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == result
    assert result["items"] == 2000
    assert result["queries"] == 20
    for name in PATHS:
        figures = result[name]
        assert set(figures) == {"p50_ms", "p95_ms", "qps"}
        assert 0 < figures["p50_ms"] <= figures["p95_ms"]
        assert figures["qps"] > 0
    # the HNSW index finds what the exact scan finds
    assert result["recall_at_20"] >= 0.9
    # the service, the fusion and HTTP cost more than the SQL they run
    assert result["api"]["p50_ms"] > result["raw_sql"]["p50_ms"]
    assert result["ingest"]["images"] == 3
    assert result["embed_images_per_s"] > 0
    assert result["ingest_images_per_s"] > 0
    # and nothing of the run is left: no catalog, no vectors, no index
    assert not Catalog.objects.filter(name__startswith="bench-search-").exists()
    assert _bench_leftovers() == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_benchmark_removes_its_catalog(monkeypatch):
    # given a run that is interrupted after its catalog is loaded (Ctrl-C while timing)
    loaded: list[SyntheticCatalog] = []

    def interrupted(catalog, **kwargs):
        loaded.append(catalog)
        assert synthetic_catalog_exists(catalog=catalog)
        raise KeyboardInterrupt

    # The interruption itself cannot be sent from a test without killing pytest: raise it
    # where the timing would run.
    monkeypatch.setattr("search.benchmark.run._measure", interrupted)

    # when
    with pytest.raises(KeyboardInterrupt):
        search_benchmark(items=500, queries=5, ingest_paths=[])

    # then
    assert loaded
    assert not synthetic_catalog_exists(catalog=loaded[0])
    assert _bench_leftovers() == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_synthetic_catalog_is_clustered_and_indexed():
    # given
    catalog = synthetic_catalog_load(items=1000, seed=3)
    try:
        # when the nearest neighbours of a material are asked for with the index's expression
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM analysis_embedding WHERE model = %s", [catalog.image_model]
            )
            image_rows = cursor.fetchone()[0]
            cursor.execute(
                f"EXPLAIN SELECT id FROM analysis_embedding WHERE {catalog.image_index.predicate} "
                f"ORDER BY vector::vector(512) <=> %s::vector(512) LIMIT 20",
                [str(catalog.image_vectors[0].tolist())],
            )
            plan = " ".join(row[0] for row in cursor.fetchall())
        similarities = catalog.image_vectors @ catalog.image_vectors[0]

        # then every material has its vector, the HNSW index serves the query, and the
        # vectors are clustered (close neighbours exist) rather than uniform noise
        assert image_rows == 1000
        assert catalog.image_index.name in plan
        assert np_sorted_desc(similarities)[1] > 0.75
    finally:
        synthetic_catalog_drop(catalog=catalog)
    assert not synthetic_catalog_exists(catalog=catalog)


def np_sorted_desc(values):
    return sorted(values.tolist(), reverse=True)


def test_tiny_catalogs_are_refused():
    with pytest.raises(BenchmarkError):
        search_benchmark(items=10, queries=5, ingest_paths=[])


def test_a_run_without_the_static_manifest_stops_before_loading_anything(settings, tmp_path):
    # given the production static storage and no collectstatic output: the API path's server
    # would refuse to start, after the catalog's load and index builds (an hour at 1M)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = str(tmp_path / "static")
    # when the benchmark is asked for, then it stops at once, saying what to run
    with pytest.raises(CommandError, match="collectstatic"):
        call_command("bench_search", "--items", "100", "--json", str(tmp_path / "out.json"))
    assert not (tmp_path / "out.json").exists()


@pytest.mark.django_db(transaction=True)
def test_the_catalog_of_a_killed_run_is_removed_and_a_running_ones_kept():
    # given what a run killed with -9 leaves (rows and indexes, nobody claiming them)
    dead = synthetic_catalog_load(items=60, seed=1)
    # and a run that is still going
    live = SyntheticCatalog(run="0live001")
    try:
        with synthetic_run_claimed(live):
            synthetic_catalog_load(items=60, seed=2, catalog=live)

            # when the next run starts
            removed = synthetic_catalogs_abandoned_drop()

            # then the dead run's catalog is gone, the running one untouched
            assert removed == [dead.run]
            assert not synthetic_catalog_exists(catalog=dead)
            assert synthetic_catalog_exists(catalog=live)
        # and once that run ends without its cleanup, it too is abandoned
        assert synthetic_catalogs_abandoned_drop() == [live.run]
        assert _bench_leftovers() == (0, 0)
    finally:
        synthetic_catalog_drop(catalog=dead)
        synthetic_catalog_drop(catalog=live)


@pytest.mark.django_db(transaction=True)
def test_a_run_blocked_by_another_sessions_lock_stops_and_names_it(monkeypatch):
    # given what a killed run left behind, and another session in a transaction that holds a
    # lock on the embeddings (an orphaned index build, a forgotten shell)
    dead = synthetic_catalog_load(items=40, seed=3)
    monkeypatch.setattr(synthetic, "LOCK_TIMEOUT_SECONDS", 0.5)
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.execute("BEGIN")
        other.execute("LOCK TABLE analysis_embedding IN ACCESS SHARE MODE")
        other_pid = other.info.backend_pid

        # when a run starts (and would drop the leftover's indexes)
        with pytest.raises(BenchmarkError) as raised:
            search_benchmark(items=40, queries=1, ingest_paths=[])

        # then it stops at once, naming the session it waited for
        assert f"pid {other_pid} (idle in transaction" in str(raised.value)
        assert "LOCK TABLE analysis_embedding" in str(raised.value)
    finally:
        other.close()
    # and once that session is gone, the next run cleans up as usual
    assert synthetic_catalogs_abandoned_drop() == [dead.run]
    assert _bench_leftovers() == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_index_variants_build_no_second_copy_of_the_catalogs_own_index(tmp_path, settings):
    # given a catalog served from halfvec indexes (a million-item deployment's setting), and a
    # comparison asked for without the plain HNSW, DiskANN and FAISS
    settings.SWATCH_VECTOR_INDEX_METHOD = "hnsw_halfvec"
    settings.SWATCH = {**settings.SWATCH, "HNSW_M": 12, "HNSW_EF_CONSTRUCTION": 48}
    out = tmp_path / "bench.json"

    # when
    call_command(
        "bench_search",
        "--items", "400", "--queries", "8", "--ingest-images", "0", "--index-variants",
        "--skip-index-methods", "hnsw,diskann,faiss_hnsw", "--json", str(out),
    )  # fmt: skip

    # then only the catalog's own halfvec index is compared, with its build, over the sweep
    result = json.loads(out.read_text())
    methods = result["index_methods"]["methods"]
    assert set(methods) == {"hnsw_halfvec"}
    half = methods["hnsw_halfvec"]
    (image_build,) = [v for k, v in result["index_builds"].items() if k.endswith("_image")]
    assert half["build"] == image_build
    assert list(half["sweep"]) == ["101", "160", "250", "400", "640", "1000"]
    assert all(0.9 <= figures["recall_at_20"] <= 1.0 for figures in half["sweep"].values())
    assert half["at_target"]["setting"] == 101  # 400 items: every walk is exact
    # and the JSON says how the indexes were built
    assert result["config"]["index_method"] == "hnsw_halfvec"
    assert (result["config"]["hnsw"]["m"], result["config"]["hnsw"]["ef_construction"]) == (12, 48)
    assert _bench_leftovers() == (0, 0)


def test_an_unknown_index_method_to_skip_is_refused(tmp_path):
    with pytest.raises(CommandError, match="unknown"):
        call_command(
            "bench_search", "--items", "100", "--index-variants", "--skip-index-methods",
            "ivfflat", "--json", str(tmp_path / "out.json"),
        )  # fmt: skip
