"""What the pages need on top of the search service: query images from an upload or from the
page's own inline thumbnail, rate limits, and paging a stored answer.

The page asks the service for `PAGES_PER_ANSWER` pages of results once and pages through them
by query id (`search_answer_get`), so page 2 of an image search needs no image: the image is
never stored, only the query's vectors, by the service, in the shared cache.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from materials.intake import ImageIntakeError, sha256_hex
from search.browse import BrowsePage, materials_browse
from search.errors import SearchError
from search.feedback.services import search_run_recorded
from search.metrics import RATE_LIMITED
from search.query import MAX_LIMIT, QueryImage, filters_parse, search_query_build
from search.query_images import base64_bytes, query_image_decode
from search.ratelimit.limits import rate_consume, rate_ident
from search.results import SearchAnswer
from search.services.run import search_answer_get, search_run

PAGES_PER_ANSWER = 8
# The inline preview doubles as the image of the next search (a filter change without JS):
# big enough to embed as well as the upload did, small enough to sit in the page.
PREVIEW_SIDE = 384
PREVIEW_QUALITY = 90
_SIGNING_NAMESPACE = "swatch.pages.preview"
_DATA_URL = re.compile(r"^data:image/jpeg;base64,([A-Za-z0-9+/=]+)$")


class RateLimited(Exception):
    """Too many searches from one user or address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many searches; try again in {retry_after} seconds.")
        self.retry_after = retry_after
        self.message = str(self)


@dataclass(frozen=True)
class PagePreview:
    """The query image as the page shows and re-sends it: a data URL plus a signed token that
    ties it to the hash of the upload (so caches keyed by that hash stay trustworthy)."""

    data_url: str
    token: str


@dataclass(frozen=True)
class PageAnswer:
    answer: SearchAnswer
    page: int
    pages: int
    page_size: int

    @property
    def start(self) -> int:
        """1-based position of the first result on this page."""
        return (self.page - 1) * self.page_size + 1

    @property
    def results(self) -> list:
        first = (self.page - 1) * self.page_size
        return self.answer.results[first : first + self.page_size]


def _page_size() -> int:
    return settings.SWATCH_PAGES["PAGE_SIZE"]


def query_image_from_upload(*, upload: UploadedFile) -> QueryImage:
    """Decode an uploaded file in memory by the intake rules."""
    return query_image_decode(upload.read())


def preview_build(*, image: QueryImage) -> PagePreview:
    thumb = image.pixels.copy()
    thumb.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=PREVIEW_QUALITY)
    data = buffer.getvalue()
    token = signing.dumps({"thumb": sha256_hex(data), "sha": image.sha256}, salt=_SIGNING_NAMESPACE)
    return PagePreview(
        data_url="data:image/jpeg;base64," + base64.b64encode(data).decode(), token=token
    )


def query_image_from_preview(*, data_url: str, token: str) -> QueryImage:
    """The image of the previous search, from the page's inline preview. With a valid token it
    keeps the upload's hash (its cached vectors and analysis); otherwise it is a new image."""
    match = _DATA_URL.match(data_url.strip())
    if not match:
        raise ImageIntakeError(
            "not_an_image", "The previous image could not be read; choose it again."
        )
    try:
        raw = base64_bytes(match.group(1))
    except ValueError as exc:
        raise ImageIntakeError(
            "not_an_image", "The previous image could not be read; choose it again."
        ) from exc
    image = query_image_decode(raw)
    try:
        claim = signing.loads(token, salt=_SIGNING_NAMESPACE)
    except signing.BadSignature:
        claim = {}
    thumb = claim.get("thumb") if isinstance(claim, dict) else None
    if thumb == image.sha256 and isinstance(claim.get("sha"), str):
        return dataclasses.replace(image, sha256=claim["sha"])
    return image


def rate_check(*, user_id: int | None, address: str, scope: str = "search") -> None:
    """Count one search (or, scope `lookup`, one look-up of a stored search) against the same
    limits as the API; `RateLimited` when over."""
    wait = rate_consume(ident=rate_ident(user_id=user_id, address=address), scope=scope)
    if wait is not None:
        RATE_LIMITED.labels(scope=scope, surface="page").inc()
        raise RateLimited(retry_after=max(1, int(wait + 0.999)))


def _paged(answer: SearchAnswer, page: int) -> PageAnswer:
    size = _page_size()
    pages = max(1, -(-len(answer.results) // size))
    page = min(max(1, page), pages)
    return PageAnswer(answer=answer, page=page, pages=pages, page_size=size)


def page_search_run(
    *,
    image: QueryImage | None,
    text: str,
    material_id: int | None,
    filters: dict,
    user_id: int | None,
    address: str,
    crop: dict | None = None,
    analysis: dict | None = None,
    hidden_catalogs: tuple[int, ...] = (),
) -> PageAnswer:
    """A new search from the page: rate-limited, first page, refinement in the background.
    `crop` (fractions of the image) searches only that part of it."""
    query = search_query_build(
        image=image,
        text=text,
        material_id=material_id,
        crop=crop if image is not None else None,
        filters=filters,
        limit=min(MAX_LIMIT, _page_size() * PAGES_PER_ANSWER),
        page=1,
        analysis=analysis,
        hidden_catalogs=hidden_catalogs,
    )
    rate_check(user_id=user_id, address=address)
    return _paged(search_run_recorded(query=query, surface="page", user_id=user_id), 1)


def page_answer_get(
    *, query_id: str, page: int, hidden_catalogs: tuple[int, ...] = ()
) -> PageAnswer:
    """A page of an earlier search's current answer (refined once its analysis is done)."""
    if not re.fullmatch(r"[0-9a-f]{32}", query_id):
        raise SearchError("query_not_found", "No such search; run it again.", field="q", status=404)
    return _paged(search_answer_get(query_id=query_id, hidden_catalogs=hidden_catalogs), page)


def page_browse(
    *, filters: dict, sort: str, page: int, hidden_catalogs: tuple[int, ...] = ()
) -> BrowsePage:
    """The materials the filters alone keep (no search: nothing is rate-limited here)."""
    parsed = filters_parse(raw=filters)
    if hidden_catalogs:
        parsed = dataclasses.replace(parsed, hidden_catalog_ids=tuple(hidden_catalogs))
    return materials_browse(filters=parsed, sort=sort, page=page, page_size=_page_size())


def material_similar_list(
    *, material_id: int, limit: int | None = None, hidden_catalogs: tuple[int, ...] = ()
) -> SearchAnswer:
    """ "More like this" for the detail page: by the material's stored vectors, no analysis."""
    query = search_query_build(
        material_id=material_id,
        limit=limit or settings.SWATCH_PAGES["SIMILAR"],
        hidden_catalogs=hidden_catalogs,
    )
    return search_run(query=query, refine="never")
