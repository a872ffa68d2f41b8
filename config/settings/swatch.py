"""Swatch's own settings: the SWATCH* dicts its apps read."""

from __future__ import annotations

from config import env
from config.settings.base import MAX_UPLOAD_BYTES

# --- Swatch -------------------------------------------------------------------------------
SWATCH = {
    "MAX_IMAGE_PIXELS": env.get_int(env.MAX_IMAGE_PIXELS),
    "DECODE_MEMORY_BYTES": env.get_int(env.DECODE_MEMORY_MB) * 2**20,
    "MAX_UPLOAD_BYTES": MAX_UPLOAD_BYTES,
    "MIN_IMAGE_SIDE": env.get_int(env.MIN_IMAGE_SIDE),
    "STORED_IMAGE_MAX_SIDE": env.get_int(env.STORED_IMAGE_MAX_SIDE),
    "ALLOWED_IMAGE_FORMATS": tuple(f.upper() for f in env.get_list(env.ALLOWED_IMAGE_FORMATS)),
    "DEMO_CATALOG": env.get_str(env.DEMO_CATALOG),
    # Images at URLs: read by `analysis.http.download` (materials calls it by this name).
    "URL_FETCHER": "analysis.http.download.catalog_fetch",
    "URL_IMPORT": {
        "ALLOWED_HOSTS": tuple(h.lower() for h in env.get_list(env.URL_IMPORT_ALLOWED_HOSTS)),
        "CONCURRENCY": max(1, env.get_int(env.URL_IMPORT_CONCURRENCY)),
        "CONNECT_TIMEOUT": env.get_float(env.URL_IMPORT_CONNECT_TIMEOUT),
        "READ_TIMEOUT": env.get_float(env.URL_IMPORT_READ_TIMEOUT),
        "MAX_ATTEMPTS": max(1, env.get_int(env.URL_IMPORT_MAX_ATTEMPTS)),
        "MAX_BYTES": MAX_UPLOAD_BYTES,
    },
}


# --- search -------------------------------------------------------------------------------
# The vector index method searches use and builds make (analysis.vector_indexes).
SWATCH_VECTOR_INDEX_METHOD = env.get_str(env.VECTOR_INDEX_METHOD).strip()
# Parsed and checked by `search.conf` (weights "name=value", rates "N/Ss").
SWATCH_SEARCH = {
    "SIMILARITY_THRESHOLD": env.get_float(env.SEARCH_SIMILARITY_THRESHOLD),
    "GOOD_MATCH": env.get_float(env.SEARCH_GOOD_MATCH),
    "CALIBRATION": env.get_str(env.SEARCH_CALIBRATION),
    "CANDIDATES": env.get_int(env.SEARCH_CANDIDATES),
    "EF_SEARCH": env.get_int(env.SEARCH_EF_SEARCH),
    "SEMANTIC_EF_SEARCH": env.get_int(env.SEARCH_SEMANTIC_EF_SEARCH),
    "MAX_SCAN_TUPLES": env.get_int(env.SEARCH_MAX_SCAN_TUPLES),
    "EXACT_SCAN_MAX_ROWS": env.get_int(env.SEARCH_EXACT_SCAN_MAX_ROWS),
    "FUSION": env.get_str(env.SEARCH_FUSION),
    "WEIGHTS": env.get_str(env.SEARCH_WEIGHTS),
    "RRF_K": env.get_int(env.SEARCH_RRF_K),
    "VERIFY_TOP": env.get_int(env.SEARCH_VERIFY_TOP),
    "VERIFY_EXTEND": env.get_int(env.SEARCH_VERIFY_EXTEND),
    "VERIFY_WEIGHT": env.get_float(env.SEARCH_VERIFY_WEIGHT),
    "NEGATIVE_WEIGHT": env.get_float(env.SEARCH_NEGATIVE_WEIGHT),
    "RESULT_CACHE_SECONDS": env.get_int(env.SEARCH_RESULT_CACHE_SECONDS),
    "QUERY_TTL_SECONDS": env.get_int(env.SEARCH_QUERY_TTL_SECONDS),
    "REFINE_WORKERS": env.get_int(env.SEARCH_REFINE_WORKERS),
    "STRATEGY_WORKERS": env.get_int(env.SEARCH_STRATEGY_WORKERS),
    "RATES": {
        "burst": env.get_str(env.SEARCH_RATE_BURST),
        "minute": env.get_str(env.SEARCH_RATE_MINUTE),
        "hour": env.get_str(env.SEARCH_RATE_HOUR),
    },
    # Reading a stored search (polling, paging): search/ratelimit/limits.py.
    "LOOKUP_RATES": {"lookup": env.get_str(env.SEARCH_RATE_LOOKUP)},
    # Votes, clicks, conversions and flags (search/feedback/).
    "FEEDBACK_RATES": {"feedback": env.get_str(env.FEEDBACK_RATE)},
    # Malformed search requests, limited apart (they never use up the search quota).
    "MALFORMED_RATES": {"malformed": env.get_str(env.SEARCH_RATE_MALFORMED)},
}


# --- ingestion pipeline -------------------------------------------------------------------
SWATCH.update(
    {
        "REVIEW_CONFIDENCE": env.get_float(env.REVIEW_CONFIDENCE),
        "EMBEDDING_CACHE_TTL": env.get_int(env.EMBEDDING_CACHE_TTL),
        "ANALYSIS_CACHE_TTL": env.get_int(env.ANALYSIS_CACHE_TTL),
        "INGEST_BATCH_SIZE": max(1, env.get_int(env.INGEST_BATCH_SIZE)),
        "BULK_LOAD_MIN_ROWS": max(1, env.get_int(env.BULK_LOAD_MIN_ROWS)),
        "HNSW_M": min(100, max(2, env.get_int(env.HNSW_M))),  # pgvector's bounds
        "HNSW_EF_CONSTRUCTION": min(1000, max(4, env.get_int(env.HNSW_EF_CONSTRUCTION))),
        "PIPELINE_PROVIDERS": env.get_str(env.PIPELINE_PROVIDERS),
        "REAP_EVERY_MINUTES": max(1, env.get_int(env.REAP_EVERY_MINUTES)),
        # Called by `import_catalog` with the ids of new images (materials must not import
        # analysis: the dependency points the other way).
        "AFTER_IMPORT": "analysis.import_runs.analysis_after_import",
        # Whether a catalog is private (its new files then go under `private/`).
        "CATALOG_IS_PRIVATE": "access.selectors.catalog_is_private",
    }
)


# --- search pages -------------------------------------------------------------------------
SWATCH_PAGES = {
    "PAGE_SIZE": max(1, env.get_int(env.PAGES_PAGE_SIZE)),
    "SIMILAR": max(1, env.get_int(env.PAGES_SIMILAR)),
}


# --- offline models -----------------------------------------------------------------------
# Read by `analysis.offline.weights` (the offline embedders and analyser).
SWATCH_OFFLINE = {
    "THREADS": max(0, env.get_int(env.OFFLINE_THREADS)),
    "BATCH": max(1, env.get_int(env.OFFLINE_BATCH)),
    "WEIGHTS_DIR": env.get_optional(env.OFFLINE_WEIGHTS_DIR),
}


# --- search speed -------------------------------------------------------------------------
# Read by `search.prepared`.
SWATCH_SEARCH["PREPARED_STATEMENTS"] = env.get_bool(env.SEARCH_PREPARED_STATEMENTS)
