"""The embedding-model registry: indexes built by a command, coverage, the activation gates
(full coverage or --allow-partial, --require-eval), queued re-embedding, the admin's view."""

from __future__ import annotations

import csv

import pytest
from django.core.management.base import CommandError
from django_q.models import OrmQ

from analysis.models import Embedding, EmbeddingModel
from analysis.registry.indexes import index_state, model_index
from analysis.registry.reembed import reembed_task
from analysis.registry.selectors import coverage
from analysis.registry.switch import SwitchRefused, model_activate
from materials.intake import image_decode
from search.providers import search_providers
from search.query import QueryImage, SearchQuery, filters_parse
from search.services.run import search_run
from tests.analysis.registry_support import (
    POOLED,
    analysed_catalog,
    command,
    register_pooled,
)
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]


def _search(image, catalog_id: int) -> list[int]:
    with image.image.open("rb") as handle:
        data = handle.read()
    answer = search_run(
        query=SearchQuery(
            image=QueryImage(image_decode(data=data), image.sha256),
            filters=filters_parse(raw={"catalog": catalog_id}),
            limit=5,
            weights={"vector": 1.0, "properties": 0.0, "semantic": 0.0},
        ),
        refine="never",
    )
    return [result.material_id for result in answer.results]


def test_a_registered_model_gets_a_valid_partial_index_built_by_a_command(shared_data):
    # when a model is registered, then its index is built (concurrently) and valid
    assert "built" in register_pooled()
    row = EmbeddingModel.objects.get(name=POOLED)
    assert index_state(model_index(row)) == "valid"
    assert row.index_built_at is not None
    assert not row.active
    # and building it again keeps it
    assert command("build_embedding_index", POOLED).endswith(": kept")
    # and a model is registered once, and only with a provider that makes it
    with pytest.raises(CommandError, match="already exists"):
        register_pooled()
    with pytest.raises(CommandError, match="makes 'efficientnet-lite0-pooled' .1280-d., the"):
        _register(
            "another-model",
            1280,
            "analysis.providers.offline_image.EfficientNetLite0PooledEmbedder",
        )
    with pytest.raises(CommandError, match="cannot import"):
        _register("another-model", 1280, "analysis.providers.nothing.Here")
    assert not EmbeddingModel.objects.filter(name="another-model").exists()


def test_activation_waits_for_full_coverage_or_answers_the_rest_by_the_old_model(shared_data):
    # given two catalogs, and the new model's vectors for one of them only
    covered = analysed_catalog(shared_data, 4, catalog="covered")
    uncovered = analysed_catalog(shared_data, 4, catalog="later", skip=40)
    register_pooled()
    command("reembed_catalog", "--model", POOLED, "--catalog", "covered", "--sync")
    row = EmbeddingModel.objects.get(name=POOLED)
    assert [(c.catalog, c.covered, c.total) for c in coverage(model=row)] == [
        ("covered", 4, 4),
        ("later", 0, 4),
    ]
    # when it is activated, then that is refused, naming what is missing
    with pytest.raises(CommandError, match="covers 4 of 8 items .*later 0/4"):
        command("activate_embedding_model", POOLED)
    assert search_providers().image_embedder.model == "efficientnet-lite0"
    # when it is activated with --allow-partial
    assert "the rest answered by efficientnet-lite0" in command(
        "activate_embedding_model", POOLED, "--allow-partial"
    )
    # then searches use it, and the uncovered catalog is still found, by the old model
    providers = search_providers()
    assert (providers.image_embedder.model, providers.image_fallback.model) == (
        POOLED,
        "efficientnet-lite0",
    )
    assert _search(uncovered[0], uncovered[0].catalog_id)[0] == uncovered[0].material_id
    assert _search(covered[1], covered[1].catalog_id)[0] == covered[1].material_id
    # and the old model cannot be dropped while it answers for the rest
    with pytest.raises(CommandError, match="still answers"):
        command("drop_embedding_model", "efficientnet-lite0")
    # when the rest is covered and the model activated again, then the fallback is gone
    command("reembed_catalog", "--model", POOLED, "--sync")
    command("activate_embedding_model", POOLED)
    assert EmbeddingModel.objects.get(name=POOLED).fallback is None
    assert search_providers().image_fallback is None


def test_reembedding_is_queued_in_batches_that_a_worker_runs_once(
    shared_data, django_capture_on_commit_callbacks
):
    # given an analysed catalog and a registered model
    images = analysed_catalog(shared_data, 5)
    register_pooled()
    # when reembed_catalog queues its work in batches of 2
    with django_capture_on_commit_callbacks(execute=True):
        assert command("reembed_catalog", "--model", POOLED, "--batch-size", "2") == (
            "queued 5 images of all catalogs in 3 batches"
        )
    tasks = [task.task for task in OrmQ.objects.all()]
    assert {t["func"] for t in tasks} == {"analysis.registry.reembed.reembed_task"}
    # when a worker runs each task, one of them twice (a redelivery)
    for task in [*tasks, tasks[0]]:
        reembed_task(*task["args"])
    # then each image has exactly one vector of the model, and nothing is left to queue
    vectors = Embedding.objects.filter(model=POOLED, kind="image")
    assert sorted(vectors.values_list("image_id", flat=True)) == sorted(i.pk for i in images)
    assert command("reembed_catalog", "--model", POOLED).startswith("queued 0 images")


def _golden_set(tmp_path, per_category: int = 3) -> str:
    with (SHARED_DATA / "labels.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    chosen: dict[str, list[dict]] = {}
    for row in rows:
        if len(chosen.setdefault(row["category"], [])) < per_category:
            chosen[row["category"]].append(row)
    path = tmp_path / "golden.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "category", "group"])
        writer.writeheader()
        for row in (r for group in list(chosen.values())[:5] for r in group):
            writer.writerow(
                {
                    "path": str(SHARED_DATA / row["path"]),
                    "category": row["category"],
                    "group": row["group"],
                }
            )
    return str(path)


def _register(name: str, dimensions: int, provider: str) -> None:
    command(
        "register_embedding_model",
        name,
        "--kind",
        "image",
        "--dimensions",
        str(dimensions),
        "--provider",
        provider,
    )


def test_require_eval_refuses_a_model_worse_on_the_golden_set(shared_data, tmp_path):
    # given a catalog and a model that sees nothing of the images, covering it
    analysed_catalog(shared_data, 3)
    _register("pixel-hash", 32, "tests.fakes.embedders.PixelHashEmbedder")
    command("reembed_catalog", "--model", "pixel-hash", "--sync")
    golden = _golden_set(tmp_path, per_category=2)
    # when it is to be activated on condition of evaluate_search, then it is not
    with pytest.raises(CommandError, match="pixel-hash is worse than efficientnet-lite0: "):
        command("activate_embedding_model", "pixel-hash", "--require-eval", golden, "--folds", "2")
    assert search_providers().image_embedder.model == "efficientnet-lite0"
    assert not EmbeddingModel.objects.filter(active=True).exists()


@pytest.mark.parametrize(
    ("new", "switched"),
    [
        ({"precision_at_1": 0.70, "map": 0.46}, True),  # the same: no worse
        ({"precision_at_1": 0.75, "map": 0.50}, True),
        ({"precision_at_1": 0.75, "map": 0.45}, False),  # better P@1, worse mAP
        ({"precision_at_1": 0.69, "map": 0.50}, False),
    ],
)
def test_the_switch_needs_both_figures_no_worse(shared_data, new, switched):
    # given a covered catalog and the serving model's figures on a golden set
    analysed_catalog(shared_data, 2)
    register_pooled()
    command("reembed_catalog", "--model", POOLED, "--sync")
    figures = {"efficientnet-lite0": {"precision_at_1": 0.70, "map": 0.46}, POOLED: new}
    # when the new model is activated on condition of its figures
    row = EmbeddingModel.objects.get(name=POOLED)
    if switched:
        model_activate(model=row, evaluate=lambda model: figures[model.name])
    else:
        with pytest.raises(SwitchRefused, match="is worse than"):
            model_activate(model=row, evaluate=lambda model: figures[model.name])
    # then it serves only when no worse on P@1 and mAP
    assert (search_providers().image_embedder.model == POOLED) is switched


def test_the_admin_shows_each_model_with_its_coverage_per_catalog(shared_data, admin_client):
    # given a catalog half re-embedded with a registered model
    images = analysed_catalog(shared_data, 4)
    register_pooled()
    from analysis.registry.reembed import reembed_batch

    reembed_batch(model=EmbeddingModel.objects.get(name=POOLED), image_ids=[images[0].pk])
    # when staff look at the registry in the admin
    listing = admin_client.get("/admin/analysis/embeddingmodel/").content.decode()
    row = EmbeddingModel.objects.get(name=POOLED)
    page = admin_client.get(f"/admin/analysis/embeddingmodel/{row.pk}/change/").content.decode()
    # then they see the model, its index and covered / total, per catalog on its page
    assert POOLED in listing
    assert "1 / 4" in listing
    assert "acme: 1 / 4" in page
    assert "(valid)" in page
