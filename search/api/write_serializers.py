"""Requests of the catalog write API."""

from __future__ import annotations

from rest_framework import serializers

from analysis.catalog_jobs import MAX_ITEMS
from search.api.serializers import JSONObjectField, StrictSerializer


class MaterialWriteSerializer(StrictSerializer):
    name = serializers.CharField(required=False, max_length=300)
    category = serializers.CharField(required=False, allow_blank=True, max_length=100)
    sku = serializers.CharField(required=False, max_length=100)
    supplier = serializers.CharField(required=False, allow_blank=True, max_length=200)
    attributes = JSONObjectField(required=False)
    image = serializers.FileField(required=False, help_text="The image file (multipart).")
    image_url = serializers.URLField(
        required=False, max_length=2000, help_text="Or an http(s) URL Swatch downloads it from."
    )

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if "image" in attrs and "image_url" in attrs:
            raise serializers.ValidationError(
                {"image_url": ["Send the image as a file or as a URL, not both."]}
            )
        return attrs


class BulkItemSerializer(MaterialWriteSerializer):
    image = None  # a bulk item names its image by URL

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if not attrs.get("sku"):
            raise serializers.ValidationError({"sku": ["Each bulk item needs its SKU."]})
        return attrs


class BulkWriteSerializer(StrictSerializer):
    items = BulkItemSerializer(many=True, allow_empty=False, max_length=MAX_ITEMS)
