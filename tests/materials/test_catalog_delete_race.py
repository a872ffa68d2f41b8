"""Deleting a catalog while a search is being recorded against it (search/feedback writes its
records on a connection of its own, moments after the answer): the delete wins, whatever the
interleaving, and the late record is the one that fails (a warning, a lost record)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models.signals import post_delete

from materials.models import Catalog, Material
from materials.services import catalog_delete, catalog_get_or_create
from search.feedback.models import SearchRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_state(pid: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return None if row is None else f"{row[0]}:{row[1]}"


def test_a_search_recorded_during_the_delete_never_fails_the_delete():
    catalog = catalog_get_or_create(name="going")
    Material.objects.create(catalog=catalog, name="the last one")
    outcome: dict = {}
    started = threading.Event()

    def record() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    outcome["pid"] = cursor.fetchone()[0]
                started.set()
                SearchRecord.objects.create(
                    query_id="late-record", query_hash="h", kind="text", surface="api",
                    catalog_id=catalog.pk,
                )  # fmt: skip
        except IntegrityError as exc:
            outcome["error"] = exc
        finally:
            started.set()
            connections.close_all()

    recorder = threading.Thread(target=record)

    def in_the_middle(sender, instance, **kwargs) -> None:
        # After the collector has set the catalog's records' catalog to NULL and deleted its
        # materials, before the catalog row itself goes: the record commits now, or waits.
        if recorder.is_alive() or "pid" in outcome:
            return
        recorder.start()
        started.wait()
        deadline = time.monotonic() + 120  # a safety net for a broken run, not a timing
        while recorder.is_alive() and time.monotonic() < deadline:
            state = _backend_state(outcome["pid"]) if "pid" in outcome else None
            if state and state.endswith(":Lock"):  # waiting for the delete to finish
                return
            time.sleep(0.01)
        assert not recorder.is_alive(), "the recording neither finished nor waited for a lock"

    post_delete.connect(in_the_middle, sender=Material)
    try:
        catalog_delete(catalog=catalog)
    finally:
        post_delete.disconnect(in_the_middle, sender=Material)
        recorder.join(120)
    assert not Catalog.objects.filter(pk=catalog.pk).exists()
    assert isinstance(outcome.get("error"), IntegrityError)  # the late record lost, alone
    assert not SearchRecord.objects.filter(query_id="late-record").exists()
