"""Recording searches and what searchers say about their results.

A search is recorded after its answer, on the background connection (`search.background`):
the searcher never waits for it. Feedback names the query by its id; one vote (good / bad) per
voter and result, a new one replacing the old; clicks and conversions are events, each kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import partial

from django.db import IntegrityError, transaction

from analysis.curation.services import analysis_flag
from analysis.models import AnalysisFlag
from materials.models import Catalog, Material
from search.background import later_on_a_connection
from search.errors import SearchError
from search.feedback.models import VOTES, FeedbackEvent, FeedbackKind, SearchRecord
from search.metrics import FEEDBACK_EVENTS, query_kind
from search.providers import SearchProviders
from search.query import SearchQuery
from search.results import SearchAnswer
from search.selectors import material_analysis
from search.services.run import search_run

MAX_POSITION = 10_000
MAX_REASON = 300


def query_hash(query: SearchQuery) -> str:
    """A hash of what decides the answer: the image's hash (never its pixels), the texts, the
    material, the crop and the filters."""
    data = {
        "image": query.image.sha256 if query.image else "",
        "negative_image": query.negative_image.sha256 if query.negative_image else "",
        "text": query.text.strip(),
        "negative_text": query.negative_text.strip(),
        "material": query.material_id,
        "crop": dataclasses.asdict(query.crop) if query.crop else None,
        "filters": query.filters.raw,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _catalog_id(query: SearchQuery, answer: SearchAnswer) -> int | None:
    """The one catalog the search was limited to, else its first result's."""
    ids, names = query.filters.catalog_ids, query.filters.catalog_names
    if len(ids) == 1 and not names:
        return ids[0]
    wanted = names[0] if len(names) == 1 and not ids else None
    if wanted is None and answer.results:
        wanted = answer.results[0].catalog
    if wanted is None:
        return None
    return Catalog.objects.filter(name__iexact=wanted).values_list("pk", flat=True).first()


def search_record_create(
    *, query: SearchQuery, answer: SearchAnswer, surface: str, user_id: int | None
) -> SearchRecord:
    return SearchRecord.objects.create(
        query_id=answer.query_id,
        query_hash=query_hash(query),
        kind=query_kind(query),
        surface=surface,
        text=query.text.strip()[:1000],
        material_id=query.material_id,
        filters=query.filters.raw,
        catalog_id=_catalog_id(query, answer),
        result_ids=[r.material_id for r in answer.results],
        results=answer.total,
        no_good_match=answer.no_good_match and answer.total > 0,
        user_id=user_id,
    )


def search_run_recorded(
    *,
    query: SearchQuery,
    surface: str,
    user_id: int | None = None,
    providers: SearchProviders | None = None,
) -> SearchAnswer:
    """`search_run`, then the search recorded for feedback and the business figures."""
    answer = search_run(query=query, providers=providers)
    later_on_a_connection(
        partial(search_record_create, query=query, answer=answer, surface=surface, user_id=user_id)
    )
    return answer


def voter_of(*, user_id: int | None, session_key: str | None = None, address: str = "") -> str:
    if user_id is not None:
        return f"user:{user_id}"
    if session_key:
        return f"session:{session_key}"
    return f"ip:{address or 'unknown'}"


def _position(record: SearchRecord, material_id: int, position: int | None) -> int | None:
    if position is not None:
        if not 1 <= position <= MAX_POSITION:
            raise SearchError(
                "invalid_position", f"position must be 1 to {MAX_POSITION}.", field="position"
            )
        return position
    try:
        return record.result_ids.index(material_id) + 1
    except ValueError:
        return None


def _visible_material(material_id: int, hidden_catalogs: tuple[int, ...]) -> Material:
    material = (
        Material.objects.filter(pk=material_id).exclude(catalog_id__in=hidden_catalogs).first()
    )
    if material is None:
        raise SearchError(
            "material_not_found", "No such material.", field="material_id", status=404
        )
    return material


def feedback_record(
    *,
    query_id: str,
    material_id: int,
    kind: str,
    voter: str,
    position: int | None = None,
    catalog_ids: set[int] | None = None,
    hidden_catalogs: tuple[int, ...] = (),
) -> tuple[FeedbackEvent, bool]:
    """Store one piece of feedback on a result of a query; (event, created). A vote replaces
    the voter's earlier vote on the same result (created is then False). `catalog_ids`: the
    catalogs the caller may speak for (None: any); a material of `hidden_catalogs` (private
    ones the caller may not see) is as unknown as one that does not exist: 404."""
    if kind not in FeedbackKind.values:
        raise SearchError(
            "invalid_kind", f"kind must be one of {', '.join(FeedbackKind.values)}.", field="kind"
        )
    record = SearchRecord.objects.filter(query_id=query_id).first()
    if record is None:
        raise SearchError("query_not_found", "No such search.", field="query_id", status=404)
    material = _visible_material(material_id, hidden_catalogs)
    if catalog_ids is not None and material.catalog_id not in catalog_ids:
        raise SearchError(
            "catalog_not_allowed",
            "This key may not give feedback on that catalog's materials.",
            field="material_id",
            status=403,
        )
    values = {
        "query_hash": record.query_hash,
        "catalog_id": material.catalog_id,
        "kind": kind,
        "position": _position(record, material_id, position),
    }
    FEEDBACK_EVENTS.labels(kind=kind).inc()
    if kind not in VOTES:
        return FeedbackEvent.objects.create(
            search=record, material=material, voter=voter, **values
        ), True
    try:
        with transaction.atomic():
            return FeedbackEvent.objects.update_or_create(
                search=record, material=material, voter=voter, kind__in=VOTES, defaults=values
            )
    except IntegrityError:  # two votes at once: the other one won; this one replaces it
        return FeedbackEvent.objects.update_or_create(
            search=record, material=material, voter=voter, kind__in=VOTES, defaults=values
        )


def description_flag(
    *, material_id: int, reason: str, actor, hidden_catalogs: tuple[int, ...] = ()
) -> AnalysisFlag:
    """A designer says the material's description is wrong: its analysis enters the review
    queue with the reason, until a curator's decision resolves the flag."""
    material = _visible_material(material_id, hidden_catalogs)
    analysis = material_analysis(material)
    if analysis is None:
        raise SearchError(
            "no_description", "This material has no description to flag yet.", field="material_id"
        )
    reason = (reason or "").strip()
    if not reason:
        raise SearchError("reason_required", "Say what looks wrong.", field="reason")
    if len(reason) > MAX_REASON:
        raise SearchError(
            "reason_too_long", f"Say it in {MAX_REASON} characters or fewer.", field="reason"
        )
    flag = analysis_flag(analysis=analysis, actor=actor, reason=reason)
    FEEDBACK_EVENTS.labels(kind="flag").inc()
    return flag
