"""`pipeline_run`: the cache first, describe ∥ embed in two threads, quality check, text
embedding, one outcome per input."""

from __future__ import annotations

import contextvars
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connections

from analysis import caching
from analysis.compute.describe import Answers, describe_as_embedded, describe_each
from analysis.compute.embed import Vectors, embed_announcing, embed_batches, embed_texts
from analysis.description import DescriptionInvalid
from analysis.pipeline import (
    AnalysisQualityError,
    Embedded,
    PipelineFailure,
    PipelineInput,
    PipelineOutput,
    PipelineProviders,
    description_status,
    failure_of,
    known,
)
from analysis.providers.protocols import DescriptionResult


def _in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    # The caller's context goes along: background work stays background (`analysis.limits`).
    context = contextvars.copy_context()

    def run() -> Any:
        try:
            return context.run(work)
        finally:
            # Providers may record calls in the database from this thread: close its connection.
            connections.close_all()

    return run


def _cached_answers(
    items: Sequence[PipelineInput], providers: PipelineProviders
) -> tuple[dict[int, DescriptionResult], dict[int, Embedded]]:
    describer, embedder = providers.describer, providers.image_embedder
    model_id = known(lambda: describer.model_id)
    prompt_version = known(lambda: describer.prompt_version)
    image_model = known(lambda: embedder.model)
    dimensions = known(lambda: embedder.dimensions)
    descriptions: dict[int, DescriptionResult] = {}
    vectors: dict[int, Embedded] = {}
    for item in items:
        if item.kept_description is None and model_id and prompt_version is not None:
            hit = caching.cached_description(
                sha256=item.sha256, model_id=model_id, prompt_version=prompt_version
            )
            if hit is not None:
                descriptions[item.key] = hit
        if image_model and dimensions:
            vector = caching.cached_image_embedding(
                sha256=item.sha256, model=image_model, dimensions=dimensions
            )
            if vector is not None:
                vectors[item.key] = Embedded(image_model, vector)
    return descriptions, vectors


def _describes_from_embedding(providers: PipelineProviders) -> bool:
    """Whether the describer reads the image embedder's own vectors (then: embed first)."""
    wanted = known(lambda: providers.describer.embedding_model)
    return bool(wanted) and wanted == known(lambda: providers.image_embedder.model)


def _model_answers(
    providers: PipelineProviders,
    to_describe: list[PipelineInput],
    to_embed: list[PipelineInput],
    cached_vectors: dict[int, Embedded],
    batch_size: int,
) -> tuple[Answers, Vectors]:
    describer, embedder = providers.describer, providers.image_embedder
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="swatch-pipeline") as pool:
        if not _describes_from_embedding(providers):
            described = pool.submit(_in_thread(lambda: describe_each(describer, to_describe)))
            embedded = pool.submit(
                _in_thread(lambda: embed_batches(embedder, to_embed, batch_size))
            )
        else:
            arrivals: queue.Queue = queue.Queue()
            # Half-size sub-batches: the describer starts on the first while the second embeds.
            step = max(1, min(batch_size, (len(to_embed) + 1) // 2))
            embedded = pool.submit(
                _in_thread(lambda: embed_announcing(embedder, to_embed, step, arrivals))
            )
            described = pool.submit(
                _in_thread(
                    lambda: describe_as_embedded(describer, to_describe, cached_vectors, arrivals)
                )
            )
        return described.result(), embedded.result()


def _quality_checked(
    inputs: Sequence[PipelineInput],
    descriptions: dict[int, DescriptionResult],
    fresh_keys: set[int],
    failures: dict[int, PipelineFailure],
) -> tuple[dict[int, str], dict[int, str]]:
    """Statuses and texts to embed; a description that fails the check becomes a failure.
    New descriptions that pass are cached."""
    statuses: dict[int, str] = {}
    texts: dict[int, str] = {}
    for item in inputs:
        if item.key in failures:
            _keep_paid_answer(item, descriptions.get(item.key), fresh_keys)
            continue
        if item.kept_description is not None:
            texts[item.key] = item.kept_description.as_text()
            continue
        result = descriptions[item.key]
        try:
            statuses[item.key] = description_status(result)
        except (DescriptionInvalid, AnalysisQualityError) as exc:
            failures[item.key] = failure_of(item.key, "quality check", exc)
            continue
        if item.key in fresh_keys:
            caching.cache_description(sha256=item.sha256, result=result)
        texts[item.key] = result.description.as_text()
    return statuses, texts


def _keep_paid_answer(
    item: PipelineInput, result: DescriptionResult | None, fresh_keys: set[int]
) -> None:
    """A new description of an item that failed elsewhere (its embedding deferred or down) is
    cached all the same, if it passes the check: the next run does not pay for it again."""
    if result is None or item.key not in fresh_keys:
        return
    try:
        description_status(result)
    except (DescriptionInvalid, AnalysisQualityError):
        return
    caching.cache_description(sha256=item.sha256, result=result)


def pipeline_run(
    *,
    inputs: Sequence[PipelineInput],
    providers: PipelineProviders,
    batch_size: int = 1,
    fresh: bool = False,
) -> list[PipelineOutput | PipelineFailure]:
    """Describe ∥ embed every input (cache first, unless `fresh`), check quality, embed the
    descriptions. `fresh` (a forced re-analysis) asks the models again and re-caches."""
    descriptions, vectors = ({}, {}) if fresh else _cached_answers(inputs, providers)
    to_describe = [i for i in inputs if i.kept_description is None and i.key not in descriptions]
    to_embed = [i for i in inputs if i.key not in vectors]
    by_key = {item.key: item for item in inputs}
    new_descriptions, new_vectors = _model_answers(
        providers, to_describe, to_embed, vectors, batch_size
    )
    failures: dict[int, PipelineFailure] = {}
    for key, answer in new_descriptions.items():
        if isinstance(answer, PipelineFailure):
            failures[key] = answer
        else:
            descriptions[key] = answer
    for key, vector in new_vectors.items():
        if isinstance(vector, PipelineFailure):
            failures.setdefault(key, vector)
        else:
            vectors[key] = vector
            caching.cache_image_embedding(
                sha256=by_key[key].sha256, model=vector.model, vector=vector.vector
            )
    statuses, texts = _quality_checked(inputs, descriptions, set(new_descriptions), failures)
    text_vectors = embed_texts(providers.text_embedder, texts, fresh=fresh)
    outcomes: list[PipelineOutput | PipelineFailure] = []
    for item in inputs:
        text_vector = text_vectors.get(item.key)
        if item.key in failures or isinstance(text_vector, PipelineFailure):
            outcomes.append(failures.get(item.key) or text_vector)
            continue
        result = None if item.kept_description is not None else descriptions[item.key]
        outcomes.append(
            PipelineOutput(
                key=item.key,
                description=item.kept_description or result.description,
                result=result,
                status=statuses.get(item.key, ""),
                image_model=vectors[item.key].model,
                image_vector=vectors[item.key].vector,
                text_model=text_vector.model,
                text_vector=text_vector.vector,
                text=texts[item.key],
            )
        )
    return outcomes
