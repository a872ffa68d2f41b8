"""The embedder of a registered model, built once per process.

A model the configured chain makes (its first link's model has the row's name) is served by
that chain, with its fallbacks, breaker and ledger; any other by its `provider` class, built
with its `options`. Either way the embedder must say the row's name and dimensions: a vector
means something only with the model that made it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from analysis.embedding_models import EmbeddingModel
from analysis.registry.selectors import active_models

_lock = threading.Lock()
_built: dict[str, Any] = {}
# Models made to serve their kind inside a `serving` block (the evaluation of a candidate).
_serving: list[dict[str, EmbeddingModel]] = []


def _chain(kind: str) -> Any:
    from analysis.providers import factory

    return factory.get_image_embedder() if kind == "image" else factory.get_text_embedder()


def _chain_model(chain: Any) -> str:
    try:
        return chain.model
    except Exception:  # noqa: BLE001 - a chain that cannot build its first link makes nothing
        return ""


def _build(row: EmbeddingModel) -> Any:
    if not row.provider:
        raise ImproperlyConfigured(
            f"embedding model {row.name!r} has no provider and the configured chain makes "
            "another model."
        )
    try:
        embedder = import_string(row.provider)(**(row.options or {}))
    except ImportError as exc:
        raise ImproperlyConfigured(f"{row.name}: cannot import {row.provider!r}: {exc}") from exc
    if embedder.model != row.name or int(embedder.dimensions) != row.dimensions:
        raise ImproperlyConfigured(
            f"{row.provider} makes {embedder.model!r} ({embedder.dimensions}-d), the registry "
            f"says {row.name!r} ({row.dimensions}-d)."
        )
    return embedder


def embedder_for(row: EmbeddingModel) -> Any:
    """The `ImageEmbedder` (kind image) or `TextEmbedder` (description) of `row`."""
    chain = _chain(row.kind)
    if _chain_model(chain) == row.name:
        return chain
    key = json.dumps([row.name, row.kind, row.provider, row.options], sort_keys=True)
    with _lock:
        if key not in _built:
            _built[key] = _build(row)
        return _built[key]


def active_embedder(kind: str, active: dict[str, EmbeddingModel] | None = None) -> Any:
    """The embedder that serves `kind` now: the active model's, else the configured chain."""
    rows = active_models() if active is None else active
    row = _serving[-1].get(kind) if _serving and kind in _serving[-1] else rows.get(kind)
    return embedder_for(row) if row is not None else _chain(kind)


@contextmanager
def serving(*rows: EmbeddingModel) -> Iterator[None]:
    """Inside the block, `rows` serve their kinds in this process, whatever is active (the
    evaluation of a model before it is switched to)."""
    models = {row.kind: row for row in rows}
    _serving.append(models)
    try:
        yield
    finally:
        _serving.remove(models)


def reset_embedders() -> None:
    """Forget the built embedders (tests, or after a settings change)."""
    with _lock:
        _built.clear()
