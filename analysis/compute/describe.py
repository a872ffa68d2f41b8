"""Describing the pipeline's images: each on its own, or each once its embedding is there."""

from __future__ import annotations

import queue
from collections.abc import Sequence

from analysis.pipeline import Embedded, PipelineFailure, PipelineInput, failure_of
from analysis.providers.protocols import DescribeHints, DescriptionResult, ImageDescriber

Answers = dict[int, DescriptionResult | PipelineFailure]


def describe_each(
    describer: ImageDescriber,
    items: Sequence[PipelineInput],
    embedded: dict[int, Embedded] | None = None,
) -> Answers:
    """Describe each item; the ledger gets the file's hash, the describer the embedding."""
    answers: Answers = {}
    for item in items:
        vector = (embedded or {}).get(item.key)
        hints = DescribeHints(
            image_sha256=item.sha256,
            embedding=vector.vector if vector is not None else None,
            embedding_model=vector.model if vector is not None else "",
        )
        try:
            answers[item.key] = describer.describe(item.pixels, hints=hints)
        except Exception as exc:  # noqa: BLE001 - recorded on the row as its failure reason
            answers[item.key] = failure_of(item.key, "analysis", exc)
    return answers


def describe_as_embedded(
    describer: ImageDescriber,
    items: Sequence[PipelineInput],
    cached: dict[int, Embedded],
    arrivals: queue.Queue,
) -> Answers:
    """Describe each image once its embedding is there (cached, or arriving sub-batch by
    sub-batch from the embedding thread); an image whose embedding failed is not described."""
    ready: dict[int, Embedded | PipelineFailure] = dict(cached)
    waiting = list(items)
    answers: Answers = {}
    finished = False
    while waiting:
        now = [i for i in waiting if isinstance(ready.get(i.key), Embedded)]
        answers.update(describe_each(describer, now, {i.key: ready[i.key] for i in now}))
        waiting = [i for i in waiting if i.key not in ready]
        if finished:
            break
        if waiting:
            part = arrivals.get()
            if part is None:
                finished = True
            else:
                ready.update(part)
    return answers
