"""The material page: its description, images and similar materials; a click from a result
card is recorded as it opens (search/pages/feedback.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access.media import media_url_for
from access.selectors import granted_private_catalogs_for, hidden_catalogs_for
from analysis.providers.protocols import ProviderError
from config.client_address import client_address
from search.errors import SearchError
from search.pages.feedback import click_record
from search.pages.selectors import material_detail_get
from search.pages.services import RateLimited, material_similar_list, rate_check
from search.pages.thumbnails import cards_of


def material_detail_context(
    request: HttpRequest, material_id: int, *, similar: bool = True
) -> tuple[dict, int | None]:
    """The detail page's context (`SearchError` 404 when there is no such material), and the
    seconds to wait when "Similar materials", a search, is over the search limit it shares
    with the search page."""
    hidden = hidden_catalogs_for(request)  # a private catalog's material: 404
    detail = material_detail_get(material_id=material_id, hidden_catalogs=hidden)
    granted = set(granted_private_catalogs_for(request))  # their pictures: signed URLs
    private = detail.material.catalog_id in granted
    context: dict = {
        "detail": detail,
        "material": detail.material,
        "pictures": [(i, media_url_for(i.image.name, private=private)) for i in detail.images],
    }
    if not similar:
        context["similar_error"] = "not shown on this answer"
        return context, None
    try:
        user_id = request.user.pk if request.user.is_authenticated else None
        rate_check(user_id=user_id, address=client_address(request))
        found = material_similar_list(material_id=material_id, hidden_catalogs=hidden)
        context["similar"] = found
        context["similar_cards"] = cards_of(found.results, private_catalogs=granted)
    except RateLimited as exc:
        context["similar_limited"] = exc.retry_after
        return context, exc.retry_after
    except (SearchError, ProviderError) as exc:
        context["similar_error"] = str(exc)
    return context, None


@require_GET
def material_detail(request: HttpRequest, material_id: int) -> HttpResponse:
    try:
        context, retry_after = material_detail_context(request, material_id)
    except SearchError as exc:
        return render(request, "404.html", {"message": exc.message}, status=404)
    click_record(request, material_id)  # opened from a result card (?q=…&pos=…)
    context["flagged"] = request.GET.get("flagged") == "1"
    if retry_after is None:
        return render(request, "materials/detail.html", context)
    response = render(request, "materials/detail.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response
