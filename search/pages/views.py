"""The pages: parse the request, call one service or selector, render. Every refusal is shown
in the page's own style with a 4xx status, never a raw error."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from analysis.providers.protocols import ProviderError
from config.client_address import client_address
from config.uploads import MemoryOnlyUploadHandler
from materials.intake import ImageIntakeError
from search.errors import SearchError
from search.pages.forms import SearchForm
from search.pages.selectors import material_detail_get, search_facets
from search.pages.services import (
    PageAnswer,
    RateLimited,
    material_similar_list,
    page_answer_get,
    page_search_run,
    preview_build,
    query_image_from_preview,
    query_image_from_upload,
    rate_check,
)
from search.selectors import material_get

FILTER_FIELDS = ("catalog", "material_type", "color", "finish", "min_confidence")
SEARCH_FIELDS = ("text", "like", "catalog", "material_type", "color", "finish", "min_confidence")


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 1000 else 1


def _error(code: str, message: str, field: str | None = None) -> dict:
    return {"code": code, "message": message, "field": field}


def _render_search(request, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "search/page.html", context, status=status)


def _query_image(form: SearchForm, handler: MemoryOnlyUploadHandler):
    if handler.too_large & {"image", "camera"}:
        raise ImageIntakeError("file_too_large", "The file is larger than the upload limit.")
    upload = form.cleaned_data.get("camera") or form.cleaned_data.get("image")
    if upload:
        return query_image_from_upload(upload=upload)
    if form.cleaned_data.get("image_data"):
        return query_image_from_preview(
            data_url=form.cleaned_data["image_data"],
            token=form.cleaned_data.get("image_token") or "",
        )
    return None


@csrf_exempt  # the upload handler must be set before CSRF reads the body: see the inner view
@require_http_methods(["GET", "POST"])
def search_page(request: HttpRequest) -> HttpResponse:
    handler = MemoryOnlyUploadHandler(request, raise_on_overflow=False)
    request.upload_handlers = [handler]
    return _search_page(request, handler)


@csrf_protect
def _search_page(request: HttpRequest, handler: MemoryOnlyUploadHandler) -> HttpResponse:
    facets = search_facets()
    query_id = request.GET.get("q", "")
    submitted = request.method == "POST" or any(request.GET.get(f) for f in SEARCH_FIELDS)
    data = request.POST if request.method == "POST" else request.GET
    form = SearchForm(data if submitted or query_id else None, request.FILES, facets=facets)
    context: dict = {
        "form": form,
        "facets": facets,
        "filter_fields": [form[name] for name in FILTER_FIELDS],
    }
    if query_id and request.method == "GET":
        form.is_valid()  # only to show the filters the search was made with
        try:
            context["paged"] = page_answer_get(query_id=query_id, page=_page_number(request))
        except SearchError as exc:
            context["error"] = _error(exc.code, exc.message, exc.field)
            return _render_search(request, context, status=exc.status)
        return _render_search(request, context)
    if not submitted:
        return _render_search(request, context)
    if not form.is_valid():
        field, errors = next(iter(form.errors.as_data().items()))
        if field in ("image", "camera"):
            code = "empty_file" if errors[0].code == "empty" else "invalid_image"
            context["error"] = _error(code, errors[0].messages[0], "image")
        else:
            context["error"] = _error("invalid_field", errors[0].messages[0], field)
        return _render_search(request, context, status=400)
    try:
        image = _query_image(form, handler)
        if image is not None:
            context["preview"] = preview_build(image=image)
        context["paged"] = page_search_run(
            image=image,
            text=form.cleaned_data.get("text") or "",
            material_id=form.cleaned_data.get("like"),
            filters=form.filters(),
            user_id=request.user.pk if request.user.is_authenticated else None,
            address=client_address(request),
        )
    except ImageIntakeError as exc:
        context["error"] = _error(exc.code, exc.message, "image")
        return _render_search(request, context, status=400)
    except SearchError as exc:
        context["error"] = _error(exc.code, exc.message, exc.field)
        return _render_search(request, context, status=exc.status)
    except RateLimited as exc:
        context["retry_after"] = exc.retry_after
        response = render(request, "errors/rate_limited.html", context, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except ProviderError as exc:
        context["error"] = _error(
            "provider_unavailable",
            f"A model needed for this search is unavailable right now ({exc}). "
            "Try again in a minute, or search by text.",
        )
        return _render_search(request, context, status=503)
    if form.cleaned_data.get("like"):
        context["like"] = material_get(material_id=form.cleaned_data["like"])
    return _render_search(request, context)


@require_GET
def search_results_partial(request: HttpRequest) -> HttpResponse:
    """The results section alone, for the page's script: progressive refinement and paging."""
    try:
        rate_check(
            user_id=request.user.pk if request.user.is_authenticated else None,
            address=client_address(request),
            scope="lookup",
        )
        paged: PageAnswer = page_answer_get(
            query_id=request.GET.get("q", ""), page=_page_number(request)
        )
    except SearchError as exc:
        return render(
            request,
            "search/_results.html",
            {"error": _error(exc.code, exc.message, exc.field)},
            status=exc.status,
        )
    except RateLimited as exc:
        response = render(
            request,
            "search/_results.html",
            {"error": _error("rate_limited", exc.message)},
            status=429,
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    return render(request, "search/_results.html", {"paged": paged})


@require_GET
def material_detail(request: HttpRequest, material_id: int) -> HttpResponse:
    try:
        detail = material_detail_get(material_id=material_id)
    except SearchError as exc:
        return render(request, "404.html", {"message": exc.message}, status=404)
    context: dict = {"detail": detail, "material": detail.material}
    try:
        context["similar"] = material_similar_list(material_id=material_id)
    except (SearchError, ProviderError) as exc:
        context["similar_error"] = str(exc)
    return render(request, "materials/detail.html", context)
