"""Scopes: every API view names the scope it needs (`required_scope`: `search`,
`catalog:read`, `catalog:write`; `None` for a public view). A key needs the scope among its
own; a signed-in user has `search` and `catalog:read`, staff `catalog:write` too; anonymous
callers have `search` and `catalog:read` only where `SWATCH_API_ANONYMOUS` allows it. A view
that names no scope needs any key or a signed-in user (or anonymous use allowed)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from access.models import ApiKey

READ_SCOPES = ("search", "catalog:read")


def _missing(scope: str) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(
        f"This request needs the {scope!r} scope.", code="scope_missing"
    )


class ScopePermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        scope = getattr(view, "required_scope", "")
        if scope is None:
            return True
        if isinstance(request.auth, ApiKey):
            if scope and scope not in request.auth.scopes:
                raise _missing(scope)
            return True
        user = request.user
        if user is not None and user.is_authenticated:
            if scope == "catalog:write" and not user.is_staff:
                raise _missing(scope)
            return True
        if scope in (*READ_SCOPES, "") and settings.SWATCH_API_ANONYMOUS:
            return True
        raise exceptions.NotAuthenticated(
            "An API key is required: send it as `Authorization: Api-Key <key>`.",
            code="authentication_required",
        )
