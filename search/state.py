"""A query's state in the shared cache, under its query id: what any web process needs to
answer `GET /api/v1/search/{query_id}/` — vectors, filters, weights, and the query image's
description once analysed. Never the image."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np

from analysis.curation.revision import KEY as REVISION_KEY
from analysis.curation.revision import descriptions_revision
from config.errors.outages import CACHE_ERRORS
from config.store import Entry, store
from search.background import later

logger = logging.getLogger("swatch.search")
T = TypeVar("T")

REFINEMENT_PENDING = "pending"
REFINEMENT_DONE = "done"
REFINEMENT_FAILED = "failed"
REFINEMENT_NOT_NEEDED = "not_needed"
# Refined by the offline analyser: the vision model was over its limits or money budget.
REFINEMENT_BUDGET = "budget"


VECTOR_FIELDS = (
    "image_vector",
    "negative_image_vector",
    "text_vector",
    "negative_text_vector",
    "fallback_vector",
    "description_vector",
)


@dataclass
class QueryState:
    query_id: str
    image_sha256: str = ""
    image_vector: np.ndarray | None = None
    negative_image_vector: np.ndarray | None = None
    text: str = ""
    text_vector: np.ndarray | None = None
    negative_text: str = ""
    negative_text_vector: np.ndarray | None = None
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
    fallback_vector: np.ndarray | None = None
    description: dict[str, Any] = field(default_factory=dict)
    description_vector: np.ndarray | None = None
    description_note: str = ""  # what the describer could not do at the depth asked
    # Spatial verification of the query image against its closest candidates: material id
    # (as text, for JSON) → inliers. Computed while the pixels are in memory.
    sample_inliers: dict[str, int] = field(default_factory=dict)
    # P(the query image shows a material at all), None without a fitted model (relevance).
    material_probability: float | None = None
    refinement: str = REFINEMENT_NOT_NEEDED
    refinement_error: str = ""

    def __post_init__(self) -> None:
        # The vectors are float32 arrays while a query runs, lists only where stored.
        for name in VECTOR_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, np.ndarray):
                setattr(self, name, np.asarray(value, dtype=np.float32))

    def as_data(self) -> dict[str, Any]:
        """The fields as a dict to store, sharing their values but the vectors, as lists
        (`dataclasses.asdict` deep-copies the description, for nothing: nobody mutates it)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name in VECTOR_FIELDS:
            if isinstance(data[name], np.ndarray):
                data[name] = data[name].tolist()
        return data

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


def _quietly(what: str, operation: Callable[[], T], default: T) -> T:
    """The store's answer, or `default` while Redis is unreachable: a query state or an
    answer not kept is a later miss, never a failed search."""
    try:
        return operation()
    except CACHE_ERRORS as exc:
        logger.warning("search store unreachable (%s): %s", exc.__class__.__name__, what)
        return default


def _save(entries: list[Entry]) -> None:
    _quietly("not saved", partial(store().set_many, entries), None)


def query_state_save(*, state: QueryState, ttl: int) -> None:
    _save([(_key(state.query_id), state.as_data(), ttl)])


def query_state_load(
    *,
    query_id: str,
    page: int | None = None,
    limit: int | None = None,
    hidden_catalogs: tuple[int, ...] = (),
) -> QueryState | None:
    """A stored query, at another `page`/`limit` when asked (paging its answer), hiding what
    the asker may not see besides what its first asker could not (`hidden_catalogs`)."""
    key = _key(query_id)
    value = _quietly("a miss", partial(store().get_many, [key]), {}).get(key)
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
    cached: Any  # what the store holds under it (None on a miss)
    state_saved: bool  # whether the state was saved in the same round trip


def answer_lookup(*, state: QueryState, state_ttl: int = 0) -> AnswerLookup:
    """The result key of a state and what the store holds under it; with `state_ttl`, the
    state is saved in the same round trip.

    The key depends on the descriptions revision, itself in the store: the revision and the
    answer under the key of the revision seen last are read together, so a search usually
    costs one round trip here, not two; a second read only when the revision moved.
    """
    global _seen_revision
    guess = _seen_revision
    keys = [REVISION_KEY] + ([state.result_key(guess)] if guess is not None else [])
    save = [(_key(state.query_id), state.as_data(), state_ttl)] if state_ttl else []
    found = _quietly("answering without it", partial(store().lookup, keys, save=save), None)
    saved = bool(save) and found is not None
    found = found or {}
    revision = _revision_of(found.get(REVISION_KEY))
    _seen_revision = revision
    if guess is not None and revision == guess:
        return AnswerLookup(keys[1], found.get(keys[1]), saved)
    key = state.result_key(revision)
    return AnswerLookup(
        key, _quietly("a miss", partial(store().get_many, [key]), {}).get(key), saved
    )


def answer_cache_get(*, state: QueryState) -> tuple[str, Any]:
    """The result key of a state and what the store holds under it (None on a miss)."""
    lookup = answer_lookup(state=state)
    return lookup.key, lookup.cached


def query_cache_save(
    *,
    state: QueryState | None = None,
    state_ttl: int = 0,
    answer_key: str = "",
    answer: Any = None,
    answer_ttl: int = 0,
    background: bool = False,
) -> None:
    """Save a query's state and/or cache an answer under its result key, in one round trip.
    With `background`, an answer alone is written by the background thread
    (`search.background`): nobody waits for a cache write."""
    entries: list[Entry] = []
    if answer_key:
        entries.append((answer_key, answer, answer_ttl))
    if state is not None:
        entries.append((_key(state.query_id), state.as_data(), state_ttl))
    if background and state is None and answer_key:
        later(partial(store().set_many, entries), database=store().uses_database)
        return
    _save(entries)
