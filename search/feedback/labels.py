"""Feedback as evaluation data: the judgements of real searches, in the JSON-lines form
`evaluate_search --judgements` (and any relevance calibration) reads.

One line per distinct query (its hash), with what replays it — the text, the "more like this"
material, the filters; never an image, which Swatch does not keep, so image searches are left
out and counted — and per judged material: its votes, clicks and conversions, and a relevance
(1: the searchers' evidence is positive, 0: negative). A "good match", a sample request or a
save count +1 each, a "not what I meant" −1; a click counts +1 only where there is no negative
vote. Materials whose evidence sums to zero are left out.

    {"format": "swatch-judgements/1", "query_hash": "…", "searches": 3,
     "query": {"text": "white marble", "material_id": null, "filters": {}},
     "catalog": "Stone", "judgements": [
       {"material_id": 12, "name": "Carrara", "sku": "C-1", "relevance": 1,
        "good": 2, "bad": 0, "clicks": 1, "conversions": 1}]}
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from materials.models import Material
from search.feedback.models import CONVERSIONS, FeedbackEvent, FeedbackKind, SearchRecord

FORMAT = "swatch-judgements/1"


@dataclass
class _Evidence:
    good: int = 0
    bad: int = 0
    clicks: int = 0
    conversions: int = 0

    @property
    def score(self) -> int:
        clicks = self.clicks if not self.bad else 0
        return self.good + self.conversions + clicks - self.bad


@dataclass
class _Query:
    record: SearchRecord
    searches: set[int] = field(default_factory=set)
    evidence: dict[int, _Evidence] = field(default_factory=lambda: defaultdict(_Evidence))


@dataclass(frozen=True)
class ExportSummary:
    queries: int
    judgements: int
    skipped_image_searches: int


def _add(evidence: _Evidence, kind: str) -> None:
    if kind == FeedbackKind.GOOD:
        evidence.good += 1
    elif kind == FeedbackKind.BAD:
        evidence.bad += 1
    elif kind == FeedbackKind.CLICK:
        evidence.clicks += 1
    elif kind in CONVERSIONS:
        evidence.conversions += 1


def _grouped(since: dt.datetime | None, catalog: str | None) -> tuple[dict[str, _Query], int]:
    events = FeedbackEvent.objects.select_related("search").order_by("search__created_at", "pk")
    if since is not None:
        events = events.filter(search__created_at__gte=since)
    if catalog:
        events = events.filter(catalog__name=catalog)
    queries: dict[str, _Query] = {}
    skipped: set[int] = set()
    for event in events.iterator():
        record = event.search
        if "image" in record.kind:
            skipped.add(record.pk)
            continue
        query = queries.setdefault(record.query_hash, _Query(record=record))
        query.searches.add(record.pk)
        _add(query.evidence[event.material_id], event.kind)
    return queries, len(skipped)


def feedback_labels(
    *, since: dt.datetime | None = None, catalog: str | None = None
) -> tuple[list[dict], ExportSummary]:
    """The judgement lines, and what was exported and left out."""
    queries, skipped = _grouped(since, catalog)
    ids = {pk for q in queries.values() for pk in q.evidence}
    materials = Material.objects.in_bulk(ids)
    lines = []
    for query_hash, query in queries.items():
        judged = [
            {
                "material_id": pk,
                "name": materials[pk].name,
                "sku": materials[pk].sku,
                "relevance": 1 if ev.score > 0 else 0,
                "good": ev.good,
                "bad": ev.bad,
                "clicks": ev.clicks,
                "conversions": ev.conversions,
            }
            for pk, ev in sorted(query.evidence.items())
            if ev.score != 0 and pk in materials
        ]
        if not judged:
            continue
        record = query.record
        lines.append(
            {
                "format": FORMAT,
                "query_hash": query_hash,
                "searches": len(query.searches),
                "query": {
                    "text": record.text,
                    "material_id": record.material_id,
                    "filters": record.filters,
                },
                "catalog": record.catalog.name if record.catalog_id else None,
                "judgements": judged,
            }
        )
    total = sum(len(line["judgements"]) for line in lines)
    return lines, ExportSummary(len(lines), total, skipped)


def judgement_lines(lines: list[dict]) -> Iterator[str]:
    import json

    for line in lines:
        yield json.dumps(line, sort_keys=True, ensure_ascii=False)
