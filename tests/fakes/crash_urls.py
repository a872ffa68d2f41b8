"""The project's URLs plus views that fail on purpose, to prove the error path (a test sets
ROOT_URLCONF to this module; Django reads the error handlers from it, so they are the
project's)."""

from django.db import OperationalError
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as project_urls


class Boom(RuntimeError):
    pass


class CrashingApiView(APIView):
    def get(self, request):
        raise Boom("a bug in an API view")


class DatabaseDownApiView(APIView):
    def get(self, request):
        raise OperationalError("connection to server on socket failed: No such file or directory")


class FineApiView(APIView):
    def get(self, request):
        return Response({"ok": True})


def crashing_page(request):
    raise Boom("a bug in a page")


def database_down_page(request):
    raise OperationalError("connection to server on socket failed: No such file or directory")


urlpatterns = [
    path("api/v1/test-crash/", CrashingApiView.as_view()),
    path("api/v1/test-database-down/", DatabaseDownApiView.as_view()),
    path("api/v1/test-fine/", FineApiView.as_view()),
    path("test-crash/", crashing_page),
    path("test-database-down/", database_down_page),
    *project_urls.urlpatterns,
]

# Django reads the error handlers from ROOT_URLCONF: the project's own.
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
