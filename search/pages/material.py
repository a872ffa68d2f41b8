"""The material page: its description, images and similar materials; a click from a result
card is recorded as it opens (search/pages/feedback.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analysis.providers.protocols import ProviderError
from search.errors import SearchError
from search.pages.feedback import click_record
from search.pages.selectors import material_detail_get
from search.pages.services import material_similar_list
from search.pages.thumbnails import cards_of


def material_detail_context(material_id: int) -> dict:
    """The detail page's context (`SearchError` 404 when there is no such material)."""
    detail = material_detail_get(material_id=material_id)
    context: dict = {"detail": detail, "material": detail.material}
    try:
        similar = material_similar_list(material_id=material_id)
        context["similar"] = similar
        context["similar_cards"] = cards_of(similar.results)
    except (SearchError, ProviderError) as exc:
        context["similar_error"] = str(exc)
    return context


@require_GET
def material_detail(request: HttpRequest, material_id: int) -> HttpResponse:
    try:
        context = material_detail_context(material_id)
    except SearchError as exc:
        return render(request, "404.html", {"message": exc.message}, status=404)
    click_record(request, material_id)  # opened from a result card (?q=…&pos=…)
    context["flagged"] = request.GET.get("flagged") == "1"
    return render(request, "materials/detail.html", context)
