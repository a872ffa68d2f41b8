"""The search REST API: parse, call one service or selector, render."""

from __future__ import annotations

import dataclasses
import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.media import results_signed
from access.selectors import granted_private_catalogs_for, hidden_catalogs_for
from search.api.limits import malformed_counted, search_counted
from search.api.parsers import BoundedJSONParser
from search.api.rendering import answer_rendered
from search.api.schema import (
    COMMON_ERRORS,
    POLL_DESCRIPTION,
    RATE_HEADERS,
    SEARCH_DESCRIPTION,
    error_responses,
)
from search.api.serializers import (
    AnswerPageSerializer,
    MaterialListQuerySerializer,
    MaterialSerializer,
    SearchAnswerSerializer,
    SearchRequestSerializer,
    SimilarRequestSerializer,
)
from search.api.throttling import LookupRateThrottle
from search.errors import SearchError
from search.feedback.services import search_run_recorded
from search.query import filters_hiding, search_query_build
from search.selectors import material_get, material_list, material_visible_require
from search.services.run import search_answer_get

QUERY_ID = re.compile(r"[0-9a-f]{32}")  # search.state.new_query_id


def _answered(answer, request: Request) -> Response:
    """An answer, its private catalogs' pictures (the asker's own: others are not in it)
    at signed URLs."""
    data = answer_rendered(answer)  # SearchAnswerSerializer's shape (search/api/rendering.py)
    granted = set(granted_private_catalogs_for(request._request).values())
    data["results"] = results_signed(data["results"], granted)
    return Response(data)


def _serializer_context(request: Request) -> dict:
    return {"private_catalogs": set(granted_private_catalogs_for(request._request))}


class SearchView(APIView):
    parser_classes = [BoundedJSONParser, MultiPartParser, FormParser]
    required_scope = "search"  # access.permissions; limits: search/api/limits.py

    @extend_schema(
        request={
            "application/json": SearchRequestSerializer,
            "multipart/form-data": SearchRequestSerializer,
        },
        responses={200: SearchAnswerSerializer, **error_responses(400, 413, *COMMON_ERRORS)},
        parameters=RATE_HEADERS,
        summary="Search by image, text or material id, with filters and weights",
        description=SEARCH_DESCRIPTION,
    )
    def post(self, request: Request) -> Response:
        with malformed_counted(request):
            serializer = SearchRequestSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            values = serializer.validated_data
            query = search_query_build(**values)  # checked before anything is looked up
            hidden = hidden_catalogs_for(request._request)
            if values.get("material_id"):
                material_visible_require(material_id=values["material_id"], hidden_catalogs=hidden)
            query = dataclasses.replace(query, filters=filters_hiding(query.filters, hidden))
        search_counted(request)
        user_id = request.user.pk if request.user.is_authenticated else None
        answer = search_run_recorded(query=query, surface="api", user_id=user_id)
        return _answered(answer, request)


class SearchResultView(APIView):
    throttle_classes = [LookupRateThrottle]
    required_scope = "search"

    @extend_schema(
        parameters=[AnswerPageSerializer, *RATE_HEADERS],
        responses={200: SearchAnswerSerializer, **error_responses(400, 404, *COMMON_ERRORS)},
        summary="The (refined) answer of a query, or another page of it",
        description=POLL_DESCRIPTION,
    )
    def get(self, request: Request, query_id: str) -> Response:
        if not QUERY_ID.fullmatch(query_id):
            raise SearchError(
                "query_not_found",
                "No such query; run the search again.",
                field="query_id",
                status=404,
            )
        params = AnswerPageSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        answer = search_answer_get(
            query_id=query_id,
            hidden_catalogs=hidden_catalogs_for(request._request),
            **params.validated_data,
        )
        return _answered(answer, request)


class MaterialListView(generics.ListAPIView):
    serializer_class = MaterialSerializer
    required_scope = "catalog:read"

    @extend_schema(
        parameters=[MaterialListQuerySerializer, *RATE_HEADERS],
        responses={200: MaterialSerializer(many=True), **error_responses(400, 404, *COMMON_ERRORS)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), **_serializer_context(self.request)}

    def get_queryset(self):
        params = MaterialListQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        unknown = set(self.request.query_params) - set(params.fields)
        if unknown:
            name = sorted(unknown)[0]
            raise SearchError("unknown_parameter", f"Unknown parameter {name!r}.", field=name)
        data = params.validated_data
        return material_list(
            catalog=data.get("catalog"),
            category=data.get("category"),
            material_type=data.get("material_type"),
            text=data.get("q"),
            hidden_catalogs=hidden_catalogs_for(self.request._request),
        )


class MaterialDetailView(APIView):
    required_scope = "catalog:read"

    @extend_schema(
        parameters=RATE_HEADERS,
        responses={200: MaterialSerializer, **error_responses(400, 404, *COMMON_ERRORS)},
    )
    def get(self, request: Request, material_id: int) -> Response:
        hidden = hidden_catalogs_for(request._request)
        material = material_get(material_id=material_id, hidden_catalogs=hidden)
        return Response(MaterialSerializer(material, context=_serializer_context(request)).data)


class MaterialSimilarView(APIView):
    required_scope = "search"

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, required=False),
            OpenApiParameter("page", int, required=False),
            *RATE_HEADERS,
        ],
        responses={200: SearchAnswerSerializer, **error_responses(400, 404, *COMMON_ERRORS)},
        summary="More like this material",
    )
    def get(self, request: Request, material_id: int) -> Response:
        with malformed_counted(request):
            params = SimilarRequestSerializer(data=request.query_params)
            params.is_valid(raise_exception=True)
            hidden = hidden_catalogs_for(request._request)
            material_visible_require(material_id=material_id, hidden_catalogs=hidden)
            query = search_query_build(
                material_id=material_id,
                limit=params.validated_data["limit"],
                page=params.validated_data["page"],
                hidden_catalogs=hidden,
            )
        search_counted(request)
        user_id = request.user.pk if request.user.is_authenticated else None
        answer = search_run_recorded(query=query, surface="api", user_id=user_id)
        return _answered(answer, request)
