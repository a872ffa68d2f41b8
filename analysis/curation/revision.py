"""A counter that changes whenever what the catalog's analyses say changes: a person's
decision, or the pipeline writing an analysis (a new material becomes searchable, a re-run
changes a description).

Caches of answers computed from descriptions (the search service's result cache) put it in
their keys, so a curator's correction is never hidden behind a cached answer. It lives in the
shared cache (Redis or the database cache), so every process sees the same value.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

KEY = "analysis:descriptions:revision"


def descriptions_revision() -> int:
    """The current revision (0 until the first change)."""
    value = cache.get(KEY)
    return int(value) if isinstance(value, int) else 0


def descriptions_revision_bump() -> None:
    """A new revision once the current transaction commits (readers never see a revision
    whose change could still roll back)."""

    def bump() -> None:
        if not cache.add(KEY, 1, timeout=None):
            try:
                cache.incr(KEY)
            except ValueError:  # evicted between add and incr
                cache.set(KEY, 1, timeout=None)

    transaction.on_commit(bump)
