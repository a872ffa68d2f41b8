"""Changing the image model of a live catalog: register → index → reembed → activate → drop,
with searches running throughout (issue 17's first acceptance test)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from analysis.models import Embedding, EmbeddingModel, VisualAnalysis
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

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]


class Searcher(threading.Thread):
    """Searches by the catalog's own images, one after another, until told to stop; records
    which image model served each search and how many results it gave, or its error."""

    def __init__(self, queries: list[QueryImage], catalog_id: int) -> None:
        super().__init__(daemon=True)
        self.queries, self.catalog_id = queries, catalog_id
        self.stop = threading.Event()
        self.served: list[tuple[str, int]] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                providers = search_providers()
                answer = search_run(
                    query=SearchQuery(
                        image=self.queries[n % len(self.queries)],
                        filters=filters_parse(raw={"catalog": self.catalog_id}),
                        limit=5,
                    ),
                    providers=providers,
                    refine="never",
                )
                self.served.append((providers.image_embedder.model, len(answer.results)))
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
        finally:
            connections.close_all()

    def wait_for(self, predicate, what: str) -> None:
        while not predicate(list(self.served)):
            assert not self.errors, self.errors
            assert self.is_alive(), f"the searcher stopped before {what}"
            self.stop.wait(0.05)


def _descriptions(images) -> dict:
    analyses = VisualAnalysis.objects.filter(image__in=images)
    texts = Embedding.objects.filter(image__in=images, kind="description")
    return {
        "analyses": sorted(analyses.values_list("pk", "updated_at", "description")),
        "texts": sorted(texts.values_list("pk", "model", "source_sha256", "created_at")),
    }


def test_the_image_model_switches_under_live_searches(shared_data):
    # given a small analysed catalog served by the offline image model
    images = analysed_catalog(shared_data, 8)
    before = _descriptions(images)
    assert Embedding.objects.filter(image__in=images, kind="image").count() == 8
    queries = []
    for image in images[:4]:
        with image.image.open("rb") as handle:
            data = handle.read()
        queries.append(QueryImage(image_decode(data=data), image.sha256))
    searcher = Searcher(queries, images[0].catalog_id)
    searcher.start()
    try:
        searcher.wait_for(lambda s: len(s) >= 2, "the first searches")

        # when a second real model is registered (its index built concurrently), the catalog
        # re-embedded with it, and the model activated while the searches go on
        assert "index of efficientnet-lite0-pooled: built" in register_pooled()
        assert command("reembed_catalog", "--model", POOLED, "--sync").endswith(
            "embedded 8, failed 0"
        )
        assert {m for m, _ in searcher.served} == {"efficientnet-lite0"}  # not switched yet
        assert "serves image" in command("activate_embedding_model", POOLED)
        searcher.wait_for(
            lambda s: sum(m == POOLED for m, _ in s) >= 3, "three searches by the new model"
        )
    finally:
        searcher.stop.set()
        searcher.join(timeout=120)

    # then no search failed or came back empty, and the switch happened for every search
    assert not searcher.errors, searcher.errors
    models = [m for m, _ in searcher.served]
    assert all(count > 0 for _, count in searcher.served), searcher.served
    assert models == sorted(models, key=lambda m: m == POOLED)  # old ones, then new ones
    # when the old model is dropped
    assert "dropped efficientnet-lite0" in command("drop_embedding_model", "efficientnet-lite0")
    # then every image vector of the catalog is the new model's, and no description (nor
    # its text vector) was computed again
    vectors = Embedding.objects.filter(image__in=images, kind="image")
    assert sorted(vectors.values_list("image_id", "model")) == sorted(
        (image.pk, POOLED) for image in images
    )
    assert _descriptions(images) == before
    assert EmbeddingModel.objects.get(kind="image", active=True).name == POOLED
