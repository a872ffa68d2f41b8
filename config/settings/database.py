"""The database: the embedded PostgreSQL + pgvector, or DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path

from config import env
from config.database import database_config
from config.settings.base import VAR_DIR

# --- database -----------------------------------------------------------------------------
EMBEDDED_PGDATA = Path(env.get_optional(env.EMBEDDED_PGDATA) or VAR_DIR / "pgdata")
EMBEDDED_DATABASE = not env.get_optional(env.DATABASE_URL)
DATABASES = {
    "default": database_config(
        url=env.get_optional(env.DATABASE_URL),
        pgdata=EMBEDDED_PGDATA,
        name=env.get_str(env.DB_NAME),
    )
}
DATABASES["default"]["TEST"] = {
    # A run of its own per process: parallel test runs on one server never collide.
    "NAME": env.get_optional(env.TEST_DB_NAME) or f"test_swatch_{os.getpid()}",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- read replicas for search (config/replicas.py) ------------------------------------------
REPLICA_ALIASES = []
for _number, _url in enumerate(env.get_list(env.REPLICA_URLS)):
    _alias = f"replica_{_number}"
    DATABASES[_alias] = database_config(url=_url, pgdata=EMBEDDED_PGDATA, name="")
    # Tests run against the primary's test database: a replica holds the same rows.
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    REPLICA_ALIASES.append(_alias)
DATABASE_ROUTERS = ["config.replicas.PrimaryReplicaRouter"]
SWATCH_REPLICAS = {
    "ALIASES": REPLICA_ALIASES,
    "MAX_LAG_SECONDS": env.get_float(env.REPLICA_MAX_LAG_SECONDS),
    "PIN_SECONDS": env.get_int(env.REPLICA_PIN_SECONDS),
    "LAG_CHECK_SECONDS": 1.0,
}
