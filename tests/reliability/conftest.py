"""The search tests' catalog and providers, without their Redis cache: the tests here run on
the project's default setup (the database cache and Postgres counters) unless they say
otherwise."""

from tests.search.conftest import (  # noqa: F401 - fixtures
    catalog_builder,
    gate,
    providers,
    sample_catalog,
    vector_indexes,
)
