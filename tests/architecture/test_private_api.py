"""No private Django (or django-redis) cache API, and no asking the cache what it is: shared
state goes through the store (config/store), which is chosen once from settings."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("materials", "analysis", "search", "access", "config")
# Attributes of Django's and django-redis' cache backends that are not their public API.
PRIVATE_CACHE_ATTRIBUTES = {"_table", "_cache", "_expire_info", "_servers", "_class"}
# Reaching into a cache's Redis client to learn what the cache is.
SNIFFED_ATTRIBUTES = {"get_client", "make_and_validate_key", "cache_model_class"}
CACHE_INTERNALS = ("django.core.cache.backends", "django_redis.client", "django_redis.cache")


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def _uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            private = node.attr in PRIVATE_CACHE_ATTRIBUTES and not (
                isinstance(node.value, ast.Name) and node.value.id == "self"
            )
            if private or node.attr in SNIFFED_ATTRIBUTES:
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(CACHE_INTERNALS):
            found.append(f"line {node.lineno}: from {node.module}")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith(CACHE_INTERNALS)
            ]
    return found


def test_no_private_cache_api_nor_cache_sniffing():
    offenders = {name: uses for name, tree in _sources() if (uses := _uses(tree))}
    assert not offenders, f"use config.store (the shared store) instead: {offenders}"


def test_the_check_finds_what_it_forbids():
    source = (
        "from django.core.cache.backends.db import DatabaseCache\n"
        "table = backend._table\n"
        "client = cache.client.get_client(write=True)\n"
        "self._cache = None\n"
    )
    assert _uses(ast.parse(source)) == [
        "line 1: from django.core.cache.backends.db",
        "line 2: ._table",
        "line 3: .get_client",
    ]
