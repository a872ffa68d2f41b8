"""The API renders every answer with one shared SearchAnswerSerializer (search/api/serializers.py,
`answer_rendered`): the same JSON as a serializer built for the answer, also when many threads
render different answers at once (the bound field tree is only read)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from search.api.serializers import SearchAnswerSerializer, answer_rendered
from search.query import SearchQuery
from search.services.run import search_run

pytestmark = pytest.mark.django_db


def _answers(catalog) -> list:
    queries = [SearchQuery(material_id=m.pk, cutoff=False, limit=6) for m in catalog.values()]
    queries += [SearchQuery(text="polished white marble"), SearchQuery(text="green grass")]
    return [search_run(query=query, refine="never") for query in queries]


def test_the_shared_renderer_gives_each_answer_its_serializers_json_across_threads(
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
