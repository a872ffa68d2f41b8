"""What the synthetic catalog occupies: its indexes and rows on disk (what must stay in memory
for the index scans to stay fast), the database server's memory, this process's peak."""

from __future__ import annotations

import resource
from typing import Any

from django.db import connection

from search.benchmark.synthetic_rows import EMBEDDING


def _mb(value: float) -> float:
    return round(value / 2**20, 1)


def _server_memory_mb() -> float | None:
    """Unique memory of every process of the database server (a local one only)."""
    try:
        import psutil
    except ImportError:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        backend = psutil.Process(pid)
        postmaster = backend.parent()
        processes = [postmaster, *postmaster.children()]
        return _mb(sum(p.memory_full_info().uss for p in processes))
    except psutil.Error:
        return None  # a remote server, or not ours to inspect


def resources_measure(catalog) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c WHERE c.relname = ANY(%s)",
            [[index.name for index in catalog.indexes]],
        )
        indexes = {name: _mb(size) for name, size in cursor.fetchall()}
        cursor.execute(
            f"SELECT pg_total_relation_size('{EMBEDDING}'), current_setting('shared_buffers')"
        )
        embeddings, shared_buffers = cursor.fetchone()
    return {
        "index_mb": indexes,
        "embedding_table_mb": _mb(embeddings),
        "shared_buffers": shared_buffers,
        "server_uss_mb": _server_memory_mb(),
        "bench_process_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }
