"""The rate-limit counters moved to the shared store's table (config/store, migration
config.0001): `swatch_rate_counter` is no longer written."""

from django.db import migrations

RECREATE = """
CREATE UNLOGGED TABLE IF NOT EXISTS swatch_rate_counter (
    key varchar(255) NOT NULL PRIMARY KEY,
    count bigint NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS swatch_rate_counter_expires ON swatch_rate_counter (expires);
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0006_feedback"), ("config", "0001_shared_store")]

    operations = [migrations.RunSQL("DROP TABLE IF EXISTS swatch_rate_counter;", RECREATE)]
