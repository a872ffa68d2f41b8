import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_pgvector_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["server_version"].split(".")[0].isdigit()
    assert body["database"]["pgvector_version"].startswith("0.8")
    assert body["queue"]["ok"] is True
    assert isinstance(body["queue"]["depth"], int)
    assert isinstance(body["providers"], list)


def test_healthz_counts_queued_tasks(client, settings):
    from django_q.brokers import get_broker

    broker = get_broker()
    before = client.get("/healthz").json()["queue"]["depth"]
    broker.enqueue("a task payload that no worker picks up in this test")
    assert client.get("/healthz").json()["queue"]["depth"] == before + 1


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
