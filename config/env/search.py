"""Search: strategies, fusion, caching, rate limits, speed."""

from __future__ import annotations

from config.env.registry import declare

# --- search ---------------------------------------------------------------------------
SEARCH_SIMILARITY_THRESHOLD = declare(
    "SWATCH_SEARCH_SIMILARITY_THRESHOLD",
    "0.75",
    "For an image model without a fitted relevance calibration only (a CLIP you configure): "
    "the cosine at which the conservative fallback puts a result's relevance at 0.5 "
    "(docs/ARCHITECTURE.md, Relevance).",
)
SEARCH_GOOD_MATCH = declare(
    "SWATCH_SEARCH_GOOD_MATCH",
    "0.5",
    "A result is a good match when its relevance (the calibrated probability that it is the "
    "query's material) is at least this. An answer without one says so and still lists the "
    "nearest materials, marked as not good matches. 0.5 is chosen on the development set "
    "(README, Search quality: precision of the good matches).",
)
SEARCH_CALIBRATION = declare(
    "SWATCH_SEARCH_CALIBRATION",
    "",
    "Path of the relevance calibration file (`manage.py fit_relevance` writes one); empty: "
    "the one shipped for the offline models, search/relevance/offline_calibration.json.",
)
SEARCH_CANDIDATES = declare(
    "SWATCH_SEARCH_CANDIDATES", "50", "Candidates each strategy returns before fusion."
)
SEARCH_EF_SEARCH = declare(
    "SWATCH_SEARCH_EF_SEARCH",
    "100",
    "`hnsw.ef_search` for vector queries (40 gives recall@20 ~0.92, 100 ~0.975).",
)
VECTOR_INDEX_METHOD = declare(
    "SWATCH_VECTOR_INDEX_METHOD",
    "hnsw",
    "The vector index searches use: `hnsw` (pgvector HNSW on `vector`) or `hnsw_halfvec` (HNSW "
    "on the half-precision cast: half the memory, see README, Search at scale). After a change, "
    "build each model's index of that method: `manage.py build_embedding_index NAME`.",
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
    "calibrated",
    "How results are ordered: `calibrated` (by the calibrated relevance, a logistic "
    "combination of the strategies' evidence), `relative` (min-max normalised scores, "
    "weighted) or `rrf` (weighted reciprocal rank). Whatever the order, `score` is the "
    "calibrated relevance (README, Search quality).",
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
SEARCH_VERIFY_EXTEND = declare(
    "SWATCH_SEARCH_VERIFY_EXTEND",
    "30",
    "Image queries none of whose first `SWATCH_SEARCH_VERIFY_TOP` candidates is clearly the "
    "same sample: the closest candidates up to this rank are checked too, and only a same sample "
    "found among them is kept (the others' chance inliers are not). At most VERIFY_TOP: off.",
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

# --- search speed ---------------------------------------------------------------------
SEARCH_PREPARED_STATEMENTS = declare(
    "SWATCH_SEARCH_PREPARED_STATEMENTS",
    "true",
    "Prepare the search's hot-path queries once per database connection (planning them cost "
    "more than running them). Turn off behind a proxy that pools connections per transaction "
    "(PgBouncer in transaction mode), where sessions are not the connection's own.",
)
