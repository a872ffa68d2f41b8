"""Feedback becomes evaluation data: `export_feedback_labels` writes the judgements of real
searches, and `evaluate_search --judgements` reads them back, replays the queries and
measures; image searches are left out (their image is never stored)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db
GENEROUS = {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"}


@pytest.fixture(autouse=True)
def generous(settings):
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": GENEROUS,
        "FEEDBACK_RATES": {"feedback": "1000/60s"},
    }


def search(api, **body) -> dict:
    return api.post("/api/v1/search/", body, format="json").json()


def say(api, query_id, material, kind, **extra) -> None:
    body = {"query_id": query_id, "material_id": material.pk, "kind": kind, **extra}
    assert api.post("/api/v1/feedback/", body, format="json").status_code in (200, 201)


@pytest.fixture
def judged(providers, sample_catalog):
    m = sample_catalog
    one, two = APIClient(), APIClient(REMOTE_ADDR="10.0.0.2")
    wood = search(one, text="brown wood")
    say(one, wood["query_id"], m["oak"], "good")
    say(two, wood["query_id"], m["walnut"], "click", position=2)
    say(two, wood["query_id"], m["slate"], "bad")
    again = search(two, text="brown wood")  # the same query again: one line, both searches
    say(two, again["query_id"], m["oak"], "sample_requested")
    like = search(one, material_id=m["carrara"].pk)
    say(one, like["query_id"], m["slate"], "good")
    say(one, like["query_id"], m["grass"], "click", position=4)
    say(one, like["query_id"], m["grass"], "bad")  # a click then "not what I meant": negative
    upload = SimpleUploadedFile("q.png", png(COLORS["brown"]), content_type="image/png")
    image = one.post("/api/v1/search/", {"image": upload}, format="multipart").json()
    say(one, image["query_id"], m["oak"], "good")
    return m


def export(tmp_path) -> tuple[list[dict], str]:
    out, err = tmp_path / "labels.jsonl", io.StringIO()
    call_command("export_feedback_labels", str(out), stderr=err)
    return [json.loads(line) for line in out.read_text().splitlines()], err.getvalue()


def test_export_writes_each_querys_positive_and_negative_judgements(judged, tmp_path):
    lines, report = export(tmp_path)

    by_query = {(x["query"]["text"], x["query"]["material_id"]): x for x in lines}
    assert set(by_query) == {("brown wood", None), ("", judged["carrara"].pk)}
    wood = by_query[("brown wood", None)]
    assert wood["searches"] == 2
    relevance = {j["material_id"]: j["relevance"] for j in wood["judgements"]}
    assert relevance == {judged["oak"].pk: 1, judged["walnut"].pk: 1, judged["slate"].pk: 0}
    oak = next(j for j in wood["judgements"] if j["material_id"] == judged["oak"].pk)
    assert (oak["good"], oak["conversions"]) == (1, 1)
    like = by_query[("", judged["carrara"].pk)]
    relevance = {j["material_id"]: j["relevance"] for j in like["judgements"]}
    assert relevance == {judged["slate"].pk: 1, judged["grass"].pk: 0}
    assert "1 image searches left out" in report


def test_evaluate_search_reads_the_export_and_measures_the_current_ranking(judged, tmp_path):
    lines, _ = export(tmp_path)
    out = io.StringIO()
    call_command("evaluate_search", "--judgements", str(tmp_path / "labels.jsonl"), stdout=out)
    result = json.loads(out.getvalue())

    # the same figures from the rankings the API gives now
    api, ranks, rejected = APIClient(REMOTE_ADDR="10.0.0.9"), [], []
    for line in lines:
        query = line["query"]
        body = {"text": query["text"]} if query["text"] else {"material_id": query["material_id"]}
        ranked = [r["material_id"] for r in search(api, **body, limit=100)["results"]]
        good = [j["material_id"] for j in line["judgements"] if j["relevance"] == 1]
        bad = {j["material_id"] for j in line["judgements"] if j["relevance"] == 0}
        first = next((n for n, pk in enumerate(ranked, 1) if pk in good), None)
        ranks.append(1 / first if first else 0.0)
        rejected.append(len(bad & set(ranked[:5])) / len(bad))
    assert result["n_queries"] == 2
    assert result["n_judgements"] == 5
    assert result["mrr"] == pytest.approx(sum(ranks) / 2, abs=1e-4)
    assert result["rejected_in_top_5"] == pytest.approx(sum(rejected) / 2, abs=1e-4)


def test_evaluate_search_refuses_a_bad_judgements_file(tmp_path, db):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format": "swatch-judgements/1", "query": {"text": "oak"}}\n')
    with pytest.raises(CommandError, match="line 1: needs a query and judgements"):
        call_command("evaluate_search", "--judgements", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("evaluate_search", "--judgements", str(tmp_path / "missing.jsonl"))
