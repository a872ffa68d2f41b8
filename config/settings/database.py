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
