"""DRF authentication by API key: `Authorization: Api-Key <key>` (or `X-Api-Key: <key>`).
Unknown, revoked and expired keys answer 401 with a code that says which; a key used from an
address or a web origin it does not allow answers 403."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from access.selectors import key_allows_address, key_allows_origin, key_check
from config.client_address import client_address

SCHEME = "Api-Key"


def secret_of(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == SCHEME.lower() and value.strip():
        return value.strip()
    value = request.headers.get("X-Api-Key", "").strip()
    return value or None


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        secret = secret_of(request)
        if secret is None:
            return None
        check = key_check(secret=secret)
        if check.problem is not None:
            raise exceptions.AuthenticationFailed(check.message, code=check.problem)
        key = check.key
        address = client_address(request._request)
        if not key_allows_address(key, address):
            raise exceptions.PermissionDenied(
                f"API key {key.prefix} may not be used from {address}.", code="ip_not_allowed"
            )
        origin = request.headers.get("Origin")
        if not key_allows_origin(key, origin):
            raise exceptions.PermissionDenied(
                f"API key {key.prefix} may not be used from the web origin {origin}.",
                code="origin_not_allowed",
            )
        request._request.swatch_api_key = key
        return key.owner, key

    def authenticate_header(self, request) -> str:
        return SCHEME
