"""The API key in the OpenAPI schema: drf-spectacular learns the scheme from this extension
(without it, every view warns and `check --deploy --fail-level WARNING` fails)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from access.authentication import SCHEME


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`Authorization: {SCHEME} <key>` (or the `X-Api-Key` header).",
        }
