"""A counter that changes whenever what the catalog's analyses say changes: a person's
decision, or the pipeline writing an analysis (a new material becomes searchable, a re-run
changes a description).

Caches of answers computed from descriptions (the search service's result cache) put it in
their keys, so a curator's correction is never hidden behind a cached answer. It is a
counter of the shared store (config/store: Redis or Postgres), so every process sees the
same value and concurrent bumps each count.
"""

from __future__ import annotations

import logging

from django.db import transaction

from config.errors.outages import CACHE_ERRORS
from config.store import store

logger = logging.getLogger("swatch.curation")

KEY = "analysis:descriptions:revision"


def descriptions_revision() -> int:
    """The current revision (0 until the first change, or while Redis is unreachable)."""
    try:
        value = store().get_many([KEY]).get(KEY)
    except CACHE_ERRORS:
        return 0
    return int(value) if isinstance(value, int) else 0


def descriptions_revision_bump() -> None:
    """A new revision once the current transaction commits (readers never see a revision
    whose change could still roll back)."""

    def bump() -> None:
        try:
            store().hit([(KEY, None)])
        except CACHE_ERRORS as exc:  # nothing to bump while Redis is down: it comes back as 0
            logger.warning("descriptions revision not bumped (%s)", exc.__class__.__name__)

    transaction.on_commit(bump)
