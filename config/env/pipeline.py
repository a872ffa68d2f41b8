"""The ingestion pipeline and its tasks."""

from __future__ import annotations

from config.env.registry import declare

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
BULK_LOAD_MIN_ROWS = declare(
    "SWATCH_BULK_LOAD_MIN_ROWS",
    "10000",
    "A load of at least this many vectors of one model (`reembed_catalog --sync`; the analyses "
    "of `import_catalog --sync` and `analyze_catalog --sync`) is written with COPY, the vector "
    "indexes dropped first and built again after it; a smaller one is upserted row by row "
    "into the indexes.",
)
HNSW_M = declare(
    "SWATCH_HNSW_M",
    "16",
    "`m` of the HNSW indexes Swatch builds (`build_embedding_index`, a bulk load's rebuild of an "
    "index that did not say): links per node. 24-32 for a million items or more (README, Search "
    "at scale): a larger, slower-to-build index that holds recall. The migrations' indexes use 16.",
)
HNSW_EF_CONSTRUCTION = declare(
    "SWATCH_HNSW_EF_CONSTRUCTION",
    "64",
    "`ef_construction` of the HNSW indexes Swatch builds (as `SWATCH_HNSW_M`): candidates kept "
    "while linking; 128+ with a larger `m`.",
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
    "How often the worker's schedule returns analyses whose task was lost to the queue "
    "(`reap_stuck_analyses`): `running` longer than SWATCH_Q_TIMEOUT, or `pending`, queued "
    "longer ago than SWATCH_Q_RETRY and no longer in the broker's queue.",
)
