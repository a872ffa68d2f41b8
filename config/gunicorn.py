"""gunicorn's settings for Swatch: `gunicorn -c config/gunicorn.py config.wsgi:application`.

With PROMETHEUS_MULTIPROC_DIR set (several worker processes, one `/metrics`), a worker that
exits is marked dead, so prometheus-client stops adding up its live gauges. The folder is
emptied by whoever starts the node (`./swatch up`), not here: another server or the task
worker may already be writing to it.
"""

from __future__ import annotations


def child_exit(server, worker) -> None:
    from config import env

    if env.get_optional(env.PROMETHEUS_MULTIPROC_DIR):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
