"""The web server (gunicorn, `config/gunicorn.py`): where it listens and how many it serves."""

from __future__ import annotations

from config.env.registry import declare

WEB_HOST = declare(
    "SWATCH_HOST", "127.0.0.1", "Address the web server binds to (`0.0.0.0` in a container)."
)
WEB_PORT = declare("SWATCH_PORT", "8000", "Port the web server listens on.")
WEB_WORKERS = declare(
    "SWATCH_WEB_WORKERS",
    None,
    "gunicorn worker processes. Default: 2 × CPU cores + 1 (the cores this process may use). "
    "Each holds the offline models it uses and up to SWATCH_SEARCH_STRATEGY_WORKERS + 1 "
    "database connections per thread (docs/DEPLOYMENT.md).",
)
WEB_THREADS = declare(
    "SWATCH_WEB_THREADS",
    "4",
    "Threads per gunicorn worker (`gthread`): requests mostly wait for the database.",
)
WEB_TIMEOUT = declare(
    "SWATCH_WEB_TIMEOUT",
    "120",
    "Seconds a request may take before gunicorn restarts its worker (an image search with "
    "inline analysis is the slowest).",
)
WEB_MAX_REQUESTS = declare(
    "SWATCH_WEB_MAX_REQUESTS",
    "5000",
    "A worker is replaced after about this many requests (0: never), with jitter, so that "
    "memory a long-lived process fragments is given back.",
)
WEB_MAX_WORKER_MEMORY_MB = declare(
    "SWATCH_WEB_MAX_WORKER_MEMORY_MB",
    "0",
    "A worker whose resident memory is over this many MB after a request finishes its "
    "requests and is replaced (0: never). Above what its models take (`/metrics`, "
    "`process_resident_memory_bytes`) plus a few large uploads; a bound on whatever a worker "
    "keeps, beside the heap settings that give decoded images' memory back (config/memory.py).",
)
