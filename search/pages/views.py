"""The pages: parse the request, call one service or selector, render. Every refusal is shown
in the page's own style with a 4xx status, never a raw error.

A search's address says what it is (GET): `?text=…&material_type=…`, `?like=ID`, filters
alone (browsing), and `q=ID` for a page of an earlier answer — the only way to name an image
search, whose image is never stored. A form posted without an image is redirected to its
address; a posted image search is shown at once, and the page's script puts its address
(`?q=ID&img=1&…`) in the location bar.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from access.selectors import granted_private_catalogs_for, hidden_catalogs_for
from analysis.providers.protocols import ProviderError
from config.client_address import client_address
from config.uploads import MemoryOnlyUploadHandler
from materials.intake import ImageIntakeError
from search.errors import SearchError
from search.pages.forms import FILTER_FIELDS, SearchForm, upload_limits
from search.pages.selectors import (
    facet_values,
    facets_counted,
)
from search.pages.services import (
    RateLimited,
    page_answer_get,
    page_browse,
    page_search_run,
    preview_build,
    query_image_from_preview,
    query_image_from_upload,
    rate_check,
)
from search.pages.thumbnails import cards_of
from search.query import filters_parse
from search.selectors import material_get

SELECT_FILTERS = ("catalog", "material_type", "finish", "min_confidence")


def _user_id(request: HttpRequest) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 1000 else 1


def _error(code: str, message: str, field: str | None = None) -> dict:
    return {"code": code, "message": message, "field": field}


def _data(request: HttpRequest):
    """The request's fields, less what an active-filter chip (`clear`) takes away."""
    data = (request.POST if request.method == "POST" else request.GET).copy()
    for name in data.getlist("clear"):
        for field in FILTER_FIELDS if name == "filters" else (name,):
            data.pop(field, None)
    data.pop("clear", None)
    return data


def _submitted(data) -> bool:
    return any(data.get(f) for f in ("text", "like", "q", *FILTER_FIELDS))


def _form(request: HttpRequest, data, bound: bool) -> tuple[SearchForm, dict]:
    hidden = hidden_catalogs_for(request)  # private catalogs: not named, not counted
    values = facet_values(hidden_catalogs=hidden)
    form = SearchForm(data if bound else None, request.FILES or None, facets=values)
    filters = None
    if bound and form.is_valid():
        try:
            filters = filters_parse(raw=form.filters())
        except SearchError:
            filters = None
    form.use_facets(facets_counted(values=values, filters=filters, hidden_catalogs=hidden))
    context = {
        "form": form,
        "filter_fields": [form[name] for name in SELECT_FILTERS],
        "limits": upload_limits(),
    }
    if bound and form.is_valid():
        context["active_filters"] = form.active_filters()
        context["clear_url"] = form.url(without="filters")
    return form, context


def _render(request, context: dict, status: int = 200, template="search/page.html"):
    return render(request, template, context, status=status)


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


def _invalid(form: SearchForm) -> dict:
    field, errors = next(iter(form.errors.as_data().items()))
    if field in ("image", "camera"):
        code = "empty_file" if errors[0].code == "empty" else "invalid_image"
        return _error(code, errors[0].messages[0], "image")
    return _error("invalid_field", errors[0].messages[0], field)


@csrf_exempt  # the upload handler must be set before CSRF reads the body: see the inner view
@require_http_methods(["GET", "POST"])
def search_page(request: HttpRequest) -> HttpResponse:
    handler = MemoryOnlyUploadHandler(request, raise_on_overflow=False)
    request.upload_handlers = [handler]
    return _search_page(request, handler)


@csrf_protect
def _search_page(request: HttpRequest, handler: MemoryOnlyUploadHandler) -> HttpResponse:
    data = _data(request)
    posted = request.method == "POST"
    form, context = _form(request, data, bound=posted or _submitted(data))
    if not form.is_bound:
        return _render(request, context)
    if not form.is_valid():
        context["error"] = _invalid(form)
        return _render(request, context, status=400)
    try:
        image = _query_image(form, handler) if posted else None
    except ImageIntakeError as exc:
        context["error"] = _error(exc.code, exc.message, "image")
        return _render(request, context, status=400)
    if posted and image is None:
        if (
            not (form.cleaned_data.get("text") or "").strip()
            and not form.cleaned_data.get("like")
            and not form.filters()
        ):
            context["error"] = _error(
                "empty_query", "Give an image or a text, or choose a filter.", "image"
            )
            return _render(request, context, status=400)
        return HttpResponseRedirect(form.url(), status=303)  # the search's own address
    if image is not None:
        context["preview"] = preview_build(image=image)
    return _answer(request, form, context, image)


def _kind(form: SearchForm, image) -> str:
    if image is not None or form.data.get("img"):
        return "image"
    if form.cleaned_data.get("like"):
        return "like"
    return "text" if (form.cleaned_data.get("text") or "").strip() else "browse"


def _answer(request, form: SearchForm, context: dict, image) -> HttpResponse:
    """The answer the valid form asks for: a page of an earlier one, a new search, or the
    materials the filters alone keep."""
    kind = context["kind"] = _kind(form, image)
    query_id = form.data.get("q", "") if image is None else ""
    page, hidden = _page_number(request), hidden_catalogs_for(request)
    try:
        if form.cleaned_data.get("like"):  # like a private catalog's material: 404
            context["like"] = material_get(
                material_id=form.cleaned_data["like"], hidden_catalogs=hidden
            )
        if query_id:
            try:
                context["paged"] = page_answer_get(
                    query_id=query_id, page=page, hidden_catalogs=hidden
                )
            except SearchError as exc:
                if kind == "image" or exc.code != "query_not_found":
                    raise
                query_id = ""  # a text or "more like this" search is simply run again
        if not query_id and kind == "browse":
            context["browse"] = page_browse(
                filters=form.filters(), sort=form.sort_value, page=page, hidden_catalogs=hidden
            )
        elif not query_id:
            context["paged"] = page_search_run(
                image=image,
                text=form.cleaned_data.get("text") or "",
                material_id=form.cleaned_data.get("like"),
                filters=form.filters(),
                crop=form.cleaned_data.get("crop"),
                analysis=form.analysis(),
                user_id=_user_id(request),
                address=client_address(request),
                hidden_catalogs=hidden,
            )
    except SearchError as exc:
        context["error"] = _error(exc.code, exc.message, exc.field)
        context["expired"] = exc.code == "query_not_found" and kind == "image"
        return _render(request, context, status=exc.status)
    except RateLimited as exc:
        return _rate_limited(request, form, context, exc)
    except ProviderError as exc:
        context["error"] = _error(
            "provider_unavailable",
            f"A model needed for this search is unavailable right now ({exc}). "
            "Try again in a minute, or search by text.",
        )
        return _render(request, context, status=503)
    return _render(request, _with_results(request, form, context))


def _with_results(request: HttpRequest, form: SearchForm, context: dict) -> dict:
    """Cards, page links and the address of what is shown."""
    shown = context.get("paged") or context.get("browse")
    context["cards"] = cards_of(
        shown.results, private_catalogs=set(granted_private_catalogs_for(request))
    )
    extra = {}
    if "paged" in context:
        extra = {"q": context["paged"].answer.query_id}
        if context["kind"] == "image":
            extra["img"] = "1"
    context["address"] = form.url(**extra, page=shown.page if shown.page > 1 else "")
    if shown.page > 1:
        context["prev_url"] = form.url(**extra, page=shown.page - 1 if shown.page > 2 else "")
    if shown.page < shown.pages:
        context["next_url"] = form.url(**extra, page=shown.page + 1)
    return context


def _rate_limited(request, form: SearchForm, context: dict, exc: RateLimited) -> HttpResponse:
    # The page keeps the query (text, filters, the inline image and its token): "try again".
    context["retry_after"] = exc.retry_after
    context["retry_url"] = form.url()
    context["retry_fields"] = [
        (name, value) for name in ("text", "like", *FILTER_FIELDS) if (value := form.data.get(name))
    ]
    if context.get("preview"):  # the image, inline, with the token that vouches for it
        context["retry_fields"] += [
            ("image_data", context["preview"].data_url),
            ("image_token", context["preview"].token),
        ]
        if form.data.get("crop"):
            context["retry_fields"].append(("crop", form.data["crop"]))
    response = _render(request, context, status=429, template="errors/rate_limited.html")
    response["Retry-After"] = str(exc.retry_after)
    return response


@require_GET
def search_results_partial(request: HttpRequest) -> HttpResponse:
    """The results section alone, for the page's script: progressive refinement and paging.
    It takes the page's own address parameters (text, filters), for its page links."""
    hidden = hidden_catalogs_for(request)
    form = SearchForm(request.GET, facets=facet_values(hidden_catalogs=hidden))
    form.is_valid()
    context: dict = {"form": form, "kind": "image" if request.GET.get("img") else "text"}
    try:
        rate_check(user_id=_user_id(request), address=client_address(request), scope="lookup")
        query_id = request.GET.get("q", "")
        page = _page_number(request)
        context["paged"] = page_answer_get(query_id=query_id, page=page, hidden_catalogs=hidden)
    except SearchError as exc:
        context["error"] = _error(exc.code, exc.message, exc.field)
        return render(request, "search/_results.html", context, status=exc.status)
    except RateLimited as exc:
        context["error"] = _error("rate_limited", exc.message)
        response = render(request, "search/_results.html", context, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return render(request, "search/_results.html", _with_results(request, form, context))
