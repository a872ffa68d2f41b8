"""Storage and compute next to the model cost: database and media bytes per catalog, worker
time per task, and both on the costs page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_q.tasks import async_task

from analysis.curation.resources import (
    database_size_bytes,
    storage_per_catalog,
    worker_time_per_task,
)
from analysis.models import TaskRun, VisualAnalysis
from materials.models import MaterialImage
from materials.services import catalog_get_or_create, material_create_with_image
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_catalogs():
    small, big = catalog_get_or_create(name="Small"), catalog_get_or_create(name="Big")
    for n, catalog in enumerate([small, big, big, big]):
        image = material_create_with_image(
            catalog=catalog,
            name=f"M{n}",
            data=make_image_bytes(size=(64 + 16 * n, 48), color=(30 * n, 90, 120)),
        ).image
        VisualAnalysis.objects.create(
            image=image, status="completed", description={"summary": "x" * 200 * (n + 1)}
        )
    return small, big


def files_of(catalog) -> int:
    total = 0
    for image in MaterialImage.objects.filter(catalog=catalog):
        for field in (image.image, image.thumbnail, image.embedding_input):
            if field:
                total += field.size
    return total


def test_storage_per_catalog_counts_its_rows_and_its_files(two_catalogs):
    small, big = two_catalogs

    rows = {row.catalog: row for row in storage_per_catalog()}

    assert (rows["Small"].materials, rows["Small"].images) == (1, 1)
    assert (rows["Big"].materials, rows["Big"].images) == (3, 3)
    assert 0 < rows["Small"].database_bytes < rows["Big"].database_bytes
    assert rows["Small"].media_bytes == files_of(small) > 0
    assert rows["Big"].media_bytes == files_of(big)
    assert rows["Big"].media_missing == 0
    assert database_size_bytes() > rows["Big"].database_bytes
    # a file gone from disk is counted as missing, not as bytes
    image = MaterialImage.objects.filter(catalog=big).first()
    size = image.image.size
    image.image.storage.delete(image.image.name)
    again = {row.catalog: row for row in storage_per_catalog()}["Big"]
    assert again.media_missing == 1
    assert again.media_bytes == rows["Big"].media_bytes - size


def test_worker_time_per_task_from_the_tasks_that_ran():
    async_task("analysis.worker.heartbeat_task", sync=True)
    async_task("analysis.worker.heartbeat_task", sync=True)
    now = timezone.now()

    rows = {
        r["task"]: r for r in worker_time_per_task(since=now - dt.timedelta(hours=1), until=now)
    }

    runs = TaskRun.objects.filter(task="heartbeat_task")
    assert rows["heartbeat_task"]["runs"] == runs.count() == 2
    assert rows["heartbeat_task"]["failures"] == 0
    assert rows["heartbeat_task"]["wall_seconds"] == pytest.approx(
        sum(r.wall_seconds for r in runs)
    )


def test_the_costs_page_shows_storage_and_worker_time(two_catalogs, admin_client):
    async_task("analysis.worker.heartbeat_task", sync=True)

    page = admin_client.get("/admin/analysis/modelcall/costs/").content.decode()

    assert 'id="storage-per-catalog"' in page
    assert 'id="worker-time"' in page
    assert "Small" in page
    assert "Big" in page
    assert "heartbeat_task" in page
