"""The search API end to end: real Postgres + pgvector, real (small) providers, the
background refinement in its real thread pool."""

import base64
import json
import time

import pytest
from rest_framework.test import APIClient

from search.background import background_wait
from tests.search.catalog_support import COLORS, png, two_color_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


def ids(answer):
    return [r["material_id"] for r in answer["results"]]


def post(client, **data):
    files = {k: v for k, v in data.items() if isinstance(v, bytes)}
    if files:
        payload = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in data.items()}
        for key, value in files.items():
            payload[key] = _upload(key, value)
        return client.post("/api/v1/search/", payload, format="multipart")
    return client.post("/api/v1/search/", data, format="json")


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(f"{name}.png", data, content_type="image/png")


def wait_refined(client, query_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/search/{query_id}/").json()
        if answer["phase"] == "refined":
            return answer
        time.sleep(0.05)
    pytest.fail("the refined answer never came")


def test_image_upload_answers_fast_then_refined(client, providers, sample_catalog, gate):
    # given a photo of brown wood, and a describer that has not answered yet
    # when it is uploaded
    response = post(client, image=png(COLORS["brown"]))

    # then the fast answer comes from the vectors, with a query id
    assert response.status_code == 200, response.content
    fast = response.json()
    assert fast["phase"] == "fast"
    assert fast["refinement"] == "pending"
    # marked preliminary: it does not announce "no good match" while refinement is pending
    assert fast["preliminary"] is True
    assert fast["message"].startswith("Preliminary")
    assert ids(fast)[0] == sample_catalog["oak"].pk
    assert fast["results"][0]["scores"]["vector"] > 0.9
    assert fast["results"][0]["scores"]["properties"] is None

    # when the describer answers
    gate.set()
    refined = wait_refined(client, fast["query_id"])

    # then the refined ranking adds property matching: the other wood comes next
    assert refined["refinement"] == "done"
    assert refined["preliminary"] is False
    assert refined["query_description"]["material_type"] == "wood"
    assert ids(refined)[:2] == [sample_catalog["oak"].pk, sample_catalog["walnut"].pk]
    top = refined["results"][0]
    assert top["scores"]["properties"] > 0.7
    assert top["explanation"]["matched"]["material_type"] is True
    assert top["explanation"]["matched"]["colors"] is True
    assert top["explanation"]["verdicts"]["colors"] == "matches"
    assert "colour matches" in top["explanation"]["summary"]
    assert 0 <= top["score"] <= 1
    assert top["good"] is (top["score"] >= 0.5)
    assert top["explanation"]["strategies"]["vector"]["rank"] == 1
    assert top["thumbnail_url"].startswith("/media/thumbnails/")


def test_a_query_image_seen_before_is_refined_at_once(client, providers, sample_catalog, gate):
    gate.set()
    first = post(client, image=png(COLORS["white"])).json()
    wait_refined(client, first["query_id"])

    again = post(client, image=png(COLORS["white"])).json()

    assert again["phase"] == "refined"
    assert ids(again)[0] == sample_catalog["carrara"].pk
    assert providers.describer.calls == 1


def test_image_as_base64_in_json(client, providers, sample_catalog):
    encoded = base64.b64encode(png(COLORS["green"])).decode()

    answer = post(client, image=f"data:image/png;base64,{encoded}").json()

    assert ids(answer)[0] == sample_catalog["grass"].pk


def test_text_query_finds_by_words_and_named_attributes(client, providers, sample_catalog):
    response = post(client, text="polished white marble")

    answer = response.json()
    assert response.status_code == 200
    assert answer["phase"] == "refined"
    assert ids(answer)[0] == sample_catalog["carrara"].pk
    top = answer["results"][0]
    assert top["scores"]["semantic"] > 0
    assert top["explanation"]["matched"]["finish"] is True
    assert answer["query_description"]["material_type"] == "marble"


def test_more_like_this_by_material_id(client, providers, sample_catalog):
    answer = post(client, material_id=sample_catalog["oak"].pk).json()

    assert sample_catalog["oak"].pk not in ids(answer)
    assert ids(answer)[0] == sample_catalog["walnut"].pk
    assert answer["results"][0]["explanation"]["matched"]["material_type"] is True


def test_similar_endpoint_is_more_like_this(client, providers, sample_catalog):
    response = client.get(f"/api/v1/materials/{sample_catalog['oak'].pk}/similar/?limit=1")

    assert response.status_code == 200
    assert ids(response.json()) == [sample_catalog["walnut"].pk]


def test_image_and_text_together(client, providers, sample_catalog, gate):
    gate.set()
    # a grey photo, but the words ask for a polished finish: the text's attributes count
    answer = post(client, image=png(COLORS["grey"]), text="polished").json()
    refined = wait_refined(client, answer["query_id"])

    assert ids(refined)[0] == sample_catalog["slate"].pk
    assert refined["query_description"]["finish"] == "polished"
    assert refined["results"][0]["scores"]["semantic"] is not None


def test_negative_image_moves_the_ranking_away(client, providers, sample_catalog, settings):
    # given a photo that is 55% green and 45% brown (alike each at ~0.7: lower the bar)
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "SIMILARITY_THRESHOLD": 0.5}
    query = two_color_png(COLORS["brown"], COLORS["green"], left_share=0.45)
    weights = {"vector": 1, "properties": 0, "semantic": 0}
    plain = post(client, image=query, weights=weights).json()
    assert ids(plain)[0] == sample_catalog["grass"].pk

    # when green is given as the negative example
    away = post(client, image=query, negative_image=png(COLORS["green"]), weights=weights).json()

    # then brown comes first and the green material lost similarity
    assert ids(away)[0] == sample_catalog["oak"].pk
    green_before = next(
        r for r in plain["results"] if r["material_id"] == sample_catalog["grass"].pk
    )
    green_after = [r for r in away["results"] if r["material_id"] == sample_catalog["grass"].pk]
    assert not green_after or green_after[0]["scores"]["vector"] < green_before["scores"]["vector"]


def test_negative_text_moves_the_ranking_away(client, providers, sample_catalog):
    weights = {"vector": 0, "properties": 0, "semantic": 1}
    plain = post(client, text="brown wood grain", weights=weights).json()
    away = post(client, text="brown wood grain", negative_text="dark", weights=weights).json()

    def semantic(answer, key):
        return next(
            r["scores"]["semantic"]
            for r in answer["results"]
            if r["material_id"] == sample_catalog[key].pk
        )

    assert semantic(away, "walnut") < semantic(plain, "walnut")
    assert ids(away)[0] == sample_catalog["oak"].pk


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"catalog": "other"}, {"slate"}),
        ({"category": "wood"}, {"oak", "walnut"}),
        ({"category": ["wood", "marble"]}, {"oak", "walnut", "carrara"}),
        ({"material_type": "brick"}, {"brick"}),
        ({"colors": ["white"]}, {"carrara"}),
        ({"colors": ["#4a2e1d"]}, {"walnut"}),
        ({"finish": "polished"}, {"carrara"}),
        ({"pattern": "woven"}, {"navy"}),
        ({"min_confidence": 0.8, "category": "wood"}, {"oak"}),
        ({"properties": {"texture": {"scale": "fine"}, "finish": "honed"}}, {"slate"}),
        ({"attributes": {"supplier_code": "OAK-1"}}, {"oak"}),
    ],
)
def test_filters_keep_only_matching_materials(client, providers, sample_catalog, filters, expected):
    # a broad query (every strategy, no cutoff of interest: a text that matches everything)
    response = post(client, text="surface", filters=filters, limit=50)

    answer = response.json()
    assert response.status_code == 200, answer
    wanted = {sample_catalog[key].pk for key in expected}
    assert set(ids(answer)) == wanted


def test_filters_apply_to_vector_results_too(client, providers, sample_catalog):
    answer = post(
        client, image=png(COLORS["brown"]), filters={"category": "stone"}, weights={"vector": 1}
    ).json()

    assert ids(answer) in ([], [sample_catalog["slate"].pk])


def test_no_good_match_says_so_and_still_lists_the_nearest(client, providers, sample_catalog, gate):
    # given a solid colour no material has (the test models have no fitted calibration: the
    # conservative fallback answers)
    fast = post(client, image=png(COLORS["purple"]), weights={"vector": 1}).json()
    gate.set()
    refined = wait_refined(client, fast["query_id"])

    # then neither phase calls anything good, both list the nearest materials all the same
    for answer in (fast, refined):
        assert answer["no_good_match"] is True
        assert answer["good_matches"] == 0
        listed = answer["results"]
        assert listed, "the nearest materials are listed all the same"
        assert all(not r["good"] and 0 <= r["score"] < 0.5 for r in listed)
        assert [r["score"] for r in listed] == sorted((r["score"] for r in listed), reverse=True)
    # the fast answer is preliminary (no verdict announced); the refined one says why
    assert fast["preliminary"] is True
    assert fast["message"].startswith("Preliminary")
    assert "a good match needs 50%" in refined["message"]


def test_pagination(client, providers, sample_catalog):
    first = post(client, text="surface", limit=3, page=1).json()
    second = post(client, text="surface", limit=3, page=2).json()

    assert first["total"] == second["total"] == 7
    assert len(first["results"]) == 3
    assert len(second["results"]) == 3
    assert not set(ids(first)) & set(ids(second))


def test_relative_fusion_on_request(client, providers, sample_catalog):
    answer = post(client, text="white marble", fusion="relative").json()

    assert answer["fusion"] == "relative"
    assert ids(answer)[0] == sample_catalog["carrara"].pk


def test_results_are_cached_by_the_query(client, providers, sample_catalog):
    first = post(client, text="wood").json()
    background_wait()  # the answer is cached in the background (search.background)
    sample_catalog["oak"].delete()  # the cached answer still holds it for a while

    second = post(client, text="wood").json()

    assert ids(second) == ids(first)
    assert second["query_id"] != first["query_id"]


# --- bad input -----------------------------------------------------------------------------


def error_of(response, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field", "request_id"}
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_no_image_and_no_text_is_a_400(client, providers):
    error = error_of(post(client, filters={"category": "wood"}))

    assert error["code"] == "empty_query"


def test_only_a_negative_example_is_not_a_query(client, providers):
    error = error_of(post(client, negative_text="red"))

    assert error["code"] == "empty_query"


def test_corrupt_image_is_a_400_naming_the_field(client, providers):
    data = png(COLORS["brown"])
    error = error_of(post(client, image=data[: len(data) // 2]))

    assert error["field"] == "image"
    assert error["code"] in {"truncated", "corrupt"}


def test_not_an_image_is_a_400(client, providers):
    error = error_of(post(client, image=b"this is not a picture at all"))

    assert (error["code"], error["field"]) == ("not_an_image", "image")


def test_bad_base64_is_a_400(client, providers):
    error = error_of(post(client, image="%%% not base64 %%%"))

    assert (error["code"], error["field"]) == ("invalid_base64", "image")


def test_unknown_filter_key_is_a_400_naming_it(client, providers):
    error = error_of(post(client, text="oak", filters={"colour": "red"}))

    assert (error["code"], error["field"]) == ("unknown_filter", "filters.colour")


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"material_type": "unobtainium"}, "filters.material_type"),
        ({"colors": ["octarine"]}, "filters.colors"),
        ({"min_confidence": "high"}, "filters.min_confidence"),
        ({"properties": []}, "filters.properties"),
    ],
)
def test_bad_filter_values_are_400s(client, providers, filters, field):
    error = error_of(post(client, text="oak", filters=filters))

    assert error["field"] == field


def test_non_numeric_weights_are_a_400(client, providers):
    error = error_of(post(client, text="oak", weights={"vector": "heavy"}))

    assert (error["code"], error["field"]) == ("invalid_weights", "weights.vector")


def test_unknown_strategy_weight_is_a_400(client, providers):
    error = error_of(post(client, text="oak", weights={"colour": 1}))

    assert error["field"] == "weights.colour"


def test_filters_that_are_not_json_in_a_form_are_a_400(client, providers):
    response = client.post(
        "/api/v1/search/",
        {"image": _upload("image", png(COLORS["brown"])), "filters": "{category: wood"},
        format="multipart",
    )

    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_json", "filters")


def test_limit_out_of_range_is_a_400(client, providers):
    error = error_of(post(client, text="oak", limit=1000))

    assert error["field"] == "limit"


def test_unknown_material_is_a_404(client, providers, db):
    error = error_of(post(client, material_id=999999), status=404)

    assert error["field"] == "material_id"


def test_unknown_query_id_is_a_404(client, providers, db):
    error = error_of(client.get("/api/v1/search/0123456789abcdef/"), status=404)

    assert error["code"] == "query_not_found"


def test_malformed_json_body_is_a_400(client, providers, db):
    response = client.post("/api/v1/search/", "{not json", content_type="application/json")

    assert error_of(response)["code"] == "parse_error"


# --- materials, schema, docs, auth -------------------------------------------------------


def test_material_list_filters_and_paginates(client, sample_catalog):
    response = client.get("/api/v1/materials/?category=wood")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 2
    assert {m["name"] for m in body["results"]} == {"Oak", "Walnut"}
    assert body["results"][0]["analysis"]["material_type"] == "wood"


def test_material_list_by_type_and_catalog(client, sample_catalog):
    by_type = client.get("/api/v1/materials/?material_type=stone").json()
    by_catalog = client.get("/api/v1/materials/?catalog=other").json()

    assert [m["name"] for m in by_type["results"]] == ["Slate"]
    assert [m["name"] for m in by_catalog["results"]] == ["Slate"]


def test_material_list_unknown_parameter_is_a_400(client, db):
    error = error_of(client.get("/api/v1/materials/?colour=red"))

    assert error["field"] == "colour"


def test_material_detail_and_404(client, sample_catalog):
    oak = client.get(f"/api/v1/materials/{sample_catalog['oak'].pk}/").json()
    missing = client.get("/api/v1/materials/999999/")

    assert oak["name"] == "Oak"
    assert oak["thumbnail_url"].startswith("/media/thumbnails/")
    assert error_of(missing, status=404)["code"] == "not_found"


def test_openapi_schema_and_docs_without_a_cdn(client, db):
    schema = client.get("/api/schema/?format=json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/search/", "/api/v1/search/{query_id}/", "/api/v1/materials/"} <= set(paths)
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


def test_a_bad_token_is_a_401_json_error(client, db):
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    error = error_of(client.post("/api/v1/search/", {"text": "oak"}, format="json"), status=401)

    assert error["code"] == "authentication_failed"
