"""The catalog API's bulk writes, run by a worker: each item downloaded (its `image_url`),
upserted by SKU, its result recorded; the new images' analysis queued at the end. A job run
again (a redelivery) upserts the same items again, which changes nothing the second time."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from analysis.http.download import catalog_fetch
from analysis.services import analysis_queue_for_images
from materials.errors import CatalogError
from materials.models import CatalogWriteJob
from materials.writes import FIELDS, material_upsert

TASK = "analysis.catalog_jobs.catalog_job_task"
MAX_ITEMS = 500


def _item_result(job: CatalogWriteJob, index: int, item: dict) -> tuple[dict, list[int]]:
    fields = {name: item[name] for name in FIELDS if name in item}
    try:
        url = item.get("image_url") or ""
        data = catalog_fetch(url) if url else None
        write = material_upsert(catalog=job.catalog, fields=fields, data=data, source_url=url)
    except CatalogError as exc:
        return {"index": index, "sku": item.get("sku"), "status": "failed",
                "error": {"code": exc.code, "message": exc.message}}, []  # fmt: skip
    return {"index": index, "sku": item.get("sku"), "status": write.outcome,
            "material_id": write.material.pk}, write.new_image_ids  # fmt: skip


def catalog_job_run(*, job: CatalogWriteJob) -> CatalogWriteJob:
    CatalogWriteJob.objects.filter(pk=job.pk).update(status="running")
    results, new_images = [], []
    for index, item in enumerate(job.items):
        result, images = _item_result(job, index, item)
        results.append(result)
        new_images += images
    with transaction.atomic():
        job.results, job.status, job.finished_at = results, "done", timezone.now()
        job.save(update_fields=["results", "status", "finished_at"])
        if new_images:
            analysis_queue_for_images(image_ids=new_images)
    return job


def catalog_job_enqueue(*, job: CatalogWriteJob) -> None:
    def send() -> None:
        from django_q.tasks import async_task

        async_task(TASK, job.pk, group="catalog-write")

    transaction.on_commit(send)


def catalog_job_task(job_id: int) -> str:
    job = CatalogWriteJob.objects.select_related("catalog").filter(pk=job_id).first()
    if job is None:
        return "job gone"
    done = catalog_job_run(job=job)
    return f"{len(done.results)} items"
