"""The server-rendered pages (the API lives under `search.api.urls`)."""

from django.urls import include, path

urlpatterns = [
    path("", include("search.pages.urls")),
]
