"""Request parsing and response shapes of the search API. Serializers only parse and shape;
the search service decides."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.media import media_url_for
from materials.intake import ImageIntakeError
from materials.models import Material
from search.api.schema import FILTERS_SCHEMA, WEIGHTS_SCHEMA, json_or_text
from search.bounds import BIGINT_MAX
from search.query import MAX_LIMIT, MAX_PAGE, QueryImage
from search.query_images import base64_bytes, query_image_decode
from search.selectors import material_analysis, material_thumbnail_name


@extend_schema_field(OpenApiTypes.BINARY)
class QueryImageField(serializers.Field):
    """An image as a multipart file or as base64 (optionally a `data:` URL) in JSON; decoded
    in memory by the intake rules and never stored."""

    def to_internal_value(self, data: Any) -> QueryImage:
        if isinstance(data, UploadedFile):
            if data.size and data.size > settings.SWATCH["MAX_UPLOAD_BYTES"]:
                raise serializers.ValidationError(
                    "The file is larger than the upload limit.", code="file_too_large"
                )
            raw = data.read()
        elif isinstance(data, str):
            try:
                raw = base64_bytes(data)
            except ValueError as exc:
                raise serializers.ValidationError(
                    "Not valid base64: send the image as a file or as base64 text.",
                    code="invalid_base64",
                ) from exc
        else:
            raise serializers.ValidationError(
                "Send the image as a file or as base64 text.", code="invalid_image"
            )
        try:
            return query_image_decode(raw)
        except ImageIntakeError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc

    def to_representation(self, value: Any) -> None:
        return None


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(serializers.Field):
    """A JSON object, or (multipart forms) a string holding one."""

    def to_internal_value(self, data: Any) -> dict:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except json.JSONDecodeError as exc:
                raise serializers.ValidationError(
                    f"Not valid JSON: {exc.msg}.", code="invalid_json"
                ) from exc
            except RecursionError as exc:
                raise serializers.ValidationError(
                    "Not valid JSON: nested too deeply.", code="invalid_json"
                ) from exc
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be a JSON object.", code="invalid_object")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(json_or_text(FILTERS_SCHEMA))
class FiltersField(JSONObjectField):
    pass


@extend_schema_field(json_or_text(WEIGHTS_SCHEMA))
class WeightsField(JSONObjectField):
    pass


class StrictSerializer(serializers.Serializer):
    """A request whose fields this API does not know is refused, naming the first one (a
    misspelt `filter` would otherwise be ignored silently)."""

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            name, known = unknown[0], ", ".join(self.fields)
            message = f"Unknown field {name!r}; the fields are {known}."
            error = serializers.ErrorDetail(message, code="unknown_field")
            raise serializers.ValidationError({name: [error]})
        return attrs


class SearchRequestSerializer(StrictSerializer):
    image = QueryImageField(required=False, allow_null=True)
    text = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    material_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX
    )
    negative_image = QueryImageField(required=False, allow_null=True)
    negative_text = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, default=""
    )
    crop = JSONObjectField(
        required=False,
        default=dict,
        help_text="The part of `image` to search, as fractions of the upright image: "
        '{"x": 0, "y": 0.6, "width": 1, "height": 0.4} is its bottom 40 %.',
    )
    filters = FiltersField(required=False, default=dict)
    weights = WeightsField(required=False, default=dict)
    fusion = serializers.ChoiceField(choices=["calibrated", "rrf", "relative"], required=False)
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=MAX_LIMIT)
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_PAGE)
    analysis = JSONObjectField(
        required=False,
        default=dict,
        help_text='How much analysis to pay for: {"vision": true, "clip": true, "depth": '
        '"basic" | "detailed" | "comprehensive"}. vision false: no refinement by the vision '
        "model; clip false: the offline embedder; depth: what the vision model is asked.",
    )


class SimilarRequestSerializer(StrictSerializer):
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=MAX_LIMIT)
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_PAGE)


class AnswerPageSerializer(StrictSerializer):
    """Paging a stored answer; without them, the page and limit of the search itself."""

    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)


class StrategyScoreSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="The strategy's own raw score.")
    rank = serializers.IntegerField()
    relevance = serializers.FloatField(
        allow_null=True, help_text="That score as a calibrated probability of relevance."
    )
    weight = serializers.FloatField()
    inliers = serializers.IntegerField(required=False, help_text="Spatial verification.")
    lead = serializers.FloatField(
        required=False,
        help_text="The image strategy's first result only: its similarity minus the second's.",
    )


class ExplanationSerializer(serializers.Serializer):
    strategies = serializers.DictField(child=StrategyScoreSerializer(allow_null=True))
    matched = serializers.DictField(child=serializers.BooleanField(allow_null=True))
    verdicts = serializers.DictField(
        child=serializers.ChoiceField(choices=["matches", "close", "differs"]),
        help_text="Each attribute compared: matches, close or differs (colour by CIEDE2000).",
    )
    summary = serializers.CharField()


class SearchResultSerializer(serializers.Serializer):
    material_id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()
    catalog = serializers.CharField()
    score = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        help_text="Relevance: the calibrated probability that this is the query's material.",
    )
    good = serializers.BooleanField(help_text="score ≥ SWATCH_SEARCH_GOOD_MATCH.")
    scores = serializers.DictField(child=serializers.FloatField(allow_null=True))
    explanation = ExplanationSerializer()
    thumbnail_url = serializers.CharField(allow_null=True)


class SearchAnswerSerializer(serializers.Serializer):
    query_id = serializers.CharField()
    phase = serializers.ChoiceField(choices=["fast", "refined"])
    refinement = serializers.ChoiceField(
        choices=["pending", "done", "failed", "not_needed", "budget"],
        help_text="budget: refined by the offline analyser, the vision model being over its "
        "limits or money budget",
    )
    results = SearchResultSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    no_good_match = serializers.BooleanField(
        help_text="No result is a good match; the nearest are listed all the same."
    )
    good_matches = serializers.IntegerField()
    preliminary = serializers.BooleanField(
        help_text="The fast answer while the query image's analysis is pending."
    )
    message = serializers.CharField(allow_blank=True)
    fusion = serializers.CharField()
    weights = serializers.DictField(child=serializers.FloatField())
    query_description = serializers.DictField()
    analysis_note = serializers.CharField(
        allow_blank=True,
        help_text="What the query image's analysis could not do at the depth asked (the "
        "offline analyser: finish, likely use and care); empty when nothing.",
    )


class MaterialListQuerySerializer(serializers.Serializer):
    catalog = serializers.CharField(required=False, max_length=200)
    category = serializers.CharField(required=False, max_length=100)
    material_type = serializers.CharField(required=False, max_length=50)
    q = serializers.CharField(required=False, max_length=200)
    page = serializers.IntegerField(required=False, min_value=1)


class MaterialSerializer(serializers.ModelSerializer):
    catalog = serializers.CharField(source="catalog.name")
    thumbnail_url = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    analysis = serializers.SerializerMethodField()

    class Meta:
        model = Material
        fields = [
            "id",
            "name",
            "category",
            "catalog",
            "sku",
            "supplier",
            "attributes",
            "thumbnail_url",
            "image_url",
            "analysis",
        ]

    def _url(self, material: Material, name: str | None) -> str | None:
        # A private catalog's (one the asker was granted: the others are 404): signed.
        private = material.catalog_id in self.context.get("private_catalogs", ())
        return media_url_for(name, private=private) if name else None

    def get_thumbnail_url(self, material: Material) -> str | None:
        return self._url(material, material_thumbnail_name(material))

    def get_image_url(self, material: Material) -> str | None:
        image = material.primary_image
        return self._url(material, image.image.name if image is not None else None)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_analysis(self, material: Material) -> dict | None:
        analysis = material_analysis(material)
        if analysis is None:
            return None
        return {
            "status": analysis.status,
            "material_type": analysis.material_type,
            "confidence": analysis.confidence,
            "source": analysis.source,
            "depth": analysis.depth,
            "depth_note": analysis.depth_note,  # what could not be done at that depth
            "description": analysis.description,
        }
