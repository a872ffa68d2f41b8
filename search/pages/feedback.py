"""Feedback from the pages: the result cards' "Good match" / "Not what I meant" buttons (a
form each, enhanced by feedback.js), a card's click recorded when its material page opens
(`?q=<query id>&pos=<rank>`), and the material page's form to flag a wrong description.
Every post counts against the `feedback` rate limit."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from access.selectors import hidden_catalogs_for
from config.client_address import client_address
from search.errors import SearchError
from search.feedback.models import VOTES, FeedbackKind
from search.feedback.services import description_flag, feedback_record, voter_of
from search.pages.services import RateLimited, rate_check
from search.selectors import material_get

logger = logging.getLogger("swatch.search.feedback")


def _user_id(request: HttpRequest) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


def _voter(request: HttpRequest) -> str:
    """The signed-in user, else the browser's session (made here when it has none)."""
    if not request.user.is_authenticated and request.session.session_key is None:
        request.session.save()
    return voter_of(
        user_id=_user_id(request),
        session_key=request.session.session_key,
        address=client_address(request),
    )


def _rate(request: HttpRequest) -> None:
    rate_check(user_id=_user_id(request), address=client_address(request), scope="feedback")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request: HttpRequest, anchor: str = "") -> HttpResponse:
    target = request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    return redirect(target + anchor)


def _vote_fields(request: HttpRequest) -> dict:
    """A card's button sends `vote` = "<kind> <query id> <material id> <position>"."""
    parts = request.POST.get("vote", "").split()
    if len(parts) != 4 or parts[0] not in VOTES:
        raise SearchError("invalid_vote", "Vote good or bad on a result.", field="vote")
    kind, query_id, material, position = parts
    return {
        "kind": kind,
        "query_id": query_id,
        "material_id": _int(material) or 0,
        "position": _int(position),
    }


@require_POST
def feedback_vote(request: HttpRequest) -> HttpResponse:
    """A vote from a result card: JSON for feedback.js, else back to the results."""
    try:
        fields = _vote_fields(request)
        _rate(request)
        event, created = feedback_record(
            **fields, voter=_voter(request), hidden_catalogs=hidden_catalogs_for(request)
        )
    except SearchError as exc:
        body = {"error": {"code": exc.code, "message": exc.message, "field": exc.field}}
        return JsonResponse(body, status=exc.status)
    except RateLimited as exc:
        response = JsonResponse({"error": {"code": "rate_limited", "message": exc.message}})
        response.status_code, response["Retry-After"] = 429, str(exc.retry_after)
        return response
    if _wants_json(request):
        return JsonResponse({"kind": event.kind, "replaced": not created}, status=200)
    return _back(request, f"#card-{event.material_id}")


def click_record(request: HttpRequest, material_id: int) -> None:
    """A material page opened from a result card: the click, with the card's position."""
    query_id, position = request.GET.get("q", ""), _int(request.GET.get("pos"))
    if not query_id or position is None:
        return
    try:
        _rate(request)
        feedback_record(
            query_id=query_id,
            material_id=material_id,
            kind=FeedbackKind.CLICK,
            voter=_voter(request),
            position=position,
            hidden_catalogs=hidden_catalogs_for(request),
        )
    except (SearchError, RateLimited) as exc:  # the page shows anyway; the click is lost
        logger.info("click on material %s not recorded: %s", material_id, exc)


@require_POST
def material_flag(request: HttpRequest, material_id: int) -> HttpResponse:
    """The material page's "this description is wrong" form."""
    from search.pages.material import material_detail_context  # it imports this module

    reason = request.POST.get("reason", "")
    try:
        material_get(material_id=material_id, hidden_catalogs=hidden_catalogs_for(request))
        _rate(request)
        description_flag(material_id=material_id, reason=reason, actor=request.user)
    except SearchError as exc:
        if exc.status == 404:
            return render(request, "404.html", {"message": exc.message}, status=404)
        context, _ = material_detail_context(request, material_id, similar=False)
        context.update(flag_error=exc.message, flag_reason=reason[:300], flag_open=True)
        return render(request, "materials/detail.html", context, status=exc.status)
    except RateLimited as exc:
        context, _ = material_detail_context(request, material_id, similar=False)
        context.update(flag_error=exc.message, flag_reason=reason[:300], flag_open=True)
        response = render(request, "materials/detail.html", context, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return redirect(reverse("material-detail", args=[material_id]) + "?flagged=1#flag")
