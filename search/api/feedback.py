"""Feedback through the API: votes, result clicks and conversions on a result of a query, and
flags on a material's description. Rate limited in the `feedback` scope."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.models import ApiKey
from access.selectors import hidden_catalogs_for
from config.client_address import client_address
from search.api.parsers import BoundedJSONParser
from search.api.schema import COMMON_ERRORS, error_responses
from search.api.throttling import LookupRateThrottle
from search.bounds import BIGINT_MAX
from search.feedback.models import FeedbackKind
from search.feedback.services import (
    MAX_POSITION,
    MAX_REASON,
    description_flag,
    feedback_record,
    voter_of,
)


class FeedbackRateThrottle(LookupRateThrottle):
    scope = "feedback"


class FeedbackRequestSerializer(serializers.Serializer):
    query_id = serializers.RegexField(r"^[0-9a-f]{32}$", help_text="The search's query_id.")
    material_id = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    kind = serializers.ChoiceField(choices=FeedbackKind.choices)
    position = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_POSITION, help_text="1-based rank shown."
    )
    visitor = serializers.RegexField(
        r"^[A-Za-z0-9._:@-]{1,64}$",
        required=False,
        help_text="With an API key: the catalog site's own opaque id of its visitor, so each "
        "of them has one vote per result (without it, the key votes once).",
    )


class FeedbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    query_id = serializers.CharField(source="search.query_id")
    material_id = serializers.IntegerField()
    kind = serializers.CharField()
    position = serializers.IntegerField(allow_null=True)
    replaced = serializers.BooleanField()


class FlagRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON, help_text="What looks wrong.")


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    material_id = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.CharField()


def _user_id(request: Request) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _key(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def _voter(request: Request, visitor: str | None) -> str:
    """A key (and its site's visitor), else the signed-in user, else the client address."""
    key = _key(request)
    if key is not None:
        return f"key:{key.prefix}" + (f":{visitor}" if visitor else "")
    return voter_of(user_id=_user_id(request), address=client_address(request))


def _key_catalogs(request: Request) -> set[int] | None:
    key = _key(request)
    if key is None:
        return None
    ids = set(key.catalogs.values_list("pk", flat=True))
    return ids or None  # a key for every catalog


class FeedbackView(APIView):
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]
    throttle_classes = [FeedbackRateThrottle]
    required_scope = "search"  # access.permissions: a catalog site's key has it

    @extend_schema(
        request=FeedbackRequestSerializer,
        responses={
            201: FeedbackSerializer,
            200: FeedbackSerializer,
            **error_responses(400, 404, *COMMON_ERRORS),
        },
        summary="Feedback on a result of a query: a vote, a click or a conversion",
        description=(
            "`good`/`bad`: one vote per user (or address; with an API key, per key and "
            "`visitor`) and result, a new one replacing the old (200). `click` with the position "
            "shown; `sample_requested`/`saved` from a catalog's site with its key (a key limited "
            "to catalogs posts only on their materials). Stored with the query id and a hash of "
            "the query, never its image."
        ),
    )
    def post(self, request: Request) -> Response:
        data = FeedbackRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        voter = _voter(request, fields.pop("visitor", None))
        event, created = feedback_record(
            **fields,
            voter=voter,
            catalog_ids=_key_catalogs(request),
            hidden_catalogs=hidden_catalogs_for(request._request),  # a private catalog's: 404
        )
        event.replaced = not created
        return Response(
            FeedbackSerializer(event).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MaterialFlagView(APIView):
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]
    throttle_classes = [FeedbackRateThrottle]
    required_scope = "search"

    @extend_schema(
        request=FlagRequestSerializer,
        responses={201: FlagSerializer, **error_responses(400, 404, *COMMON_ERRORS)},
        summary="Flag a material's description as wrong: it goes to the review queue",
    )
    def post(self, request: Request, material_id: int) -> Response:
        data = FlagRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = description_flag(
            material_id=material_id,
            reason=data.validated_data["reason"],
            actor=request.user,
            hidden_catalogs=hidden_catalogs_for(request._request),
        )
        body = {"id": flag.pk, "material_id": material_id, "reason": flag.reason, "status": "open"}
        return Response(FlagSerializer(body).data, status=status.HTTP_201_CREATED)
