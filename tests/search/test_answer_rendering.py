"""The API renders answers directly (search/api/rendering.py, `answer_rendered`): the same
JSON as a SearchAnswerSerializer built for the answer (the schema's shape), for real answers of
every shape and for the edge cases a search rarely makes, also across threads."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from search.api.rendering import answer_rendered
from search.api.serializers import SearchAnswerSerializer
from search.query import SearchQuery
from search.results import SearchAnswer, SearchResult
from search.services.run import search_run

pytestmark = pytest.mark.django_db


def _answers(catalog) -> list:
    queries = [SearchQuery(material_id=m.pk, cutoff=False, limit=6) for m in catalog.values()]
    queries += [SearchQuery(text="polished white marble"), SearchQuery(text="green grass")]
    return [search_run(query=query, refine="never") for query in queries]


def test_the_renderer_gives_each_answer_its_serializers_json_across_threads(
    providers, sample_catalog
):
    # given real answers of different shapes (more like this, text; explanations, scores)
    answers = _answers(sample_catalog)
    expected = [json.dumps(SearchAnswerSerializer(a).data, sort_keys=True) for a in answers]
    assert len(set(expected)) == len(answers)
    assert all(json.loads(e)["results"] for e in expected)
    # when eight threads render them, each many times, in interleaved order
    order = [i for _ in range(25) for i in range(len(answers))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        rendered = list(pool.map(lambda i: (i, answer_rendered(answers[i])), order))
    # then every rendering is its own answer's serializer JSON
    for i, data in rendered:
        assert json.dumps(data, sort_keys=True) == expected[i]


def _edge_answer() -> SearchAnswer:
    strategy = {"score": 1, "rank": 2, "relevance": None, "weight": 1, "inliers": 40, "lead": 0}
    result = SearchResult(
        material_id=7,
        name="Oak",
        category="wood",
        catalog="Suppliers",
        score=1,  # ints where floats are due: the serializer says 1.0
        scores={"vector": 0.5, "properties": None, "semantic": 1},
        explanation={
            "strategies": {
                "vector": strategy,
                "properties": None,
                "semantic": {**strategy, "relevance": 0.25, "inliers": None},
            },
            "matched": {"same_sample": True, "colors": False, "finish": None},
            "verdicts": {"same_sample": "matches", "colors": "differs"},
            "summary": "",
        },  # fmt: skip
        thumbnail_url=None,
        good=True,
    )
    return SearchAnswer(
        query_id="q" * 32, phase="refined", refinement="budget", results=[result], total=1,
        page=1, limit=20, no_good_match=False, message="", fusion="calibrated",
        weights={"vector": 1, "properties": 0.2}, query_description={"colors": [], 3: "x"},
        analysis_note="", good_matches=1,
    )  # fmt: skip


@pytest.mark.parametrize(
    "answer",
    [
        _edge_answer(),
        SearchAnswer(
            query_id="a" * 32,
            phase="fast",
            refinement="pending",
            results=[],
            total=0,
            page=2,
            limit=5,
            no_good_match=True,
            message="Preliminary",
            fusion="rrf",
            weights={},
            preliminary=True,
        ),  # fmt: skip
    ],
)
def test_edge_cases_render_as_the_serializer_renders_them(answer):
    # given an answer with ints for floats, null strategies and relevance, an `inliers` of
    # None, a non-string key, no thumbnail — or no results at all
    # when rendered, then it is the serializer's JSON, types and all
    assert json.dumps(answer_rendered(answer)) == json.dumps(SearchAnswerSerializer(answer).data)
