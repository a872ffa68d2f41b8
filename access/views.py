"""The stored images' one door (`/media/<name>`): a file of a private catalog only for those
who may see it (access/media.py), everyone else 404; the bytes sent by Django or, with
`SWATCH_MEDIA_SENDFILE`, by the web server in front (nginx's X-Accel-Redirect, X-Sendfile)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from django.views.static import serve

from access.authentication import secret_of
from access.media import file_catalogs, signature_valid
from access.selectors import (
    hidden_catalogs_for,
    key_allows_address,
    key_allows_origin,
    key_check,
    private_catalogs_for,
)
from config.client_address import client_address

PUBLIC_CACHE = "public, max-age=86400"  # names are content hashes: a name's bytes never change


def _key_use(request: HttpRequest) -> None:
    """An API key sent with the request (a script fetching an image) counts as its asker; a
    key that cannot be used here is no key (the file is then as anyone's: maybe 404)."""
    secret = secret_of(request)
    if secret is None:
        return
    check = key_check(secret=secret)
    key = check.key
    if check.problem is None and key_allows_address(key, client_address(request)):
        if key_allows_origin(key, request.headers.get("Origin")):
            request.swatch_api_key = key


def _visible(request: HttpRequest, name: str) -> tuple[bool, bool]:
    """(may the asker see the file, is it only a private catalog's)."""
    catalogs = file_catalogs(name)
    if not catalogs:
        return False, False
    _key_use(request)
    hidden = set(hidden_catalogs_for(request))
    if catalogs - hidden:
        return True, catalogs <= set(private_catalogs_for(request))
    signed = signature_valid(name, request.GET.get("expires"), request.GET.get("signature"))
    return signed, True


def _sent(request: HttpRequest, name: str) -> HttpResponse:
    mode = settings.SWATCH_MEDIA_SENDFILE
    if not mode:
        return serve(request, name, document_root=settings.MEDIA_ROOT)
    response = HttpResponse(content_type=mimetypes.guess_type(name)[0] or "image/jpeg")
    if mode == "x-accel-redirect":
        response["X-Accel-Redirect"] = settings.SWATCH_MEDIA_INTERNAL_URL + quote(name)
    else:  # x-sendfile
        response["X-Sendfile"] = str(Path(settings.MEDIA_ROOT) / name)
    return response


@require_safe
def media_file(request: HttpRequest, path: str) -> HttpResponse:
    visible, private = _visible(request, path)
    if not visible:
        raise Http404("No such file.")
    response = _sent(request, path)
    # A private file is never kept by a shared cache (a CDN, a proxy) for someone else.
    response["Cache-Control"] = "private, max-age=3600" if private else PUBLIC_CACHE
    if private:
        response["Vary"] = "Cookie, Authorization, X-Api-Key"
    return response
