"""The analysis app's tables as other apps' raw SQL reads them (the search's strategies, its
browse and selectors): the tables, and SQL conditions built from the models' own enums, so
no other app writes a status, source or kind value of this app into its SQL. A condition
takes the alias its caller gave the table."""

from __future__ import annotations

from analysis.models import (
    AnalysisSource,
    AnalysisStatus,
    Embedding,
    EmbeddingKind,
    VisualAnalysis,
)

ANALYSIS_TABLE = VisualAnalysis._meta.db_table
EMBEDDING_TABLE = Embedding._meta.db_table
EMBEDDING_KINDS = frozenset(EmbeddingKind.values)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def analysis_rejected(alias: str) -> str:
    """A curator rejected the analysis: its description is as good as none."""
    return f"{alias}.status = {_quoted(AnalysisStatus.REJECTED.value)}"


def analysis_not_rejected(alias: str) -> str:
    """The analysis's description may speak for its image (no curator rejected it)."""
    return f"{alias}.status <> {_quoted(AnalysisStatus.REJECTED.value)}"


def analysis_curated(alias: str) -> str:
    """A curator wrote or approved the analysis's description."""
    curated = _quoted(AnalysisSource.CURATED.value)
    approved = _quoted(AnalysisStatus.APPROVED.value)
    return f"{alias}.source = {curated} OR {alias}.status = {approved}"


def embedding_of_kind(alias: str, kind: str) -> str:
    """The embedding is of `kind` (an `EmbeddingKind`: image, description)."""
    return f"{alias}.kind = {_quoted(EmbeddingKind(kind).value)}"
