"""What the OpenAPI schema says beyond the serializers: the keys and value forms of `filters`
and `weights`, the error envelope and its codes on 400/401/403/404/413/429/503, the
RateLimit-* headers, and the polling protocol (docs/API.md says the same at length)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from analysis.colors import NAMED_COLORS
from analysis.description import FINISHES, MATERIAL_TYPES, PATTERNS
from search.conf import STRATEGIES


def _one_or_many(item: dict, about: str) -> dict:
    return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": 20}],
            "description": about}  # fmt: skip


FILTERS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "Keep only materials matching every key given. As a JSON object (or, in a "
    "multipart form, a string holding one). An unknown key is a 400 `unknown_filter`.",
    "properties": {
        "catalog": _one_or_many(
            {"oneOf": [{"type": "string", "maxLength": 200}, {"type": "integer", "minimum": 1}]},
            "A catalog by name or id, or a list of them.",
        ),
        "category": _one_or_many({"type": "string", "maxLength": 100}, "Catalog category."),
        "material_type": _one_or_many(
            {"type": "string", "enum": list(MATERIAL_TYPES)}, "The analysed material type."
        ),
        "colors": _one_or_many(
            {"type": "string", "maxLength": 20},
            f"Colours by name ({', '.join(NAMED_COLORS)}) or hex (#a0522d): each must be near "
            "one of the material's dominant colours (CIEDE2000).",
        ),
        "finish": _one_or_many({"type": "string", "enum": list(FINISHES)}, "Surface finish."),
        "pattern": _one_or_many({"type": "string", "enum": list(PATTERNS)}, "Pattern."),
        "min_confidence": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "Lowest analysis confidence kept.",
        },  # fmt: skip
        "properties": {
            "type": "object",
            "minProperties": 1,
            "description": "Description properties the material must contain "
            '(JSONB containment), e.g. {"grain": "straight"}.',
        },  # fmt: skip
        "attributes": {
            "type": "object",
            "minProperties": 1,
            "description": 'Catalog attributes it must contain, e.g. {"supplier_code": "OAK-1"}.',
        },  # fmt: skip
    },
    "example": {"material_type": ["wood"], "colors": ["brown", "#a0522d"]},
}
WEIGHTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "Strategy weights over the server's defaults: numbers >= 0, at least one "
    "above 0. As a JSON object (or, in a multipart form, a string holding one).",
    "properties": {name: {"type": "number", "minimum": 0} for name in STRATEGIES},
    "example": {"vector": 1, "properties": 0.5, "semantic": 0.2},
}


def json_or_text(schema: dict) -> dict:
    """A JSON body's object; a multipart form's string holding it."""
    return {"oneOf": [schema, {"type": "string", "description": "The same object as JSON text."}]}


ERROR_CODES = {
    400: "invalid_field, unknown_field, unknown_parameter, invalid_filter, unknown_filter, "
    "invalid_weights, invalid_crop, crop_without_image, crop_too_small, empty_query, "
    "out_of_bounds, invalid_character, invalid_json, invalid_object, invalid_base64, "
    "invalid_image, not_an_image, unsupported_format, too_small, too_many_pixels, parse_error",
    401: "authentication_required, api_key_invalid, api_key_revoked, api_key_expired",
    403: "scope_missing, ip_not_allowed, origin_not_allowed",
    404: "not_found, query_not_found (the stored query expired), material_not_found",
    413: "payload_too_large, file_too_large",
    429: "rate_limited, malformed_rate_limited (also names the request's own error)",
    503: "provider_unavailable, database_unavailable, cache_unavailable (with Retry-After)",
}

ERROR_ENVELOPE = inline_serializer(
    name="ErrorEnvelope",
    fields={
        "error": inline_serializer(
            name="Error",
            fields={
                "code": serializers.CharField(help_text="Stable; clients branch on it."),
                "message": serializers.CharField(help_text="For people."),
                "field": serializers.CharField(
                    allow_null=True, help_text="The request field at fault, dotted, or null."
                ),
                "request_id": serializers.CharField(allow_null=True),
            },
        )
    },
)

RATE_HEADERS = [
    OpenApiParameter(name, str, OpenApiParameter.HEADER, response=True, description=about)
    for name, about in [
        ("RateLimit-Limit", "The limit of the window closest to it (requests)."),
        ("RateLimit-Remaining", "Requests left in that window."),
        ("RateLimit-Reset", "Seconds until that window resets."),
        ("RateLimit-Policy", 'Every window: "5;w=10, 10;w=60, 100;w=3600".'),
    ]
]


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ERROR_ENVELOPE, description=f"Codes: {ERROR_CODES[status]}.")
        for status in statuses
    }


COMMON_ERRORS = (401, 403, 429, 503)

SEARCH_DESCRIPTION = """Needs the `search` scope. Send `image` (multipart file, or base64 in
JSON), `text`, or `material_id` (more like this), with optional `filters`, `weights`, `crop`,
`limit` and `page`; an unknown field is a 400 naming it. Counts as one search (5 in 10 s, 10 a
minute, 100 an hour per key by default, times the key's tier) only when well-formed; a 400
never uses up the quota.

**Polling protocol.** An image search answers at once with `phase: "fast"` (vector and property
matches) and `refinement: "pending"` while the model describes the photo in the background.
`GET /api/v1/search/{query_id}/` (about once a second; limited apart, generously) returns the
same answer until `refinement` is `done` (then `phase: "refined"`) or `failed` (the fast answer
stands); `not_needed` for text and material queries. The stored query lives
`SWATCH_SEARCH_QUERY_TTL_SECONDS` (1 h); after that its id answers 404 `query_not_found`."""

POLL_DESCRIPTION = """The current answer of a search (see the polling protocol on
`POST /api/v1/search/`). With `page` and/or `limit`, another page of the same answer, ranked
from the stored query: no upload again, and not counted as a search (it counts in the generous
look-up limit)."""


def _envelope_component() -> dict:
    nullable = {"type": "string", "nullable": True}
    error = {"type": "object", "required": ["code", "message", "field", "request_id"],
             "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                            "field": nullable, "request_id": nullable}}  # fmt: skip
    return {"type": "object", "required": ["error"], "properties": {"error": error}}


def error_envelope_everywhere(result, generator, request, public):
    """drf-spectacular postprocessing: every operation under /api/v1/ documents the error
    envelope on 400/401/403/404/429/503 (and 413 with a body), whoever wrote its view."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorEnvelope", _envelope_component())
    ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            statuses = [400, 401, 403, 404, 429, 503]
            if method in ("post", "put", "patch"):
                statuses.append(413)
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), {
                    "description": f"Codes: {ERROR_CODES[status]}.",
                    "content": {"application/json": {"schema": ref}},
                })  # fmt: skip
    return result
