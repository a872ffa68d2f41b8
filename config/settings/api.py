"""The REST API (DRF) and its OpenAPI schema (drf-spectacular)."""

from __future__ import annotations

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # API keys first: a 401 names their scheme (`WWW-Authenticate: Api-Key`).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["access.permissions.ScopePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "search.api.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "search.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Swatch API",
    "DESCRIPTION": (
        "Visual material search: find materials by how they look. Authenticate with "
        "`Authorization: Api-Key <key>`; scopes `search`, `catalog:read`, `catalog:write`. "
        "Limits per key (5 in 10 s, 10 a minute, 100 an hour by default, times the key's "
        "tier), told on every answer by `RateLimit-Limit`, `RateLimit-Remaining`, "
        "`RateLimit-Reset` and `RateLimit-Policy`; only well-formed searches count. Errors are "
        '`{"error": {"code", "message", "field", "request_id"}}`. Image searches answer fast, '
        "then refine: poll `GET /api/v1/search/{query_id}/` until `refinement` is not "
        "`pending`. A quickstart with examples: docs/API.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Every API operation documents the error envelope (search/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "search.api.schema.error_envelope_everywhere",
    ],
    # The docs page serves swagger-ui/redoc from static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
