"""The search API's answer is rendered by its output serializer, the one the OpenAPI schema is
generated from: a real answer validates against the schema's response component, and carries
every property the component documents, so the two cannot drift apart."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db


def _json_schema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type (jsonschema ignores `nullable`)."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if not node.get("nullable"):
        return converted
    if "type" in converted:
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def _response_component(openapi, path: str, method: str) -> tuple[str, dict]:
    content = openapi["paths"][path][method]["responses"]["200"]["content"]
    ref = content["application/json"]["schema"]["$ref"]
    return ref, openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _validator(openapi, ref: str) -> Draft202012Validator:
    schema = {"$ref": ref, "components": _json_schema(openapi["components"])}
    return Draft202012Validator(schema)


@pytest.mark.parametrize(
    ("method", "path", "request_path"),
    [("post", "/api/v1/search/", None), ("get", "/api/v1/search/{query_id}/", "stored")],
)
def test_a_real_answer_is_what_the_schema_documents(
    openapi, providers, sample_catalog, method, path, request_path
):
    # given a real image search's answer (and the same answer read back by its query id)
    client = APIClient()
    response = client.post("/api/v1/search/", {"image": _upload()}, format="multipart")
    assert response.status_code == 200, response.content
    answer = response.json()
    if request_path == "stored":
        answer = client.get(f"/api/v1/search/{answer['query_id']}/").json()
    assert answer["results"], "an answer with results, so their shape is checked too"

    # then it validates against the operation's documented response component
    ref, component = _response_component(openapi, path, method)
    errors = sorted(_validator(openapi, ref).iter_errors(answer), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]

    # and it has exactly the documented fields, the results too
    assert set(answer) == set(component["properties"])
    result_ref = component["properties"]["results"]["items"]["$ref"]
    result = openapi["components"]["schemas"][result_ref.rsplit("/", 1)[-1]]
    assert {key for r in answer["results"] for key in r} == set(result["properties"])


def test_the_check_catches_a_drifted_answer(openapi, providers, sample_catalog):
    # given a real answer, drifted: a field renamed, a type changed
    client = APIClient()
    answer = client.post("/api/v1/search/", {"image": _upload()}, format="multipart").json()
    ref, _ = _response_component(openapi, "/api/v1/search/", "post")
    answer["total"] = str(answer["total"])
    answer["results"][0]["score"] = "high"

    # then validation names both
    paths = {tuple(e.path) for e in _validator(openapi, ref).iter_errors(answer)}
    assert {("total",), ("results", 0, "score")} <= paths


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("query.png", png(COLORS["brown"]), content_type="image/png")
