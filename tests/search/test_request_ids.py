"""A search and its background refinement log the same request id: the one the client sent."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.log_support import json_log
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db


def test_a_search_and_its_refinement_log_the_clients_request_id(providers, sample_catalog, gate):
    api = APIClient()
    upload = SimpleUploadedFile("q.png", png(COLORS["brown"]), content_type="image/png")
    with json_log("swatch.access", "swatch.search") as log:
        fast = api.post(
            "/api/v1/search/", {"image": upload}, format="multipart", HTTP_X_REQUEST_ID="find-oak-1"
        )
        assert fast.json()["phase"] == "fast"
        gate.set()  # the describer may answer now, on the refinement thread
        deadline = time.monotonic() + 30
        while not any("refinement of query" in r["message"] for r in log.records()):
            assert time.monotonic() < deadline, "the refinement never logged its outcome"
            time.sleep(0.05)

    records = log.records()
    access = next(r for r in records if r["logger"] == "swatch.access")
    refined = next(r for r in records if "refinement of query" in r["message"])
    assert access["request_id"] == "find-oak-1" == fast["X-Request-ID"]
    assert access["route"] == "/api/v1/search/"
    assert access["status"] == 200
    assert refined["request_id"] == "find-oak-1"
    assert refined["message"].endswith(f"{fast.json()['query_id']}: done")
