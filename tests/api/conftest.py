"""API consumer tests: the search tests' catalog and providers (tests/search/catalog_support.py)
on the project's default setup (the database cache, Postgres rate counters) unless a test asks
for Redis; keys made by the service the admin and the command use."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from access.services import key_create


@pytest.fixture(autouse=True)
def _fresh_rate_counters(django_db_blocker):
    yield
    # Counts a live server committed must not leak into the next test.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM swatch_store")


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("integrator", password="not-used-here")


@pytest.fixture
def make_key(owner):
    def make(**options):
        return key_create(name=options.pop("name", "test key"), owner=owner, **options)

    return make


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Api-Key {secret}"}
