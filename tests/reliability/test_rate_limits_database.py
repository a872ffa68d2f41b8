"""The rate limits without Redis, across processes: counted in Postgres (the shared store's
UNLOGGED `swatch_store`, config/store/database.py), as the default setup does (here the cache
is the database cache, the project's default). tests/search/test_rate_limits.py runs the
limits' own tests on both backends."""

import pytest
from django.db import connection

from search.ratelimit.limits import rate_consume
from tests.fakes.processes import run_django

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _counted_in_postgres(settings, django_db_blocker):
    assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    yield
    # Counts committed by a live server or another process (transactional tests) must not
    # leak into the next test.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM swatch_store")


@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_by_every_process_without_redis_too():
    # given another process (another web worker) that made five searches from one address,
    # counted in Postgres
    code = (
        "from search.ratelimit.limits import rate_consume\n"
        "print([rate_consume(ident='ip:192.0.2.50') for _ in range(5)])\n"
    )
    assert run_django(code, env={}) == str([None] * 5)

    # then this process's next search from that address is refused
    assert rate_consume(ident="ip:192.0.2.50") is not None
