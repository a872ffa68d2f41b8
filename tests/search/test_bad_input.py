"""Issue 12, point 1: inputs that once gave an HTML 500 (never logged) are each a 4xx JSON
error naming the field, refused before any search work starts (no query reaches the
database for the ones the request alone can judge)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


def envelope(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["request_id"] == response["X-Request-ID"]
    return error


def post_json(client, body):
    return client.post("/api/v1/search/", body, format="json")


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"category": "wo\x00od"}, "filters.category"),
        ({"properties": {"fin\x00ish": "matte"}}, "filters.properties.fin\x00ish"),
        ({"attributes": {"code": "OAK\x00"}}, "filters.attributes.code"),
    ],
)
def test_a_nul_byte_in_filters_is_a_400_naming_the_field(client, providers, filters, field):
    error = envelope(post_json(client, {"text": "oak", "filters": filters}), 400)

    assert error["code"] == "invalid_character"
    assert error["field"] == field


def test_a_nul_byte_in_the_text_is_a_400(client, providers):
    error = envelope(post_json(client, {"text": "oak\x00"}), 400)

    assert error["field"] == "text"


@pytest.mark.parametrize("catalog", ["²", "٣", ["1", "²"]])
def test_a_digit_that_is_no_number_as_catalog_is_a_400(client, providers, catalog):
    error = envelope(post_json(client, {"text": "oak", "filters": {"catalog": catalog}}), 400)

    assert error["field"] == "filters.catalog"


@pytest.mark.parametrize("catalog", [2**63, 10**30, 0, -4])
def test_a_catalog_id_out_of_range_is_a_400(client, providers, catalog):
    error = envelope(post_json(client, {"text": "oak", "filters": {"catalog": catalog}}), 400)

    assert error["field"] == "filters.catalog"


@pytest.mark.parametrize("material_id", [2**63, 10**30, 0])
def test_a_material_id_beyond_bigint_is_a_400(client, providers, material_id):
    error = envelope(post_json(client, {"material_id": material_id}), 400)

    assert error["field"] == "material_id"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/materials/{2**63}/",
        f"/api/v1/materials/{10**30}/similar/",
        "/materials/" + "9" * 25 + "/",
    ],
)
def test_an_id_beyond_bigint_in_the_path_is_a_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    if path.startswith("/api/"):
        assert envelope(response, 404)["code"] == "not_found"


def test_deeply_nested_filters_are_a_400_naming_the_field(client, providers):
    nested: object = "matte"
    for _ in range(50):
        nested = {"a": nested}

    error = envelope(post_json(client, {"text": "oak", "filters": {"properties": nested}}), 400)

    assert error["code"] == "out_of_bounds"
    assert error["field"].startswith("filters.properties")


def test_json_nested_past_the_parsers_recursion_limit_is_a_400(client, providers):
    body = '{"text": "oak", "filters": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = client.post("/api/v1/search/", body, content_type="application/json")

    assert envelope(response, 400)["code"] == "parse_error"


def test_deeply_nested_filters_in_a_multipart_form_are_a_400(client, providers):
    filters = '{"properties": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = client.post("/api/v1/search/", {"text": "oak", "filters": filters})

    error = envelope(response, 400)
    assert (error["code"], error["field"]) == ("invalid_json", "filters")


@pytest.mark.parametrize("query_id", ["%00", "%00abc", "0123456789abcdef", "x" * 300])
def test_a_malformed_query_id_is_a_json_404(client, query_id):
    error = envelope(client.get(f"/api/v1/search/{query_id}/"), 404)

    assert (error["code"], error["field"]) == ("query_not_found", "query_id")


@pytest.mark.parametrize(("limit", "page"), [(100, 5), (100, 50), (50, 9)])
def test_limit_times_page_past_the_ranked_depth_is_a_400(
    client, providers, sample_catalog, limit, page
):
    material = sample_catalog["oak"].pk

    similar = client.get(f"/api/v1/materials/{material}/similar/?limit={limit}&page={page}")
    search = post_json(client, {"material_id": material, "limit": limit, "page": page})

    assert envelope(similar, 400)["field"] == "page"
    assert envelope(search, 400)["field"] == "page"


def test_the_deepest_page_allowed_answers(client, providers, sample_catalog):
    material = sample_catalog["oak"].pk

    response = client.get(f"/api/v1/materials/{material}/similar/?limit=100&page=4")

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []  # seven materials: nothing that deep


def test_a_thousand_colours_are_refused_before_any_work(client, providers):
    body = json.dumps({"text": "oak", "filters": {"colors": ["#a0522d"] * 1000}})
    assert 10_000 <= len(body) <= 12_000

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/search/", body, content_type="application/json")

    error = envelope(response, 400)
    assert (error["code"], error["field"]) == ("out_of_bounds", "filters.colors")
    assert [q["sql"] for q in queries] == []


@pytest.mark.parametrize(
    "filters",
    [
        {"category": "x" * 201},
        {"attributes": {f"k{i}": i for i in range(60)}},
        {"properties": {"a": 2**70}},
    ],
)
def test_oversized_filter_values_are_400s(client, providers, filters):
    error = envelope(post_json(client, {"text": "oak", "filters": filters}), 400)

    assert error["field"].startswith("filters")
