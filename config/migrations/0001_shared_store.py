"""The shared store's table without Redis (config/store/database.py), UNLOGGED: no write
waits for the write-ahead log, and a crash only empties it, as it may a cache."""

from django.db import migrations, models

CREATE = """
CREATE UNLOGGED TABLE swatch_store (
    key varchar(255) NOT NULL PRIMARY KEY,
    value bytea NULL,
    count bigint NULL,
    expires timestamp with time zone NULL
);
CREATE INDEX swatch_store_expires ON swatch_store (expires);
"""


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(CREATE, "DROP TABLE swatch_store;")],
            state_operations=[
                migrations.CreateModel(
                    name="StoreEntry",
                    fields=[
                        ("key", models.CharField(max_length=255, primary_key=True, serialize=False)),
                        ("value", models.BinaryField(null=True)),
                        ("count", models.BigIntegerField(null=True)),
                        ("expires", models.DateTimeField(db_index=True, null=True)),
                    ],
                    options={"db_table": "swatch_store", "verbose_name": "shared store entry"},
                ),
            ],
        ),
    ]
