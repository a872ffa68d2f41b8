"""JSON log lines: one access line per request with its id, route, status and time; a task
queued while a request runs logs that request's id in the worker; secrets and image data
never reach a log line, whatever carries them (message, arguments, traceback, extra)."""

from __future__ import annotations

import base64
import logging
from multiprocessing import Value
from queue import Queue

import pytest
from django.test import Client
from django_q.brokers import get_broker
from django_q.signing import SignedPackage
from django_q.tasks import async_task
from django_q.worker import worker

from config.request_id import request_id_bind
from materials.services import catalog_get_or_create, material_create_with_image
from tests.conftest import make_image_bytes
from tests.log_support import json_log

pytestmark = pytest.mark.django_db


def test_every_request_logs_a_json_access_line_with_its_id_route_status_and_time():
    catalog = catalog_get_or_create(name="Logs")
    material = material_create_with_image(
        catalog=catalog, name="Oak", data=make_image_bytes(color=(120, 80, 40))
    ).image.material
    with json_log("swatch.access") as log:
        found = Client().get(f"/api/v1/materials/{material.pk}/", HTTP_X_REQUEST_ID="req-42")
        missing = Client().get("/no/such/page/")

    first, second = log.records()
    assert found.status_code == 200
    assert missing.status_code == 404
    assert first["request_id"] == "req-42" == found["X-Request-ID"]
    assert first["route"] == "/api/v1/materials/<id:material_id>/"
    assert first["status"] == 200
    assert first["method"] == "GET"
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] >= 0
    assert first["level"] == "INFO"
    assert first["logger"] == "swatch.access"
    assert first["time"]
    assert second["request_id"] == missing["X-Request-ID"] != "req-42"
    assert (second["route"], second["status"]) == ("unmatched", 404)


def test_a_task_queued_during_a_request_logs_that_requests_id_in_the_worker(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    broker = get_broker()
    broker.purge_queue()
    with request_id_bind("req-task-7"):
        async_task("analysis.worker.heartbeat_task")
    # The worker: another context (here no request at all), fed from the broker's package.
    (_, package), *_ = broker.dequeue()
    task = SignedPackage.loads(package)
    task["sync"] = True  # only so that the worker keeps the test's database connection open
    tasks, results = Queue(), Queue()
    tasks.put(task)
    tasks.put("STOP")
    with json_log("swatch.worker") as log:
        worker(tasks, results, Value("f", -1))

    lines = [r for r in log.records() if r["message"].startswith("task heartbeat_task")]
    assert [r["message"].split()[2] for r in lines] == ["started", "done"]
    assert {r["request_id"] for r in lines} == {"req-task-7"}
    assert results.get()["success"] is True


def test_secrets_and_image_data_never_reach_a_log_line(settings, monkeypatch):
    from config.observability import logs

    key = "tg-secret-key-0123456789abcdef"
    monkeypatch.setenv("SWATCH_VISION_API_KEY", key)
    logs._secret_values.cache_clear()
    image = make_image_bytes(color=(10, 200, 30))
    data_url = "data:image/png;base64," + base64.b64encode(image).decode()
    logger = logging.getLogger("swatch.test")
    try:
        with json_log("swatch.test") as log:
            logger.warning("calling %s with %s", "https://api.example/v1", {"api_key": key})
            logger.info("payload %s", {"image_url": {"url": data_url}})
            logger.info("raw %r", image)
            logger.info("headers", extra={"auth": f"Authorization: Bearer {key}"})
            try:
                raise RuntimeError(f"provider refused key {key} for {data_url[:400]}")
            except RuntimeError:
                logger.exception("model call failed")
            logger.info("django secret %s", settings.SECRET_KEY)
    finally:
        logs._secret_values.cache_clear()

    text = log.text()
    assert len(log.records()) == 6
    assert key not in text
    assert settings.SECRET_KEY not in text
    assert base64.b64encode(image).decode()[:60] not in text
    assert "PNG" not in text  # the bytes literal's signature
    assert "[redacted]" in text
    assert "[image data]" in text
    assert "model call failed" in text
    assert "RuntimeError" in text
