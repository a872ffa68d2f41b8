"""The search hot path's own parts: a material's query inputs in one query, result rows read
once, the answer cache's round trips (Redis and the database cache), statements prepared per
connection, and the properties strategy's batch scoring against colours compared pair by pair."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.colors import delta_e00, srgb_to_lab
from analysis.curation.revision import descriptions_revision_bump
from analysis.models import Embedding
from config.store import store
from materials.models import Material, MaterialImage
from search.background import background_wait
from search.prepared import Statement, prepared_execute
from search.query import SearchFilters, SearchQuery, filters_parse
from search.results import SearchAnswer
from search.selectors import material_query_inputs, result_materials_by_id
from search.services.run import search_run
from search.state import (
    QueryState,
    answer_cache_get,
    answer_lookup,
    query_cache_save,
    query_state_load,
)
from search.strategies.properties import (
    descriptions_similarity,
    properties_candidates,
)
from search.strategies.vector import vector_search
from tests.search.providers import IMAGE_MODEL, TEXT_MODEL
from tests.search.queries import work_statements

pytestmark = pytest.mark.django_db


def _answer(query_id: str) -> SearchAnswer:
    return SearchAnswer(
        query_id=query_id, phase="fast", refinement="not_needed", results=[], total=0, page=1,
        limit=20, no_good_match=True, message="", fusion="rrf", weights={"vector": 1.0},
    )  # fmt: skip


def _second_image(material: Material, *, primary: bool) -> MaterialImage:
    return MaterialImage.objects.create(
        material=material, catalog=material.catalog, image=f"extra/{material.pk}.png",
        sha256=f"{material.pk:064x}", is_primary=primary,
    )  # fmt: skip


# --- a material's query inputs ---------------------------------------------------------------


def test_query_inputs_are_the_primary_images_description_and_stored_vectors(sample_catalog):
    # given a material with its analysed primary image
    oak = sample_catalog["oak"]
    image = oak.images.get()
    stored = Embedding.objects.get(image=image, model=IMAGE_MODEL, kind="image")
    text = Embedding.objects.get(image=image, model=TEXT_MODEL, kind="description")

    # when
    inputs = material_query_inputs(
        material_id=oak.pk, image_model=IMAGE_MODEL, text_model=TEXT_MODEL
    )

    # then one query gave the description and both vectors, with their embeddings' ids
    assert inputs.description == image.analysis.description
    np.testing.assert_allclose(inputs.image_vector, np.asarray(stored.vector), rtol=1e-6)
    np.testing.assert_allclose(inputs.text_vector, np.asarray(text.vector), rtol=1e-6)
    assert (inputs.image_embedding_id, inputs.text_embedding_id) == (stored.pk, text.pk)
    # and a model left out gives no vector
    assert material_query_inputs(material_id=oak.pk, image_model=IMAGE_MODEL).text_vector is None
    # and without the values, only the ids come (for a search by reference)
    ids_only = material_query_inputs(
        material_id=oak.pk, image_model=IMAGE_MODEL, text_model=TEXT_MODEL,
        image_values=False, text_values=False,
    )  # fmt: skip
    assert (ids_only.image_vector, ids_only.text_vector) == (None, None)
    assert (ids_only.image_embedding_id, ids_only.text_embedding_id) == (stored.pk, text.pk)


def test_query_vector_comes_from_the_first_image_that_has_one(sample_catalog):
    # given a material whose new primary image has no embedding yet (its first image has)
    oak = sample_catalog["oak"]
    first = oak.images.get()
    MaterialImage.objects.filter(pk=first.pk).update(is_primary=False)
    _second_image(oak, primary=True)

    # when
    inputs = material_query_inputs(material_id=oak.pk, image_model=IMAGE_MODEL)

    # then the description is the primary image's (none: not analysed) and the vector the
    # first image's, as "more like this" always searched with
    assert inputs.description == {}
    stored = Embedding.objects.get(image=first, model=IMAGE_MODEL, kind="image")
    np.testing.assert_allclose(inputs.image_vector, np.asarray(stored.vector), rtol=1e-6)


def test_query_inputs_of_an_unknown_material_are_none_and_of_an_imageless_one_empty(
    sample_catalog,
):
    bare = Material.objects.create(catalog=sample_catalog["oak"].catalog, name="No image yet")

    assert material_query_inputs(material_id=10**9, image_model=IMAGE_MODEL) is None
    inputs = material_query_inputs(material_id=bare.pk, image_model=IMAGE_MODEL)
    assert (inputs.description, inputs.image_vector, inputs.text_vector) == ({}, None, None)


# --- result rows -------------------------------------------------------------------------------


def test_result_rows_read_with_the_properties_candidates_spare_the_results_query(
    sample_catalog, django_assert_num_queries
):
    # given the properties strategy's candidates of an unfiltered search
    oak, slate = sample_catalog["oak"], sample_catalog["slate"]
    candidates = properties_candidates(
        description={"material_type": "wood"},
        filters=SearchFilters(),
        candidate_ids=[oak.pk, slate.pk],
    )
    rows = {c.material_id: c.result for c in candidates}
    assert {oak.pk, slate.pk} <= set(rows)

    # when the answer's materials are among them, then no query is needed
    with django_assert_num_queries(0):
        known = result_materials_by_id(ids=[oak.pk, slate.pk], known=rows)
    # and they are what the results query reads
    assert known == result_materials_by_id(ids=[oak.pk, slate.pk])
    assert known[slate.pk].catalog == "other"
    assert known[oak.pk].thumbnail_url
    # and a material missing from them costs one query for the missing only
    carrara = sample_catalog["carrara"]  # neither a candidate nor of the query's type
    assert carrara.pk not in rows
    with django_assert_num_queries(1):
        mixed = result_materials_by_id(ids=[oak.pk, carrara.pk], known=rows)
    assert mixed[carrara.pk].name == "Carrara"


def test_a_more_like_this_reads_its_result_rows_in_its_vector_query(providers, sample_catalog):
    # given a "more like this" of the vector strategy alone, on a whole catalog
    only_vector = {"vector": 1.0, "properties": 0.0, "semantic": 0.0}
    query = SearchQuery(material_id=sample_catalog["oak"].pk, weights=only_vector, cutoff=False)

    with CaptureQueriesContext(connection) as captured:
        answer = search_run(query=query, refine="never")

    # then the search took two statements (settings aside): the material's inputs, and the
    # nearest neighbours with the results' rows — no third read of the rows
    statements = work_statements(captured)
    assert len(statements) == 2, [sql[:80] for sql in statements]
    # and they are what the results query reads, for every other material of the catalog
    ids = [r.material_id for r in answer.results]
    assert len(ids) == Material.objects.count() - 1
    read = result_materials_by_id(ids=ids)
    assert [(r.name, r.catalog, r.thumbnail_url) for r in answer.results] == [
        (read[pk].name, read[pk].catalog, read[pk].thumbnail_url) for pk in ids
    ]


def test_a_more_like_this_searches_by_its_stored_vectors_unless_it_moves_them(
    providers, sample_catalog
):
    # given a "more like this" of the image and description vectors
    weights = {"vector": 1.0, "properties": 0.0, "semantic": 1.0}
    oak = sample_catalog["oak"]

    def search(**extra):
        query = SearchQuery(material_id=oak.pk, weights=weights, cutoff=False, **extra)
        sent: list = []

        def record(execute, sql, params, many, context):
            sent.extend(params or ())
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            answer = search_run(query=query, refine="never")
        return answer, _vectors_sent(sent)

    # when it runs as it is
    answer, vectors = search()
    # then no vector went to the database: its queries read the material's stored ones
    assert vectors == []
    # and each result's image similarity is the one of the vectors themselves
    stored = Embedding.objects.get(image=oak.images.get(), model=IMAGE_MODEL, kind="image")
    by_value = vector_search(
        vector=np.asarray(stored.vector, dtype=np.float32), model=IMAGE_MODEL, dimensions=64,
        filters=SearchFilters(), limit=50, threshold=0.0, exclude_material_ids=[oak.pk],
    )  # fmt: skip
    expected = {hit.material_id: round(hit.score, 4) for hit in by_value}
    assert answer.results
    assert {r.material_id: r.scores["vector"] for r in answer.results} == {
        r.material_id: expected[r.material_id] for r in answer.results
    }

    # when a negative example moves the query away, then the moved vectors are sent as values
    _, moved = search(negative_text="grey stone")
    assert moved
    assert all(len(vector) == 64 for vector in moved)


def _vectors_sent(params: list) -> list[list[float]]:
    """The statement parameters that are vectors (pgvector's text form, `[x,y,…]`)."""
    vectors = []
    for value in params:
        if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
            try:
                vectors.append([float(x) for x in value[1:-1].split(",")])
            except ValueError:
                continue
    return vectors


def test_the_description_query_walks_its_index_as_far_as_the_semantic_setting_says(
    providers, sample_catalog, settings
):
    # given a semantic ef_search above what the strategy fetches
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "SEMANTIC_EF_SEARCH": 321}
    weights = {"vector": 1.0, "properties": 0.0, "semantic": 1.0}
    query = SearchQuery(material_id=sample_catalog["oak"].pk, weights=weights)

    with CaptureQueriesContext(connection) as captured:
        search_run(query=query, refine="never")

    # then the description query walks that far; the image query as far as its own setting
    # (at least the rows it fetches: 50 candidates, over-fetched twice, plus the excluded one)
    settings_sent = {q["sql"] for q in captured.captured_queries if "hnsw.ef_search" in q["sql"]}
    assert settings_sent == {"SET LOCAL hnsw.ef_search = 321", "SET LOCAL hnsw.ef_search = 101"}


def test_a_filtered_search_reads_its_result_rows_itself(sample_catalog):
    # given a filter that the first image of a material passes, not necessarily its primary
    oak = sample_catalog["oak"]

    candidates = properties_candidates(
        description={"material_type": "wood"},
        filters=filters_parse(raw={"material_type": "wood"}),
        candidate_ids=[oak.pk],
    )

    assert oak.pk in {c.material_id for c in candidates}
    assert all(c.result is None for c in candidates)


# --- batch scoring -----------------------------------------------------------------------------


def _colors(rng: np.random.Generator, count: int) -> list[dict]:
    return [
        {"lab": [float(v) for v in srgb_to_lab(rng.integers(0, 256, 3))],
         "share": float(rng.uniform(0.05, 1.0))}
        for _ in range(count)
    ]  # fmt: skip


def _colour_part_pair_by_pair(query: list[dict], candidate: list[dict]):
    """The colour rule computed one pair of colours at a time with the scalar ΔE00 (checked
    against Sharma's reference data in tests/analysis/test_colors.py): each query colour,
    weighted by its share, scores 1 - ΔE00/25 (0 from 25 on) against the candidate's nearest
    colour; (score, share-weighted ΔE00), None when either side has no colour."""
    if not query or not candidate:
        return None
    nearest = [min(delta_e00(tuple(q["lab"]), tuple(c["lab"])) for c in candidate) for q in query]
    shares = [q["share"] for q in query]
    score = sum(s * max(0.0, 1.0 - d / 25.0) for s, d in zip(shares, nearest, strict=True))
    delta = sum(s * d for s, d in zip(shares, nearest, strict=True))
    return score / sum(shares), delta / sum(shares)


def test_batch_scoring_gives_each_candidate_its_pair_by_pair_colour_score():
    # given queries of 1..3 colours and candidates of 0..3 colours (nothing else described,
    # so a candidate's score is its colour part alone)
    rng = np.random.default_rng(7)
    for _ in range(20):
        query = {"colors": _colors(rng, int(rng.integers(1, 4)))}
        candidates = [({"colors": _colors(rng, int(rng.integers(0, 4)))}, "") for _ in range(25)]

        # when all are scored at once (one vectorised ΔE00 for all colour pairs)
        batch = descriptions_similarity(query=query, candidates=candidates)

        # then each has the score and verdict of its own colours compared pair by pair
        for (candidate, _), (score, matched) in zip(candidates, batch, strict=True):
            expected = _colour_part_pair_by_pair(query["colors"], candidate["colors"])
            if expected is None:
                assert (score, matched["colors"]) == (0.0, None)
                continue
            part, delta = expected
            assert score == pytest.approx(part, abs=1e-9)
            verdict = "matches" if delta <= 15 else "close" if delta <= 28 else "differs"
            assert matched.verdicts["colors"] == verdict
            assert matched["colors"] is (verdict != "differs")


# --- the answer cache --------------------------------------------------------------------------


def test_an_answer_and_its_state_are_cached_with_their_own_lifetimes():
    # given a query's state and its answer
    state = QueryState(query_id="q-ttl", text="oak", weights={"vector": 1.0})
    key, cached = answer_cache_get(state=state)
    assert cached is None

    # when both are written together (one pipelined round trip on Redis)
    query_cache_save(state=state, state_ttl=3600, answer_key=key, answer=_answer("q-ttl"),
                     answer_ttl=300)  # fmt: skip

    # then each lives as long as it should
    assert 290 <= cache.ttl(key) <= 300
    assert 3590 <= cache.ttl("search:query:q-ttl") <= 3600
    assert query_state_load(query_id="q-ttl") == state
    assert answer_cache_get(state=state) == (key, _answer("q-ttl"))


def test_a_search_waits_for_one_cache_round_trip(providers, sample_catalog):
    # given the Redis cache, its commands recorded as they are sent, with the thread that sent
    # them (the search's own, or the background writer's: on a busy machine the background
    # write may go out before the search has returned, so the order alone proves nothing)
    redis = store().redis
    pipeline_class = type(redis.pipeline())
    sent: list[tuple[str, str]] = []
    original_command, original_pipeline = type(redis).execute_command, pipeline_class.execute

    def command(self, *args, **kwargs):
        sent.append((threading.current_thread().name, str(args[0])))
        return original_command(self, *args, **kwargs)

    def pipeline(self, *args, **kwargs):
        names = "+".join(str(c[0][0]) for c in self.command_stack)
        sent.append((threading.current_thread().name, names))
        return original_pipeline(self, *args, **kwargs)

    search_run(query=SearchQuery(material_id=sample_catalog["oak"].pk), refine="never")
    background_wait()  # the revision is known from now on
    type(redis).execute_command, pipeline_class.execute = command, pipeline
    try:
        # when a search runs whose answer is not cached yet
        query = SearchQuery(material_id=sample_catalog["slate"].pk, limit=5)
        answer = search_run(query=query, refine="never")
        background_wait()
    finally:
        type(redis).execute_command, pipeline_class.execute = original_command, original_pipeline

    # then it waited for one round trip: revision and answer looked up, state saved
    me = threading.current_thread().name
    assert [names for thread, names in sent if thread == me] == ["MGET+SET"], sent
    # and the answer was cached afterwards, in the background
    background = [names for thread, names in sent if thread.startswith("swatch-background")]
    assert background == ["SET"], sent
    state = query_state_load(query_id=answer.query_id)
    assert state.material_id == sample_catalog["slate"].pk
    assert answer_cache_get(state=state)[1].results == answer.results


def test_a_corrected_description_is_never_hidden_behind_the_revision_seen_last(
    django_capture_on_commit_callbacks,
):
    # given an answer cached under the revision this process has seen
    state = QueryState(query_id="q-rev", text="glossy cork")
    key, _ = answer_cache_get(state=state)
    query_cache_save(answer_key=key, answer=_answer("q-rev"), answer_ttl=300)
    assert answer_cache_get(state=state)[1] == _answer("q-rev")

    # when a curator's correction moves the revision (in any process: it is in the cache)
    with django_capture_on_commit_callbacks(execute=True):
        descriptions_revision_bump()

    # then the same query is looked up under the new revision's key, and misses
    new_key, cached = answer_cache_get(state=state)
    assert new_key != key
    assert new_key == state.result_key()
    assert cached is None


@pytest.fixture
def database_cache(settings, _run_prefix):
    redis = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",
            "KEY_PREFIX": _run_prefix,
        }
    }
    yield
    settings.CACHES = redis  # the Redis fixture cleans up after itself; the test's rows roll back


def test_without_redis_a_search_reads_and_writes_the_shared_store_in_one_statement_each(
    database_cache, django_assert_max_num_queries, settings
):
    # given a state whose answer is not cached yet, and the revision seen once
    state = QueryState(query_id="q-db", text="slate")
    answer_cache_get(state=state)

    # when it is looked up, one statement reads the revision and the answer and saves the state
    with django_assert_max_num_queries(1):
        lookup = answer_lookup(state=state, state_ttl=3600)
    assert (lookup.cached, lookup.state_saved) == (None, True)
    # and one statement caches the answer
    with django_assert_max_num_queries(1):
        query_cache_save(answer_key=lookup.key, answer=_answer("q-db"), answer_ttl=300,
                         background=True)  # fmt: skip

    # then both are read back, each with its lifetime
    assert store().get_many([lookup.key]) == {lookup.key: _answer("q-db")}
    assert query_state_load(query_id="q-db") == state
    assert answer_lookup(state=state).cached == _answer("q-db")
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT round(extract(epoch FROM expires - now())) FROM swatch_store "
            "WHERE key = ANY(%s) ORDER BY 1",
            [[f"{prefix}:{k}" for k in (lookup.key, "search:query:q-db")]],
        )
        lifetimes = [row[0] for row in cursor.fetchall()]
    assert 290 <= lifetimes[0] <= 300
    assert 3590 <= lifetimes[1] <= 3600
    # and expired entries are not answers
    query_cache_save(answer_key=lookup.key, answer=_answer("q-db"), answer_ttl=-1)
    assert answer_lookup(state=state).cached is None


def test_the_database_cache_table_is_unlogged():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'swatch_cache'")
        assert cursor.fetchone() == ("u",)


# --- prepared statements -----------------------------------------------------------------------

_TWICE = Statement("swatch_test_twice", "SELECT %s::int * 2, %s::text", ("int", "text"))


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_a_statement_is_prepared_once_and_answers_like_the_plain_query():
    with connection.cursor() as cursor:
        prepared_execute(cursor, _TWICE, [21, "x"])
        first = cursor.fetchall()
        prepared_execute(cursor, _TWICE, [5, "it's"])
        second = cursor.fetchall()

    assert (first, second) == ([(42, "x")], [(10, "it's")])
    assert "swatch_test_twice" in _prepared_names()


def test_prepared_statements_can_be_turned_off(settings):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "PREPARED_STATEMENTS": False}
    statement = Statement("swatch_test_off", "SELECT %s::int + 1", ("int",))

    with connection.cursor() as cursor:
        prepared_execute(cursor, statement, [1])
        assert cursor.fetchall() == [(2,)]

    assert "swatch_test_off" not in _prepared_names()


def test_a_statement_needs_a_type_per_placeholder():
    with pytest.raises(ValueError, match="swatch_test_bad"):
        Statement("swatch_test_bad", "SELECT %s", ("int", "int"))


@pytest.mark.django_db(transaction=True)
def test_a_session_that_lost_its_statements_prepares_them_again():
    # given a statement prepared on this connection, then dropped behind its back
    with connection.cursor() as cursor:
        prepared_execute(cursor, _TWICE, [1, "a"])
        cursor.fetchall()
        cursor.execute("DEALLOCATE ALL")

        # when it runs again (outside a transaction), then it is prepared again and answers
        prepared_execute(cursor, _TWICE, [4, "b"])
        assert cursor.fetchall() == [(8, "b")]


def test_the_type_sample_is_read_only_when_the_candidates_lack_materials_of_the_type(
    sample_catalog, django_assert_num_queries
):
    # given a wood query whose other strategies found oak (wood) and slate (stone)
    oak, slate, walnut = sample_catalog["oak"], sample_catalog["slate"], sample_catalog["walnut"]
    wood = {"material_type": "wood"}

    # when one material of the type is enough, then one query, and no sampled walnut
    with django_assert_num_queries(1):
        enough = properties_candidates(
            description=wood, filters=SearchFilters(), candidate_ids=[oak.pk, slate.pk],
            of_type_enough=1,
        )  # fmt: skip
    assert {c.material_id for c in enough} == {oak.pk, slate.pk}

    # when two are wanted, then a second query samples the type: walnut comes in, once
    with django_assert_num_queries(2):
        sampled = properties_candidates(
            description=wood, filters=SearchFilters(), candidate_ids=[oak.pk, slate.pk],
            of_type_enough=2,
        )  # fmt: skip
    assert sorted(c.material_id for c in sampled) == sorted({oak.pk, slate.pk, walnut.pk})


# --- result rows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["a/b c.jpg", "thumbs/x%y.png", "x.jpg", "ü/ö.jpg", "a/./b.jpg", "/abs.png"]
)
def test_media_urls_are_the_storages_own(name, settings):
    from django.core.files.storage import default_storage

    from search.selectors import media_url

    settings.MEDIA_URL = "https://cdn.example.com/media/"
    assert media_url(name) == default_storage.url(name)
    default_storage.url("x")  # the lazy storage set up: the fast path is the one taken
    assert media_url(name) == default_storage.url(name)
