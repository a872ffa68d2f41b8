"""gunicorn's settings, sized from the machine: `gunicorn -c config/gunicorn.py
config.wsgi:application` (what `./swatch up`, the Procfile and the container run).

Workers default to gunicorn's rule of thumb, 2 × cores + 1, counting the cores this process may
run on (a container's CPU set, not the host's); each runs `SWATCH_WEB_THREADS` threads, since a
search mostly waits for PostgreSQL. Every value is a setting (docs/CONFIGURATION.md).

With PROMETHEUS_MULTIPROC_DIR set (several worker processes, one `/metrics`), a worker that
exits is marked dead, so prometheus-client stops adding up its live gauges. The folder is
emptied by whoever starts the node (`./swatch up`), not here: another server or the task
worker may already be writing to it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `config` importable by path

from config import env  # noqa: E402 - after the path it needs


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_workers(cores: int) -> int:
    return 2 * cores + 1


bind = f"{env.get_str(env.WEB_HOST)}:{env.get_int(env.WEB_PORT)}"
workers = int(env.get_optional(env.WEB_WORKERS) or default_workers(cpu_cores()))
threads = env.get_int(env.WEB_THREADS)
worker_class = "gthread"
timeout = env.get_int(env.WEB_TIMEOUT)
graceful_timeout = 30
keepalive = 5
max_requests = env.get_int(env.WEB_MAX_REQUESTS)
max_requests_jitter = max_requests // 10
# X-Forwarded-Proto (https) and X-Forwarded-For believed from SWATCH_TRUSTED_PROXIES only, as
# Swatch does (config/forwarded.py, config/client_address.py): not gunicorn's own 127.0.0.1.
forwarded_allow_ips = ",".join(env.get_list(env.TRUSTED_PROXIES))
# Django's `swatch.access` logger writes the access line (JSON, with the request id and the
# route, never the query string): gunicorn's own would repeat it in another format.
accesslog = None
errorlog = "-"
# The models load lazily in each worker, after the fork: nothing heavy is shared by preloading.
preload_app = False


def child_exit(server, worker) -> None:
    if env.get_optional(env.PROMETHEUS_MULTIPROC_DIR):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    from config.interpreter import gil_switch_shortened
    from config.memory import malloc_tuned

    gil_switch_shortened()  # the searches' threads get the GIL back sooner (config/interpreter.py)
    malloc_tuned()  # a large upload's pixels given back when freed (config/memory.py)


def post_request(worker, req, environ, resp) -> None:
    from config.memory import over_bound

    resident = over_bound(env.get_int(env.WEB_MAX_WORKER_MEMORY_MB))
    if resident is not None and worker.alive:
        worker.log.warning(
            "worker %s: %.0f MB resident, over SWATCH_WEB_MAX_WORKER_MEMORY_MB: replaced after "
            "its current requests", worker.pid, resident,
        )  # fmt: skip
        worker.handle_exit(None, None)  # as on SIGTERM: in-flight requests finish first
