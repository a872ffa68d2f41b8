"""`/readyz`: 503 when the node should get no traffic (database, pgvector, migrations, the task
worker's heartbeat); `/healthz` stays the liveness check. The database-stopped case runs
against a server of its own: tests/config/test_readiness_database_stopped.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from analysis.models import WorkerHeartbeat
from analysis.worker import heartbeat_beat, heartbeat_task
from config.observability import readiness

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_remembered_migrations(monkeypatch):
    monkeypatch.setattr(readiness, "_migrations_ok_at", None)


def test_ready_with_database_pgvector_migrations_and_a_fresh_heartbeat(client):
    heartbeat_beat()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert body["failing"] == []
    assert body["checks"]["pgvector"]["version"].startswith("0.8")
    assert body["checks"]["migrations"] == {"ok": True, "pending": 0}
    assert body["checks"]["worker"]["heartbeat_age_seconds"] < 60


def test_a_stale_worker_heartbeat_makes_the_node_not_ready(client, settings):
    settings.SWATCH_READY = {"HEARTBEAT_MAX_AGE": 300}
    WorkerHeartbeat.objects.all().delete()
    heartbeat_beat(at=timezone.now() - dt.timedelta(seconds=301))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert response["Retry-After"]
    # the liveness check does not care
    assert client.get("/healthz").status_code == 200
    # and the worker's next beat (its scheduled task) makes the node ready again
    heartbeat_task()
    assert client.get("/readyz").status_code == 200


def test_no_worker_ever_seen_is_not_ready(client):
    WorkerHeartbeat.objects.all().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "ever reported" in response.json()["checks"]["worker"]["error"]


def test_a_migration_not_applied_makes_the_node_not_ready(client):
    heartbeat_beat()
    applied = MigrationRecorder(connection).applied_migrations()
    latest = max(name for app, name in applied if app == "analysis")
    # as if this code were deployed on a database one migration behind (rolled back after)
    MigrationRecorder(connection).record_unapplied("analysis", latest)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"]["first"] == [f"analysis.{latest}"]


def test_readyz_only_answers_get(client):
    assert client.post("/readyz").status_code == 405
