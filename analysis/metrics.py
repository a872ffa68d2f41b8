"""Prometheus series of the analysis side: model calls (latency, outcome, tokens, cost), the
caches of embeddings and descriptions, finished analyses and worker time per task.

Counters and histograms only: they add up across processes in prometheus-client's
multiprocess mode. State shared by all processes (circuit breakers, the queue) is read when
`/metrics` is scraped instead (`config.observability.collectors`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MODEL_CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

MODEL_CALLS = Counter(
    "swatch_model_calls",
    "Model calls by provider, purpose (describe, embed_image, embed_text) and outcome (ok, "
    "error, timeout, rate_limited, circuit_open, invalid_output).",
    ["provider", "purpose", "outcome"],
)
MODEL_CALL_SECONDS = Histogram(
    "swatch_model_call_seconds",
    "Model-call latency by provider, purpose and outcome (calls skipped by an open circuit "
    "reached no model and are left out).",
    ["provider", "purpose", "outcome"],
    buckets=MODEL_CALL_BUCKETS,
)
MODEL_COST = Counter(
    "swatch_model_cost_usd",
    "Estimated model cost in USD (SWATCH_MODEL_PRICES), by provider and model.",
    ["provider", "model"],
)
MODEL_TOKENS = Counter(
    "swatch_model_tokens",
    "Model tokens by provider, model and kind (prompt, completion).",
    ["provider", "model", "kind"],
)
CACHE_LOOKUPS = Counter(
    "swatch_cache_lookups",
    "Lookups of Swatch's caches by cache (image_embedding, text_embedding, description, "
    "search_answer) and outcome (hit, miss).",
    ["cache", "outcome"],
)
ANALYSES = Counter(
    "swatch_analyses",
    "Analyses finished by the pipeline, by outcome (completed, needs_review, refreshed, "
    "retrying, failed, skipped).",
    ["outcome"],
)
TASK_SECONDS = Histogram(
    "swatch_task_seconds",
    "Wall time of background tasks in the worker, by task and outcome (ok, error).",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
)
TASK_CPU_SECONDS = Counter(
    "swatch_task_cpu_seconds",
    "CPU time of background tasks in the worker (all threads of the worker process), by task.",
    ["task"],
)


def cache_lookup(cache: str, hit: bool) -> None:
    CACHE_LOOKUPS.labels(cache=cache, outcome="hit" if hit else "miss").inc()
