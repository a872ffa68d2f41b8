"""The shared store's table without Redis (config/store/database.py writes it in plain SQL:
one statement per operation). A model so that it is ours, migrated, and emptied by the
test runner's flush like any other table."""

from __future__ import annotations

from django.db import models


class StoreEntry(models.Model):
    key = models.CharField(max_length=255, primary_key=True)
    value = models.BinaryField(null=True)  # a pickled value, or NULL for a counter
    count = models.BigIntegerField(null=True)  # a counter's count, or NULL for a value
    expires = models.DateTimeField(null=True, db_index=True)  # NULL: until deleted

    class Meta:
        db_table = "swatch_store"
        verbose_name = "shared store entry"

    def __str__(self) -> str:
        return self.key
