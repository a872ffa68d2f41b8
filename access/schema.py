"""The API key scheme in the OpenAPI schema (drf-spectacular): `Authorization: Api-Key <key>`."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <prefix>.<secret>` (or the header `X-Api-Key: <key>`); "
            "made by `manage.py api_keys create` or in the admin, shown once.",
        }
