"""The partial HNSW indexes, one per (model, kind, dimensions).

Kept as data so migrations, the search strategies and tests agree on the exact expression
and predicate: Postgres uses a partial expression index only for a query that repeats both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VectorIndex:
    model: str
    kind: str
    dimensions: int

    @property
    def name(self) -> str:
        safe = "".join(c if c.isalnum() else "_" for c in self.model.lower())
        return f"emb_hnsw_{safe}_{self.kind}"[:63]

    @property
    def expression(self) -> str:
        return f"(vector::vector({self.dimensions}))"

    @property
    def predicate(self) -> str:
        return f"model = '{self.model}' AND kind = '{self.kind}'"

    def create_sql(self, *, m: int = 16, ef_construction: int = 64) -> str:
        return (
            f"CREATE INDEX IF NOT EXISTS {self.name} ON analysis_embedding "
            f"USING hnsw ({self.expression} vector_cosine_ops) "
            f"WITH (m = {m}, ef_construction = {ef_construction}) WHERE {self.predicate}"
        )

    def drop_sql(self) -> str:
        return f"DROP INDEX IF EXISTS {self.name}"


# The models Swatch knows: the offline defaults and CLIP ViT-B/32.
KNOWN_INDEXES = (
    # 1704 = the head's 1280-d average pool joined with four mid-level stage pools
    # (analysis.offline.weights.IMAGE_DIMENSIONS; migration 0006 replaced the 1280-d index).
    VectorIndex("efficientnet-lite0", "image", 1704),
    VectorIndex("all-minilm-l6-v2", "description", 384),
    VectorIndex("clip-vit-b-32", "image", 512),
    VectorIndex("clip-vit-b-32", "description", 512),
)
