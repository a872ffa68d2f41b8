"""The database cache's table (`CACHES` without `REDIS_URL`, LOCATION `swatch_cache`), UNLOGGED.

A cache needs no write-ahead log: its writes then commit without waiting for the disk
(`search/database_cache.py`), and after a crash the table comes back empty, as a cache may.
Created here with `createcachetable`'s own columns (which then finds it and does nothing), or
switched to UNLOGGED where `createcachetable` made it first.
"""

from django.db import migrations

TABLE = "swatch_cache"  # config/settings.py, CACHES["default"]["LOCATION"] without Redis

CREATE = f"""
CREATE UNLOGGED TABLE IF NOT EXISTS {TABLE} (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_expires ON {TABLE} (expires);
ALTER TABLE {TABLE} SET UNLOGGED;
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0002_material_facets_triggers")]

    operations = [
        migrations.RunSQL(CREATE, f"ALTER TABLE {TABLE} SET LOGGED;"),
    ]
