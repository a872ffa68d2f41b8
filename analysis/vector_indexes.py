"""The partial vector indexes, one per (model, kind, dimensions) and index method.

Kept as data so migrations, the search strategies and tests agree on the exact expression
and predicate: Postgres uses a partial expression index only for a query that repeats both.

Three methods, measured side by side by `bench_search --index-variants` (README, "Search at
scale"): `hnsw` (pgvector HNSW over `vector(d)`, the default), `hnsw_halfvec` (the same over
the half-precision cast `halfvec(d)`: half the index, so twice the rows fit in memory) and
`diskann` (pgvectorscale's StreamingDiskANN, only where the `vectorscale` extension exists).
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("hnsw", "hnsw_halfvec", "diskann")
# The methods that can serve the catalog's table (DiskANN cannot: search/benchmark/variants.py).
SERVING_METHODS = ("hnsw", "hnsw_halfvec")
# Index names start with these (kept short: Postgres cuts names at 63 characters).
NAME_PREFIXES = {"hnsw": "emb_hnsw", "hnsw_halfvec": "emb_half", "diskann": "emb_dann"}


@dataclass(frozen=True)
class VectorIndex:
    model: str
    kind: str
    dimensions: int
    method: str = "hnsw"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown vector index method {self.method!r}: one of {METHODS}")

    @property
    def name(self) -> str:
        safe = "".join(c if c.isalnum() else "_" for c in self.model.lower())
        return f"{NAME_PREFIXES[self.method]}_{safe}_{self.kind}"[:63]

    @property
    def column_type(self) -> str:
        """The type the stored vector is cast to, in the index and in every query it serves."""
        return "halfvec" if self.method == "hnsw_halfvec" else "vector"

    def cast(self, sql: str) -> str:
        """`sql` (a column or a parameter) cast as the index expects it."""
        return f"{sql}::{self.column_type}({self.dimensions})"

    @property
    def expression(self) -> str:
        return f"({self.cast('vector')})"

    @property
    def predicate(self) -> str:
        return f"model = '{self.model}' AND kind = '{self.kind}'"

    def create_sql(
        self, *, m: int | None = None, ef_construction: int | None = None,
        concurrently: bool = False,
    ) -> str:  # fmt: skip
        """The index's `CREATE INDEX`; HNSW's `m` and `ef_construction` default to
        `SWATCH_HNSW_M` and `SWATCH_HNSW_EF_CONSTRUCTION`."""
        m, ef_construction = hnsw_build_options(m, ef_construction)
        how = "CONCURRENTLY " if concurrently else ""
        if self.method == "diskann":
            using = f"diskann ({self.expression} vector_cosine_ops)"
        else:
            using = (
                f"hnsw ({self.expression} {self.column_type}_cosine_ops) "
                f"WITH (m = {m}, ef_construction = {ef_construction})"
            )
        return (
            f"CREATE INDEX {how}IF NOT EXISTS {self.name} ON analysis_embedding "
            f"USING {using} WHERE {self.predicate}"
        )

    def drop_sql(self, *, concurrently: bool = False) -> str:
        return f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {self.name}"


def hnsw_build_options(m: int | None = None, ef_construction: int | None = None) -> tuple:
    """`m` and `ef_construction` for an HNSW build: those given, else the settings'."""
    from django.conf import settings

    swatch = getattr(settings, "SWATCH", {})
    return (int(m or swatch.get("HNSW_M", 16)),
            int(ef_construction or swatch.get("HNSW_EF_CONSTRUCTION", 64)))  # fmt: skip


def configured_method() -> str:
    """The method of `SWATCH_VECTOR_INDEX_METHOD`: the index searches read and builds make."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    method = getattr(settings, "SWATCH_VECTOR_INDEX_METHOD", "hnsw") or "hnsw"
    if method not in SERVING_METHODS:
        raise ImproperlyConfigured(
            f"SWATCH_VECTOR_INDEX_METHOD must be one of {', '.join(SERVING_METHODS)}, "
            f"not {method!r}."
        )
    return method


# The models Swatch knows: the offline defaults and CLIP ViT-B/32.
KNOWN_INDEXES = (
    # 1704 = the head's 1280-d average pool joined with four mid-level stage pools
    # (analysis.offline.weights.IMAGE_DIMENSIONS; migration 0006 replaced the 1280-d index).
    VectorIndex("efficientnet-lite0", "image", 1704),
    VectorIndex("all-minilm-l6-v2", "description", 384),
    VectorIndex("clip-vit-b-32", "image", 512),
    VectorIndex("clip-vit-b-32", "description", 512),
)
