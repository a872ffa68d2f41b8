"""A query's state in the shared cache, under its query id: what any web process needs to
answer `GET /api/v1/search/{query_id}/` — vectors, filters, weights, and the query image's
description once analysed. Never the image."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches

from analysis.curation.revision import KEY as REVISION_KEY
from analysis.curation.revision import descriptions_revision
from config.errors.outages import CACHE_ERRORS
from search.background import later, later_on_a_connection
from search.database_cache import database_cache, database_cache_lookup, database_cache_write

logger = logging.getLogger("swatch.search")

REFINEMENT_PENDING = "pending"
REFINEMENT_DONE = "done"
REFINEMENT_FAILED = "failed"
REFINEMENT_NOT_NEEDED = "not_needed"
# Refined by the offline analyser: the vision model was over its limits or money budget.
REFINEMENT_BUDGET = "budget"


@dataclass
class QueryState:
    query_id: str
    image_sha256: str = ""
    image_vector: list[float] | None = None
    negative_image_vector: list[float] | None = None
    text: str = ""
    text_vector: list[float] | None = None
    negative_text: str = ""
    negative_text_vector: list[float] | None = None
    material_id: int | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    fusion: str = "rrf"
    limit: int = 20
    page: int = 1
    cutoff: bool = True
    image_model: str = ""
    image_dimensions: int = 0
    text_model: str = ""
    text_dimensions: int = 0
    # The model that answers what the active image model does not cover yet (search.covering).
    fallback_model: str = ""
    fallback_dimensions: int = 0
    fallback_vector: list[float] | None = None
    description: dict[str, Any] = field(default_factory=dict)
    description_vector: list[float] | None = None
    description_note: str = ""  # what the describer could not do at the depth asked
    # Spatial verification of the query image against its closest candidates: material id
    # (as text, for JSON) → inliers. Computed while the pixels are in memory.
    sample_inliers: dict[str, int] = field(default_factory=dict)
    # P(the query image shows a material at all), None without a fitted model (relevance).
    material_probability: float | None = None
    refinement: str = REFINEMENT_NOT_NEEDED
    refinement_error: str = ""

    def as_data(self) -> dict[str, Any]:
        """The fields as a dict, sharing their values (`dataclasses.asdict` deep-copies the
        description and the vectors, twice a search, for nothing: nobody mutates them)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def result_key(self, revision: int | None = None) -> str:
        """The hash of everything that decides the answer (not the query id), at the
        descriptions revision `revision` (default: the current one)."""
        data = self.as_data()
        data.pop("query_id")
        data.pop("refinement_error")
        # A curator's correction must never hide behind a cached answer.
        data["descriptions_revision"] = descriptions_revision() if revision is None else revision
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode())
        return f"search:result:{digest.hexdigest()}"


def new_query_id() -> str:
    return uuid.uuid4().hex


def _key(query_id: str) -> str:
    return f"search:query:{query_id}"


def query_state_save(*, state: QueryState, ttl: int) -> None:
    cache.set(_key(state.query_id), state.as_data(), ttl)


def query_state_load(
    *,
    query_id: str,
    page: int | None = None,
    limit: int | None = None,
    hidden_catalogs: tuple[int, ...] = (),
) -> QueryState | None:
    """A stored query, at another `page`/`limit` when asked (paging its answer), hiding what
    the asker may not see besides what its first asker could not (`hidden_catalogs`)."""
    value = cache.get(_key(query_id))
    if not isinstance(value, dict):
        return None
    state = QueryState(**value)
    state.page, state.limit = page or state.page, limit or state.limit
    if hidden_catalogs:
        hidden = set(state.filters.get("$hidden", ())) | set(hidden_catalogs)
        state.filters = {**state.filters, "$hidden": sorted(hidden)}
    return state


# The descriptions revision this process read last: the likely revision of the next search.
_seen_revision: int | None = None


def _revision_of(value: object) -> int:
    return int(value) if isinstance(value, int) else 0  # as `descriptions_revision` reads it


@dataclass(frozen=True)
class AnswerLookup:
    key: str  # the result key of the state
    cached: Any  # what the cache holds under it (None on a miss)
    state_saved: bool  # whether the state was saved in the same round trip


def _redis_client():
    """django-redis's client of the default cache, or None for another backend."""
    client = getattr(cache, "client", None)
    return client if hasattr(client, "get_client") and hasattr(client, "encode") else None


def _redis_lookup(client, keys: list[str], state: QueryState, state_ttl: int) -> dict[str, Any]:
    pipeline = client.get_client(write=True).pipeline(transaction=False)
    pipeline.mget([client.make_key(key) for key in keys])
    if state_ttl:
        client.set(_key(state.query_id), state.as_data(), state_ttl, client=pipeline)
    values = pipeline.execute()[0]
    return {k: client.decode(v) for k, v in zip(keys, values, strict=True) if v is not None}


def answer_lookup(*, state: QueryState, state_ttl: int = 0) -> AnswerLookup:
    """The result key of a state and what the cache holds under it; with `state_ttl`, the
    state is saved in the same round trip (Redis, or the database cache).

    The key depends on the descriptions revision, itself in the cache: the revision and the
    answer under the key of the revision seen last are read together, so a search usually
    costs one round trip here, not two; a second read only when the revision moved.
    """
    global _seen_revision
    guess = _seen_revision
    keys = [REVISION_KEY] + ([state.result_key(guess)] if guess is not None else [])
    client, database = _redis_client(), database_cache()
    saved = bool(state_ttl) and (client is not None or database is not None)
    if client is not None:
        try:
            found = _redis_lookup(client, keys, state, state_ttl)
        except CACHE_ERRORS as exc:  # Redis down: a miss, and the state is not kept
            logger.warning("search cache unreachable (%s): answering without it", exc)
            found, saved = {}, False
    elif database is not None:
        saved_state = [(_key(state.query_id), state.as_data(), state_ttl)] if state_ttl else []
        found = database_cache_lookup(database, keys, save=saved_state)
    else:
        found = cache.get_many(keys)
    revision = _revision_of(found.get(REVISION_KEY))
    _seen_revision = revision
    if guess is not None and revision == guess:
        return AnswerLookup(keys[1], found.get(keys[1]), saved)
    key = state.result_key(revision)
    return AnswerLookup(key, cache.get(key), saved)


def answer_cache_get(*, state: QueryState) -> tuple[str, Any]:
    """The result key of a state and what the cache holds under it (None on a miss)."""
    lookup = answer_lookup(state=state)
    return lookup.key, lookup.cached


def _cache_set_each(entries: list[tuple[str, Any, int]]) -> None:
    """`cache.set` of each (key, value, ttl), in as few waits as the backend allows."""
    client = _redis_client()
    if len(entries) > 1 and client is not None:
        # django-redis: one pipelined round trip (`cache.set_many` would, but with one ttl for
        # all); its own `set` on the pipeline keeps its key prefix and serialisation.
        pipeline = client.get_client(write=True).pipeline()
        for key, value, ttl in entries:
            client.set(key, value, ttl, client=pipeline)
        try:
            pipeline.execute()
        except CACHE_ERRORS as exc:  # Redis down: not cached, which a cache may do
            logger.warning("search cache unreachable (%s): not cached", exc)
        return
    database = database_cache()
    if database is not None:
        database_cache_write(database, entries)
        return
    for key, value, ttl in entries:
        cache.set(key, value, ttl)


def query_cache_save(
    *,
    state: QueryState | None = None,
    state_ttl: int = 0,
    answer_key: str = "",
    answer: Any = None,
    answer_ttl: int = 0,
    background: bool = False,
) -> None:
    """Save a query's state and/or cache an answer under its result key, in one round trip
    on Redis. With `background`, an answer alone is written by a background thread
    (`search.background`): nobody waits for a cache write."""
    if background and state is None and answer_key:
        if _redis_client() is not None:
            later(partial(caches[DEFAULT_CACHE_ALIAS].set, answer_key, answer, answer_ttl))
            return
        database = database_cache()
        if database is not None:
            entries = [(answer_key, answer, answer_ttl)]
            later_on_a_connection(partial(database_cache_write, database, entries))
            return
    entries = []
    if answer_key:
        entries.append((answer_key, answer, answer_ttl))
    if state is not None:
        entries.append((_key(state.query_id), state.as_data(), state_ttl))
    _cache_set_each(entries)
