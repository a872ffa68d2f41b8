from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from config.health import healthz
from config.observability.views import metrics, readyz

# The one error path (config/errors): JSON envelope under /api/, the site's own pages elsewhere.
handler400 = "config.errors.handlers.bad_request"
handler403 = "config.errors.handlers.permission_denied"
handler404 = "config.errors.handlers.page_not_found"
handler500 = "config.errors.handlers.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("search.api.urls")),
    path("", include("search.urls")),
]


def serve_media(request, path):
    # MEDIA_ROOT is read per request, not frozen into the URLconf.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    # Single-machine deployments serve catalog images themselves; behind a CDN, turn it off.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve_media),
    ]
