"""Interrupted and run again: `reembed_catalog --sync` and a URL import are stopped with
SIGTERM mid-way in a real second process, started again, and everything is there exactly
once (issue 17). Mid-way is a state, not a time: the re-embedding waits at a gate inside its
second batch, the image server holds the requests of the images after the first three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from django.db import connection

from analysis.embedding_models import EmbeddingModel
from analysis.models import Embedding
from analysis.registry.indexes import index_build
from materials.models import MaterialImage
from tests.analysis.registry_support import (
    POOLED,
    analysed_catalog,
)
from tests.fakes.image_server import image_server
from tests.fakes.processes import ROOT, _database_env
from tests.materials.test_import_urls import textures, url_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]


def _manage(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`manage.py args` in a new process on this test's database and media folder."""
    from django.conf import settings

    full_env = {
        **os.environ,
        "SWATCH_ENV": "test",
        "SWATCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **_database_env(),
        **(env or {}),
    }
    return subprocess.Popen(  # noqa: S603 - this interpreter, our manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _until(predicate, process: subprocess.Popen, what: str) -> None:
    """Wait for `predicate()` while the process lives (the test's only wait: for a state)."""
    stop = threading.Event()
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"the process ended before {what}: {process.stderr.read()}")
        stop.wait(0.05)
        connection.close()  # the next look reads what the other process committed


def test_an_interrupted_reembedding_resumes_and_embeds_each_image_once(shared_data, tmp_path):
    # given 6 analysed images and a model whose embedder waits at a gate in its second batch
    images = analysed_catalog(shared_data, 6)
    gate, reached = tmp_path / "gate", tmp_path / "reached"
    row = EmbeddingModel.objects.create(
        name=POOLED, kind="image", dimensions=1280,
        provider="tests.fakes.embedders.GatedPooledEmbedder",
        options={"gate": str(gate), "reached": str(reached)},
    )  # fmt: skip
    index_build(row)
    # when reembed_catalog runs in batches of 2 and is sent SIGTERM inside the second batch
    run = _manage("reembed_catalog", "--model", POOLED, "--sync", "--batch-size", "2")
    _until(reached.exists, run, "the second batch")
    run.send_signal(signal.SIGTERM)
    gate.touch()
    out, err = run.communicate(timeout=300)
    # then it stops after the batch in hand, saying so, with 4 of 6 images embedded
    assert run.returncode == 143, err
    assert "interrupted: embedded 4 of 6; run again to resume" in out
    assert Embedding.objects.filter(model=POOLED).count() == 4
    # when it runs again, then it does only the rest, and each image has one vector of it
    again = _manage("reembed_catalog", "--model", POOLED, "--sync", "--batch-size", "2")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "embedded 2, failed 0" in out
    vectors = Embedding.objects.filter(model=POOLED, kind="image")
    assert sorted(vectors.values_list("image_id", flat=True)) == sorted(i.pk for i in images)
    # and the other vectors are as they were: one image and one description vector each
    assert Embedding.objects.exclude(model=POOLED).count() == 12


def test_an_interrupted_url_import_resumes_and_imports_each_image_once(shared_data, tmp_path):
    # given a CSV of 8 image URLs on a server that answers the first 3, and holds the rest
    images = textures(shared_data, 8, skip=20)
    with image_server(images, hold=frozenset(list(images)[3:])) as server:
        rows = [{"url": server.image_url(name), "category": "web"} for name in images]
        path = url_csv(tmp_path / "urls.csv", rows)
        env = {"SWATCH_URL_IMPORT_ALLOWED_HOSTS": "127.0.0.1"}
        args = ("import_catalog", str(path), "--catalog", "web", "--no-analysis")
        # when the import runs, two downloads at a time, and is killed by SIGTERM while the
        # server holds its next requests
        run = _manage(*args, "--concurrency", "2", env=env)
        _until(
            lambda: (
                MaterialImage.objects.filter(catalog__name="web").count() == 3 and server.held > 0
            ),
            run,
            "three images were imported",
        )
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=120)
        assert run.returncode == -signal.SIGTERM
        # when it runs again with the server answering everything
        server.gate.set()
        again = _manage(*args, env=env)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        # then every URL is imported exactly once, and the first three were not downloaded again
        assert out.strip().splitlines()[-1] == "imported 5, skipped 3, failed 0"
        stored = list(
            MaterialImage.objects.filter(catalog__name="web").values_list("source_url", flat=True)
        )
        assert sorted(stored) == sorted(row["url"] for row in rows)
        done_first = [r["url"].rsplit("/img", 1)[1] for r in rows[:3]]
        assert [server.hits[f"/img{name}"] for name in done_first] == [1, 1, 1]
