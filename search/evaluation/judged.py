"""`evaluate_search --judgements`: replay the queries of a judgements file (written by
`export_feedback_labels`, or by hand in its format) against the current catalog and measure
how the searchers' judgements rank: MRR of the first relevant result, recall of the relevant
ones in the top 5 and 10, and the share of rejected ones that still make the top 5."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from search.errors import SearchError
from search.evaluation.metrics import mean
from search.feedback.labels import FORMAT
from search.query import MAX_LIMIT, search_query_build
from search.services.run import search_run


class JudgementsError(ValueError):
    """A judgements file that cannot be read, with the line at fault."""


def _line(number: int, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JudgementsError(f"line {number}: not JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise JudgementsError(f"line {number}: not a {FORMAT} line")
    query, judged = data.get("query"), data.get("judgements")
    if not isinstance(query, dict) or not isinstance(judged, list) or not judged:
        raise JudgementsError(f"line {number}: needs a query and judgements")
    if not (query.get("text") or query.get("material_id")):
        raise JudgementsError(f"line {number}: the query needs a text or a material_id")
    for item in judged:
        if not isinstance(item, dict) or item.get("relevance") not in (0, 1):
            raise JudgementsError(f"line {number}: each judgement needs relevance 0 or 1")
        if not isinstance(item.get("material_id"), int):
            raise JudgementsError(f"line {number}: each judgement needs a material_id")
    return data


def judgements_read(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise JudgementsError(f"{path}: cannot read ({exc.strerror})") from exc
    lines = [_line(n, t) for n, t in enumerate(text.splitlines(), 1) if t.strip()]
    if not lines:
        raise JudgementsError(f"{path}: no judgements")
    return lines


def _ranking(query: dict[str, Any]) -> list[int]:
    built = search_query_build(
        text=query.get("text") or "",
        material_id=query.get("material_id"),
        filters=query.get("filters") or None,
        limit=MAX_LIMIT,
    )
    return [r.material_id for r in search_run(query=built, refine="never").results]


def _recall(ranked: list[int], wanted: set[int], k: int) -> float | None:
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else None


def judged_evaluate(path: Path) -> dict[str, Any]:
    rows = judgements_read(path)
    mrr, recall5, recall10, rejected5, skipped = [], [], [], [], 0
    for row in rows:
        try:
            ranked = _ranking(row["query"])
        except SearchError:
            skipped += 1  # e.g. its material is gone from the catalog
            continue
        good = {j["material_id"] for j in row["judgements"] if j["relevance"] == 1}
        bad = {j["material_id"] for j in row["judgements"] if j["relevance"] == 0}
        if good:
            first = next((n for n, pk in enumerate(ranked, 1) if pk in good), None)
            mrr.append(1 / first if first else 0.0)
            recall5.append(_recall(ranked, good, 5))
            recall10.append(_recall(ranked, good, 10))
        if bad:
            rejected5.append(len(bad & set(ranked[:5])) / len(bad))
    return {
        "n_queries": len(rows) - skipped,
        "n_skipped": skipped,
        "n_judgements": sum(len(r["judgements"]) for r in rows),
        "mrr": round(mean(mrr), 4) if mrr else None,
        "relevant_recall_at_5": round(mean(recall5), 4) if recall5 else None,
        "relevant_recall_at_10": round(mean(recall10), 4) if recall10 else None,
        "rejected_in_top_5": round(mean(rejected5), 4) if rejected5 else None,
    }
