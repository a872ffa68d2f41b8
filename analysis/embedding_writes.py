"""The one way vectors are stored: an upsert on the one-vector-per-(image, kind, model)
constraint, used by the pipeline, a curator's correction and the registry's bulk loads."""

from __future__ import annotations

from collections.abc import Iterable

from analysis.models import Embedding


def embeddings_write(embeddings: Iterable[Embedding]) -> None:
    """Store these (unsaved) embeddings in one statement; a vector already stored for the
    same image, kind and model is replaced, with its dimensions and source hash."""
    Embedding.objects.bulk_create(
        list(embeddings),
        update_conflicts=True,
        unique_fields=["image", "kind", "model"],
        update_fields=["dimensions", "vector", "source_sha256"],
    )
