"""The rate-limit counters without Redis (`search/ratelimit/counters.py`), UNLOGGED like the
database cache: a counter needs no write-ahead log, and a crash only forgets recent counts.

Not the database cache's table: Django's `DatabaseCache.incr` is a read and a write (two
concurrent hits both pass) and moves a key's expiry on every increment (an hour window forgot
its count after five idle minutes). Here a hit is one atomic upsert and the expiry is set only
when a window's row is made.
"""

from django.db import migrations

TABLE = "swatch_rate_counter"

CREATE = f"""
CREATE UNLOGGED TABLE IF NOT EXISTS {TABLE} (
    key varchar(255) NOT NULL PRIMARY KEY,
    count bigint NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_expires ON {TABLE} (expires);
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0004_material_facets_bulk_refresh")]

    operations = [migrations.RunSQL(CREATE, f"DROP TABLE IF EXISTS {TABLE};")]
