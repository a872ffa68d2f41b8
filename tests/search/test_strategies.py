"""Strategies against real Postgres + pgvector: plans, filtered recall, property matching."""

import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from analysis.models import Embedding
from materials.models import Catalog, Material, MaterialImage
from search.query import filters_parse
from search.strategies.properties import (
    candidates_from_facets,
    description_similarity,
)
from search.strategies.sql import vector_index
from search.strategies.vector import (
    StoredVector,
    VectorPlan,
    vector_plan,
    vector_search,
    vector_search_with_rows,
    vector_sql,
)
from search.textquery import description_from_text
from tests.search.providers import IMAGE_MODEL, describe_color
from tests.search.queries import work_statements

pytestmark = pytest.mark.django_db
DIMS = 64


def bulk_catalog(n: int, rare_every: int, seed: int = 7):
    """n materials with clustered unit vectors; every `rare_every`-th is category `rare`,
    and rare ones sit in their own cluster, away from the query."""
    rng = np.random.default_rng(seed)
    catalog = Catalog.objects.create(name="bulk")
    common_centre, rare_centre = rng.normal(size=DIMS), rng.normal(size=DIMS)
    materials = Material.objects.bulk_create(
        [
            Material(
                catalog=catalog, name=f"m{i}", category="rare" if i % rare_every == 0 else "common"
            )
            for i in range(n)
        ]
    )
    images = MaterialImage.objects.bulk_create(
        [
            MaterialImage(
                material=m,
                catalog=catalog,
                image=f"images/x/{i}.jpg",
                sha256=f"{i:064x}",
                is_primary=True,
            )
            for i, m in enumerate(materials)
        ]
    )
    vectors = {}
    rows = []
    for material, image in zip(materials, images, strict=True):
        centre = rare_centre if material.category == "rare" else common_centre
        vector = centre + rng.normal(scale=0.6, size=DIMS)
        vector /= np.linalg.norm(vector)
        vectors[material.pk] = (material.category, vector)
        rows.append(
            Embedding(
                image=image,
                kind="image",
                model=IMAGE_MODEL,
                dimensions=DIMS,
                vector=vector.tolist(),
            )
        )
    Embedding.objects.bulk_create(rows)
    query = common_centre / np.linalg.norm(common_centre)
    return vectors, query


def exact_top(vectors, query, *, category=None, k=10):
    scored = [(float(v @ query), pk) for pk, (cat, v) in vectors.items() if category in (None, cat)]
    return [pk for _, pk in sorted(scored, reverse=True)[:k]]


@pytest.mark.parametrize("exact_scan_max_rows", [20000, 0], ids=["exact", "iterative"])
def test_a_filter_keeping_5_percent_still_returns_limit_results(
    vector_indexes, exact_scan_max_rows
):
    # given 400 materials of which 5% are `rare`, far from the query
    vectors, query = bulk_catalog(400, rare_every=20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analysis_embedding")
    filters = filters_parse(raw={"category": "rare"})

    # when the nearest 10 rare materials are asked for
    hits = vector_search(
        vector=query,
        model=IMAGE_MODEL,
        dimensions=DIMS,
        filters=filters,
        limit=10,
        threshold=0.75,
        ef_search=40,
        exact_scan_max_rows=exact_scan_max_rows,
    )

    # then 10 come back, all rare, the true nearest ones
    assert len(hits) == 10
    assert {vectors[h.material_id][0] for h in hits} == {"rare"}
    assert hits[0].details["plan"] == ("exact" if exact_scan_max_rows else "iterative")
    assert [h.material_id for h in hits] == exact_top(vectors, query, category="rare")


def test_the_plan_follows_selectivity(vector_indexes):
    bulk_catalog(200, rare_every=20)
    filters = filters_parse(raw={"category": "rare"})

    selective = vector_plan(
        model=IMAGE_MODEL, kind="image", dimensions=DIMS, filters=filters, exact_scan_max_rows=50
    )
    broad = vector_plan(
        model=IMAGE_MODEL, kind="image", dimensions=DIMS, filters=filters, exact_scan_max_rows=5
    )
    unfiltered = vector_plan(
        model=IMAGE_MODEL,
        kind="image",
        dimensions=DIMS,
        filters=filters_parse(raw={}),
        exact_scan_max_rows=5,
    )

    assert (selective.mode, selective.filtered_rows) == ("exact", 10)
    assert broad.mode == "iterative"
    assert unfiltered.mode == "index"


def test_unfiltered_and_iterative_queries_use_the_partial_hnsw_index(vector_indexes):
    vectors, query = bulk_catalog(300, rare_every=20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analysis_embedding")
    index = vector_index(model=IMAGE_MODEL, kind="image", dimensions=DIMS)

    def explain(plan, filters):
        sql, args = vector_sql(plan=plan, index=index, vector=query, filters=filters, fetch=20)
        with transaction.atomic(), connection.cursor() as cursor:
            # A 300-row table is cheaper to scan and sort: make the planner show what it can use.
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"SET LOCAL {setting} = off")
            cursor.execute("EXPLAIN " + sql, args)
            return "\n".join(row[0] for row in cursor.fetchall())

    assert index.name in explain(VectorPlan("index"), filters_parse(raw={}))
    assert index.name in explain(VectorPlan("iterative"), filters_parse(raw={"category": "rare"}))
    assert index.name not in explain(VectorPlan("exact"), filters_parse(raw={"category": "rare"}))


def test_unfiltered_hnsw_results_match_exact_search(vector_indexes):
    vectors, query = bulk_catalog(300, rare_every=20)

    hits = vector_search(
        vector=query,
        model=IMAGE_MODEL,
        dimensions=DIMS,
        filters=filters_parse(raw={}),
        limit=10,
        threshold=0.75,
    )

    assert [h.material_id for h in hits] == exact_top(vectors, query)
    assert hits[0].score == pytest.approx(float(vectors[hits[0].material_id][1] @ query), abs=1e-5)
    # the first hit carries its lead over the second (relevance evidence); no other does
    assert hits[0].details["lead"] == pytest.approx(hits[0].score - hits[1].score, abs=1e-5)
    assert all("lead" not in h.details for h in hits[1:])


def test_description_similarity_scores_type_colour_finish_pattern():
    query = describe_color(
        (120, 78, 45), material_type="wood", finish="matte", pattern="grain"
    ).model_dump(mode="json")
    same = describe_color(
        (122, 80, 46), material_type="wood", finish="matte", pattern="grain"
    ).model_dump(mode="json")
    other = describe_color(
        (30, 40, 90), material_type="fabric", finish="glossy", pattern="woven"
    ).model_dump(mode="json")

    close, close_matched = description_similarity(query=query, candidate=same)
    far, far_matched = description_similarity(query=query, candidate=other)

    assert close > 0.95
    assert far < 0.35
    assert close_matched == {
        "material_type": True,
        "colors": True,
        "finish": True,
        "pattern": True,
        "texture": True,
    }
    assert far_matched["material_type"] is False
    assert far_matched["colors"] is False
    assert far_matched["finish"] is False


def test_the_catalogs_own_category_counts_as_its_type():
    query = {"material_type": "marble"}
    unanalysed = {}

    score, matched = description_similarity(query=query, candidate=unanalysed, category="Marble")

    assert score == 1.0
    assert matched["material_type"] is True


def test_a_text_query_names_attributes():
    found = description_from_text("Polished dark grey marble with veining, not timber")

    assert found["material_type"] == "marble"
    assert found["finish"] == "polished"
    assert found["pattern"] == "veined"
    assert [c["name"] for c in found["colors"]] == ["dark grey"]
    assert description_from_text("something nice") == {}


def test_an_unfiltered_search_reads_its_best_hits_read_model_rows_in_the_same_statement(
    vector_indexes,
):
    vectors, query = bulk_catalog(120, rare_every=20)
    excluded = exact_top(vectors, query, k=1)

    with CaptureQueriesContext(connection) as captured:
        hits, rows = vector_search_with_rows(
            vector=query,
            model=IMAGE_MODEL,
            dimensions=DIMS,
            filters=filters_parse(raw={}),
            limit=10,
            threshold=0.75,
            exclude_material_ids=excluded,
            rows_of_best=4,
        )

    ids = [h.material_id for h in hits]
    assert ids == exact_top(vectors, query, k=11)[1:]
    # one statement (settings aside) for the hits and their rows
    assert len(work_statements(captured)) == 1
    # Rows for the four best only, as the read model holds them.
    assert list(rows) == ids[:4]
    candidates = candidates_from_facets(rows)
    for pk, (category, _, result) in rows.items():
        material = Material.objects.get(pk=pk)
        assert category == candidates[pk].category == material.category
        assert candidates[pk].compared == {}  # no analysis: nothing to compare
        image = material.images.get().image.name
        assert result == (pk, material.name, material.category, "bulk", "", image)


def test_a_filtered_search_reads_no_rows_along(vector_indexes):
    bulk_catalog(120, rare_every=20)

    hits, rows = vector_search_with_rows(
        vector=np.ones(DIMS) / np.sqrt(DIMS),
        model=IMAGE_MODEL,
        dimensions=DIMS,
        filters=filters_parse(raw={"category": "rare"}),
        limit=3,
        threshold=0.0,
    )

    assert len(hits) == 3
    assert rows == {}


@pytest.mark.parametrize(
    ("raw_filters", "exact_scan_max_rows"),
    [({}, 20000), ({"category": "rare"}, 20000), ({"category": "rare"}, 0)],
    ids=["index", "exact", "iterative"],
)
def test_a_stored_vector_searches_like_its_value(vector_indexes, raw_filters, exact_scan_max_rows):
    # given a material's stored image vector
    vectors, _ = bulk_catalog(200, rare_every=10)
    material_id = next(iter(vectors))
    stored = Embedding.objects.get(image__material_id=material_id, model=IMAGE_MODEL)

    def search(vector):
        return vector_search(
            vector=vector, model=IMAGE_MODEL, dimensions=DIMS,
            filters=filters_parse(raw=raw_filters), limit=8, threshold=0.5,
            exact_scan_max_rows=exact_scan_max_rows, exclude_material_ids=[material_id],
        )  # fmt: skip

    # when it is searched for by reference and by value
    by_reference = search(StoredVector(stored.pk))
    by_value = search(np.asarray(stored.vector, dtype=np.float32))

    # then both find the same materials, equally similar, whatever the plan
    assert len(by_reference) == 8
    assert [h.material_id for h in by_reference] == [h.material_id for h in by_value]
    for a, b in zip(by_reference, by_value, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-5)
        assert a.details == b.details
