"""The ingestion pipeline: describe ∥ embed → quality check → text embedding → one write."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.db import connection
from django_q.models import Schedule

from analysis.description import MaterialDescription
from analysis.ingest import analysis_run, analysis_run_batch
from analysis.models import AnalysisSource, AnalysisStatus, Embedding, VisualAnalysis
from analysis.providers.protocols import NO_HINTS, DescriptionResult
from analysis.registry.bulk_load import EmbeddingBulkLoads
from analysis.services import analysis_targets_prepare
from materials.intake import embedding_input, image_decode
from tests.analysis.pipeline_support import (
    CountingDescriber,
    CountingImageEmbedder,
    HashingTextEmbedder,
    PixelStatsDescriber,
    RgbHistogramEmbedder,
    UnavailableDescriber,
    make_providers,
    pending_analyses,
    store_images,
)

pytestmark = pytest.mark.usefixtures("own_cache")


def _pixels(image):
    from PIL import Image

    with image.image.open("rb") as handle:
        return Image.open(handle).convert("RGB")


@pytest.mark.django_db
def test_pipeline_writes_the_analysis_and_both_embeddings(shared_data):
    # given a stored real texture and its pending analysis
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])

    # when the pipeline runs
    summary = analysis_run(analysis_id=analysis_id, providers=make_providers())

    # then the analysis is complete, with what the describer said
    analysis = VisualAnalysis.objects.get(pk=analysis_id)
    expected = PixelStatsDescriber().describe(_pixels(image)).description
    assert summary.completed == 1
    assert analysis.status == AnalysisStatus.COMPLETED
    assert analysis.source == AnalysisSource.OFFLINE
    assert (analysis.model_id, analysis.prompt_version) == ("px-1", "t1")
    assert analysis.material_type == "stone"
    assert analysis.confidence == pytest.approx(0.9)
    assert MaterialDescription.model_validate(analysis.description) == expected
    assert analysis.model_output == analysis.description
    assert analysis.attempts == 1
    assert analysis.started_at <= analysis.finished_at
    assert analysis.error_reason == ""
    # and one image and one description embedding, each with its model's name
    image_row = Embedding.objects.get(image=image, kind="image")
    text_row = Embedding.objects.get(image=image, kind="description")
    assert (image_row.model, image_row.dimensions, image_row.source_sha256) == (
        "rgb-hist-64",
        64,
        image.sha256,
    )
    # made from the upload's decoded pixels (kept losslessly), not from the stored JPEG
    (original,) = [
        p for p in (shared_data / "images").rglob("*.png") if p.stem == image.material.name
    ]
    decoded = embedding_input(image_decode(data=original.read_bytes()))
    np.testing.assert_allclose(
        image_row.vector, RgbHistogramEmbedder().embed_images([decoded]).vectors[0], atol=1e-6
    )
    assert not np.allclose(
        image_row.vector,
        RgbHistogramEmbedder().embed_images([_pixels(image)]).vectors[0],
        atol=1e-6,
    )
    assert (text_row.model, text_row.dimensions) == ("hash-text-32", 32)
    np.testing.assert_allclose(
        text_row.vector,
        HashingTextEmbedder().embed_texts([expected.as_text()]).vectors[0],
        atol=1e-6,
    )


@pytest.mark.django_db
def test_low_confidence_goes_to_review_and_the_threshold_is_a_setting(shared_data, settings):
    # given two images, described with confidence 0.6
    images = store_images(shared_data, 2)
    first, second = pending_analyses(images)
    providers = make_providers(describer=PixelStatsDescriber(confidence=0.6))

    # when one runs under the default threshold (0.7) and one under 0.5
    analysis_run(analysis_id=first, providers=providers)
    settings.SWATCH = {**settings.SWATCH, "REVIEW_CONFIDENCE": 0.5}
    analysis_run(analysis_id=second, providers=providers)

    # then the first waits for a person, the second is done
    assert VisualAnalysis.objects.get(pk=first).status == AnalysisStatus.NEEDS_REVIEW
    assert VisualAnalysis.objects.get(pk=second).status == AnalysisStatus.COMPLETED


@pytest.mark.django_db
def test_an_outage_is_retried_then_failed_with_its_reason_and_nothing_half_written(
    shared_data, django_capture_on_commit_callbacks
):
    # given an image whose describer is down (retryable), with 3 attempts allowed
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])
    providers = make_providers(describer=UnavailableDescriber())

    # when the first attempt fails
    with django_capture_on_commit_callbacks(execute=True):
        analysis_run(analysis_id=analysis_id, providers=providers)

    # then it is pending again with the reason, and a delayed retry is scheduled
    analysis = VisualAnalysis.objects.get(pk=analysis_id)
    assert analysis.status == AnalysisStatus.PENDING
    assert analysis.attempts == 1
    assert "503" in analysis.error_reason
    retry = Schedule.objects.get(func="analysis.tasks.analysis_task", args=f"({analysis_id},)")
    assert retry.schedule_type == Schedule.ONCE

    # when the other two attempts fail too
    analysis_run(analysis_id=analysis_id, providers=providers)
    summary = analysis_run(analysis_id=analysis_id, providers=providers)

    # then it failed for good, with its reason, and nothing else was written
    analysis = VisualAnalysis.objects.get(pk=analysis_id)
    assert summary.failed == 1
    assert (analysis.status, analysis.attempts) == (AnalysisStatus.FAILED, 3)
    assert "unavailable: upstream answered 503" in analysis.error_reason
    assert (analysis.description, analysis.material_type) == ({}, "")
    assert not Embedding.objects.filter(image=image).exists()


class ContradictoryDescriber(PixelStatsDescriber):
    """Schema-valid parts, impossible whole: colour shares adding up to 1.8."""

    def describe(self, image, *, hints=NO_HINTS):
        result = super().describe(image, hints=hints)
        data = result.description.model_dump()
        data["colors"] = [{**data["colors"][0], "share": 0.9}] * 2
        return DescriptionResult(
            description=MaterialDescription.model_validate(data),
            source=result.source,
            model_id=result.model_id,
            prompt_version=result.prompt_version,
        )


@pytest.mark.django_db
def test_output_failing_the_quality_check_fails_at_once_without_a_retry(shared_data):
    # given a describer whose answer contradicts itself
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])

    # when the pipeline runs
    analysis_run(
        analysis_id=analysis_id, providers=make_providers(describer=ContradictoryDescriber())
    )

    # then it failed on the first attempt with the reason, and stored nothing
    analysis = VisualAnalysis.objects.get(pk=analysis_id)
    assert (analysis.status, analysis.attempts) == (AnalysisStatus.FAILED, 1)
    assert "colour shares add up to 1.80" in analysis.error_reason
    assert analysis.description == {}
    assert not Embedding.objects.filter(image=image).exists()


@pytest.mark.django_db
def test_a_curated_analysis_keeps_its_description_and_gets_fresh_embeddings(shared_data):
    # given an approved curated analysis without embeddings
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])
    curated = PixelStatsDescriber(material_type="marble").describe(_pixels(image)).description
    VisualAnalysis.objects.filter(pk=analysis_id).update(
        source=AnalysisSource.CURATED,
        status=AnalysisStatus.APPROVED,
        description=curated.model_dump(mode="json"),
        material_type="marble",
    )
    describer = CountingDescriber(PixelStatsDescriber(material_type="wood"))

    # when a re-analysis runs without force_curated
    summary = analysis_run(analysis_id=analysis_id, providers=make_providers(describer=describer))

    # then no model describes it, the curator's words stay, and the embeddings follow them
    analysis = VisualAnalysis.objects.get(pk=analysis_id)
    assert (describer.calls, summary.refreshed) == (0, 1)
    assert (analysis.status, analysis.source, analysis.material_type) == (
        AnalysisStatus.APPROVED,
        AnalysisSource.CURATED,
        "marble",
    )
    text_row = Embedding.objects.get(image=image, kind="description")
    np.testing.assert_allclose(
        text_row.vector,
        HashingTextEmbedder().embed_texts([curated.as_text()]).vectors[0],
        atol=1e-6,
    )
    assert Embedding.objects.filter(image=image, kind="image").count() == 1

    # when it runs again: the embeddings are fresh, so nothing at all is called
    counting_embedder = CountingImageEmbedder(RgbHistogramEmbedder())
    again = analysis_run(
        analysis_id=analysis_id,
        providers=make_providers(describer=describer, image_embedder=counting_embedder),
    )
    assert (again.skipped, describer.calls, counting_embedder.calls) == (1, 0, 0)

    # when force_curated is given explicitly, the model's analysis replaces it
    analysis_targets_prepare(images=[image.pk], force=True, force_curated=True)
    analysis_run(
        analysis_id=analysis_id,
        providers=make_providers(describer=describer),
        force_curated=True,
    )
    analysis = VisualAnalysis.objects.get(pk=analysis_id)
    assert (analysis.source, analysis.material_type, describer.calls) == ("offline", "wood", 1)


@pytest.mark.django_db
def test_the_batched_path_embeds_in_batches_and_writes_each_image(shared_data):
    # given five pending images
    images = store_images(shared_data, 5)
    ids = pending_analyses(images)
    embedder = CountingImageEmbedder(RgbHistogramEmbedder())

    # when they run in batches of 4
    progress = []
    summary = analysis_run_batch(
        analysis_ids=ids,
        providers=make_providers(image_embedder=embedder),
        batch_size=4,
        on_progress=progress.append,
    )

    # then two embedder calls did all five, and every image has its analysis and embeddings
    assert (embedder.calls, embedder.images) == (2, 5)
    assert progress == [4, 1]
    assert summary.completed == 5
    assert Embedding.objects.filter(image__in=images).count() == 10
    assert set(VisualAnalysis.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "completed"
    }


@pytest.mark.django_db
def test_an_unreadable_image_fails_alone_in_its_batch(shared_data):
    # given three images, one of whose stored file got damaged
    images = store_images(shared_data, 3)
    ids = pending_analyses(images)
    damaged = images[1]
    with open(damaged.image.path, "wb") as handle:
        handle.write(b"not an image any more")

    # when the batch runs
    summary = analysis_run_batch(analysis_ids=ids, providers=make_providers(), batch_size=8)

    # then that one failed with a reason, the other two are complete
    assert (summary.completed, summary.failed) == (2, 1)
    row = VisualAnalysis.objects.get(image=damaged)
    assert row.status == AnalysisStatus.FAILED
    assert row.error_reason.startswith("image unreadable")
    assert not Embedding.objects.filter(image=damaged).exists()


class RendezvousDescriber(PixelStatsDescriber):
    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def describe(self, image, *, hints=NO_HINTS):
        self.barrier.wait()  # raises BrokenBarrierError unless the embedder runs meanwhile
        return super().describe(image, hints=hints)


class RendezvousEmbedder(RgbHistogramEmbedder):
    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier

    def embed_images(self, images):
        self.barrier.wait()
        return super().embed_images(images)


class TransactionWatchingTextEmbedder(HashingTextEmbedder):
    def __init__(self) -> None:
        self.in_transaction: list[bool] = []

    def embed_texts(self, texts):
        self.in_transaction.append(connection.in_atomic_block)
        return super().embed_texts(texts)


@pytest.mark.django_db(transaction=True)
def test_analysis_and_embedding_run_concurrently_and_outside_any_transaction(shared_data):
    # given a describer and an embedder that can only finish if they run at the same time
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])
    barrier = threading.Barrier(2, timeout=10)
    text_embedder = TransactionWatchingTextEmbedder()

    # when the pipeline runs
    summary = analysis_run(
        analysis_id=analysis_id,
        providers=make_providers(
            describer=RendezvousDescriber(barrier),
            image_embedder=RendezvousEmbedder(barrier),
            text_embedder=text_embedder,
        ),
    )

    # then both met, and the text embedding ran outside a transaction
    assert summary.completed == 1
    assert text_embedder.in_transaction == [False]


@pytest.mark.django_db
def test_a_broken_setup_fails_the_claimed_rows_at_once_and_says_why(shared_data, settings):
    # given providers that cannot be built (a wrong dotted path in SWATCH_PIPELINE_PROVIDERS)
    settings.SWATCH = {
        **settings.SWATCH,
        "PIPELINE_PROVIDERS": "tests.analysis.pipeline_support.no_such_providers",
    }
    images = store_images(shared_data, 2)
    ids = pending_analyses(images)

    # when the batch runs, the error goes up
    with pytest.raises(ImportError):
        analysis_run_batch(analysis_ids=ids)

    # and the claimed rows are failed with the reason, not left running for the reaper
    rows = VisualAnalysis.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", flat=True)) == {AnalysisStatus.FAILED}
    assert all(
        r.startswith("internal error: ImportError")
        for r in rows.values_list("error_reason", flat=True)
    )


class EmbeddingAwareDescriber(PixelStatsDescriber):
    """Like the offline analyser: classifies the image embedding, its own embedder's or the one
    it is handed."""

    def __init__(self, embedder) -> None:
        super().__init__()
        self.embedder = embedder
        self.self_embedded = 0
        self.handed: list[np.ndarray] = []

    @property
    def embedding_model(self) -> str:
        return self.embedder.model

    def describe(self, image, *, hints=NO_HINTS):
        if hints.embedding is None or hints.embedding_model != self.embedder.model:
            self.self_embedded += 1
            self.embedder.embed_images([image])
        else:
            self.handed.append(np.asarray(hints.embedding))
        return super().describe(image, hints=hints)


@pytest.mark.django_db
def test_a_describer_that_uses_the_image_embedding_gets_the_pipeline_s_own(shared_data):
    # given five images and a describer whose own embedder is the pipeline's model
    images = store_images(shared_data, 5)
    ids = pending_analyses(images)
    embedder = CountingImageEmbedder(RgbHistogramEmbedder())
    describer = EmbeddingAwareDescriber(RgbHistogramEmbedder())

    # when they run in one batch
    summary = analysis_run_batch(
        analysis_ids=ids,
        providers=make_providers(describer=describer, image_embedder=embedder),
        batch_size=8,
    )

    # then each image was embedded once, and the describer was handed those vectors
    assert summary.completed == 5
    assert (embedder.images, describer.self_embedded, len(describer.handed)) == (5, 0, 5)
    stored = np.stack([Embedding.objects.get(image=image, kind="image").vector for image in images])
    for vector in describer.handed:
        assert np.isclose(stored @ vector, 1.0, atol=1e-5).sum() >= 1


@pytest.mark.django_db
def test_a_describer_with_another_embedding_model_is_not_handed_the_vectors(shared_data):
    # given a describer that classifies a different model's embeddings
    images = store_images(shared_data, 2)
    ids = pending_analyses(images)

    class OtherModel(RgbHistogramEmbedder):
        model = "another-model"

    describer = EmbeddingAwareDescriber(OtherModel())

    # when they run, then it embedded each image itself
    analysis_run_batch(
        analysis_ids=ids, providers=make_providers(describer=describer), batch_size=8
    )
    assert (describer.self_embedded, describer.handed) == (2, [])


@pytest.mark.django_db(transaction=True)
def test_a_bulk_batch_keeps_a_curated_description_and_describes_the_others(shared_data):
    # given two stored textures: one curated (approved), one pending
    curated_image, image = store_images(shared_data, 2)
    curated_id, analysis_id = pending_analyses([curated_image, image])
    curated = PixelStatsDescriber(material_type="marble").describe(_pixels(curated_image))
    VisualAnalysis.objects.filter(pk=curated_id).update(
        source=AnalysisSource.CURATED, status=AnalysisStatus.APPROVED,
        description=curated.description.model_dump(mode="json"), material_type="marble",
    )  # fmt: skip

    # when both are analysed in one batch of a bulk load (one lock, one UPDATE, COPYed vectors)
    with EmbeddingBulkLoads(expected_rows=2, min_rows=1) as loads:
        summary = analysis_run_batch(
            analysis_ids=[curated_id, analysis_id], providers=make_providers(), vectors=loads
        )

    # then the curator's words stay, the other is described, and both have both vectors
    assert (summary.refreshed, summary.completed) == (1, 1)
    kept = VisualAnalysis.objects.get(pk=curated_id)
    assert (kept.status, kept.source, kept.material_type) == (
        AnalysisStatus.APPROVED, AnalysisSource.CURATED, "marble",
    )  # fmt: skip
    described = VisualAnalysis.objects.get(pk=analysis_id)
    expected = PixelStatsDescriber().describe(_pixels(image)).description
    assert described.status == AnalysisStatus.COMPLETED
    assert MaterialDescription.model_validate(described.description) == expected
    assert described.model_output == described.description
    assert described.finished_at is not None
    assert Embedding.objects.filter(image__in=[curated_image, image]).count() == 4
    text_row = Embedding.objects.get(image=curated_image, kind="description")
    np.testing.assert_allclose(
        text_row.vector,
        HashingTextEmbedder().embed_texts([curated.description.as_text()]).vectors[0],
        atol=1e-6,
    )
