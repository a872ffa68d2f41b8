from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from access.views import media_file
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


if settings.SERVE_MEDIA:
    # Stored images through the one view that checks private catalogs (access/views.py); the
    # web server may send the bytes after it (SWATCH_MEDIA_SENDFILE). Off with object storage.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", media_file, name="media"),
    ]
