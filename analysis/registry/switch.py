"""Switching the model that serves a kind, and dropping one that no longer does.

The switch is one short transaction over the registry rows of the kind (locked): the old
row loses `active`, the new one gains it. Search and the pipeline read the active rows at the
start of each request or batch, so every process moves at that commit: before it, they serve
the old model throughout; after it, the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from analysis.embedding_models import EmbeddingModel
from analysis.models import Embedding
from analysis.registry.embedders import _chain, _chain_model
from analysis.registry.indexes import index_drop, index_state, model_index
from analysis.registry.selectors import active_models, coverage, coverage_total

# Figures compared by `--require-eval`: the new model must be no worse on each.
EVAL_FIGURES = ("precision_at_1", "map")


class SwitchRefused(Exception):
    pass


@dataclass(frozen=True)
class Switched:
    model: EmbeddingModel
    previous: EmbeddingModel | None
    covered: int
    total: int
    evaluation: dict[str, tuple[float, float]] | None = None


def serving_model(kind: str) -> EmbeddingModel | None:
    """The model that serves `kind` now: the active row, else the configured chain's row."""
    active = active_models().get(kind)
    if active is not None:
        return active
    name = _chain_model(_chain(kind))
    return EmbeddingModel.objects.filter(name=name, kind=kind).first() if name else None


def _compare(
    evaluate: Callable[[EmbeddingModel], dict], old: EmbeddingModel, new: EmbeddingModel
) -> dict[str, tuple[float, float]]:
    before, after = evaluate(old), evaluate(new)
    figures = {name: (float(before[name]), float(after[name])) for name in EVAL_FIGURES}
    worse = [f"{n} {a:.3f} < {b:.3f}" for n, (b, a) in figures.items() if a < b]
    if worse:
        raise SwitchRefused(f"{new.name} is worse than {old.name}: {', '.join(worse)}.")
    return figures


def model_activate(
    *,
    model: EmbeddingModel,
    allow_partial: bool = False,
    evaluate: Callable[[EmbeddingModel], dict] | None = None,
) -> Switched:
    """Make `model` serve its kind. Refused without a valid index, below full coverage
    (unless `allow_partial`: the previous model then answers what is not covered), and with
    `evaluate`, when the model is worse than the serving one on P@1 or mAP."""
    if index_state(model_index(model)) != "valid":
        raise SwitchRefused(f"{model.name} has no index yet: run build_embedding_index first.")
    rows = coverage(model=model)
    covered, total = coverage_total(rows)
    if covered < total and not allow_partial:
        short = ", ".join(f"{r.catalog} {r.covered}/{r.total}" for r in rows if not r.complete)
        raise SwitchRefused(
            f"{model.name} covers {covered} of {total} items ({short}): run reembed_catalog, "
            "or switch with --allow-partial."
        )
    previous = serving_model(model.kind)
    if previous is not None and previous.pk == model.pk:
        if not (model.fallback_id and covered >= total):
            raise SwitchRefused(f"{model.name} already serves {model.kind}.")
        previous = model.fallback  # now complete: the fallback is no longer needed
    compare = evaluate and previous and previous.pk != model.pk
    figures = _compare(evaluate, previous, model) if compare else None
    with transaction.atomic():
        list(EmbeddingModel.objects.select_for_update().filter(kind=model.kind))
        EmbeddingModel.objects.filter(kind=model.kind, active=True).update(active=False)
        fallback = previous if covered < total else None
        EmbeddingModel.objects.filter(pk=model.pk).update(
            active=True, fallback=fallback, activated_at=timezone.now()
        )
    model.refresh_from_db()
    return Switched(model, previous, covered, total, figures)


def model_drop(*, model: EmbeddingModel) -> int:
    """Delete a model's vectors, its index and its row; refused while it serves or answers
    for uncovered items. The number of vectors deleted."""
    serving = serving_model(model.kind)
    if serving is not None and serving.pk == model.pk:
        raise SwitchRefused(f"{model.name} serves {model.kind}: activate another model first.")
    if EmbeddingModel.objects.filter(active=True, fallback=model).exists():
        raise SwitchRefused(
            f"{model.name} still answers the items the active model does not cover: "
            "complete reembed_catalog and activate again first."
        )
    deleted, _ = Embedding.objects.filter(model=model.name, kind=model.kind).delete()
    index_drop(model)
    model.delete()
    return deleted
