"""Analyses in every state the curation tests need, made by the real pipeline with the small
real providers of `pipeline_support`, and curator accounts."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string

from analysis.ingest import analysis_run
from analysis.models import VisualAnalysis
from analysis.services import analysis_targets_prepare
from tests.analysis.pipeline_support import (
    PixelStatsDescriber,
    UnavailableDescriber,
    make_providers,
    store_images,
)


def analyse(image, *, material_type: str = "stone", confidence: float = 0.9, model_id="px-1"):
    """Run the real pipeline on one stored image; `confidence` None makes it fail."""
    (analysis_id,) = analysis_targets_prepare(images=[image.pk])
    if confidence is None:
        describer = UnavailableDescriber(retryable=False)
    else:
        describer = PixelStatsDescriber(
            material_type=material_type, confidence=confidence, model_id=model_id
        )
    analysis_run(analysis_id=analysis_id, providers=make_providers(describer=describer))
    return VisualAnalysis.objects.select_related("image__material").get(pk=analysis_id)


def analysed_catalog(shared_data, specs, *, catalog: str = "curation", skip: int = 0):
    """One analysis per spec (material_type, confidence, age in hours), oldest age first."""
    images = store_images(shared_data, len(specs), catalog=catalog, skip=skip)
    analyses = []
    now = timezone.now()
    for image, (material_type, confidence, hours) in zip(images, specs, strict=True):
        analysis = analyse(image, material_type=material_type, confidence=confidence)
        VisualAnalysis.objects.filter(pk=analysis.pk).update(
            created_at=now - timedelta(hours=hours)
        )
        analysis.refresh_from_db()
        analyses.append(analysis)
    return analyses


def make_curator(username: str = "cora"):
    from analysis.curation.curators import curator_grant

    user = get_user_model().objects.create_user(username=username, password="x-unused-x")
    curator_grant(user=user)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_queued_tasks():
    """What a django-q2 worker does with the queued tasks: call each with its arguments."""
    from django_q.models import OrmQ

    results = []
    for queued in OrmQ.objects.order_by("id"):
        task = queued.task
        results.append(import_string(task["func"])(*task["args"], **task["kwargs"]))
        queued.delete()
    return results


def second_opinion_providers():
    """`SWATCH_PIPELINE_PROVIDERS` for a re-analysis by another model that says "wood"."""
    return make_providers(
        describer=PixelStatsDescriber(material_type="wood", confidence=0.95, model_id="px-2")
    )


def review_post(description: dict, **changes) -> dict:
    """The review form's POST for `description` with some fields changed, as a browser sends it
    (unchecked boxes are absent)."""
    from analysis.admin.forms import DescriptionForm

    data = {**DescriptionForm.initial_from(description), **changes}
    post = {}
    for key, value in data.items():
        if key.startswith("_"):
            continue
        if isinstance(value, bool):
            if value:
                post[key] = "on"
        else:
            post[key] = "" if value is None else str(value)
    return post
