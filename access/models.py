"""API keys, private catalogs and usage alerts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

SCOPES = ("search", "catalog:read", "catalog:write")
DEFAULT_SCOPES = ["search", "catalog:read"]


def default_scopes() -> list[str]:
    return list(DEFAULT_SCOPES)


class ApiKey(AbstractAPIKey):
    """A consumer's key: only its prefix and a SHA-512 hash of the whole key are stored
    (djangorestframework-api-key); the key itself is shown once, when made."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    scopes = ArrayField(models.CharField(max_length=30), default=default_scopes)
    allowed_ips = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        help_text="IPs or CIDRs allowed to use the key; empty: any.",
    )
    allowed_origins = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Web origins (https://app.example.com) allowed for browser calls; CORS is "
        "answered only for these. Empty: no browser calls.",
    )
    tier = models.CharField(max_length=30, default="standard")
    catalogs = models.ManyToManyField(
        "materials.Catalog", blank=True, related_name="api_keys", help_text="Private catalogs."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class KeyAddress(models.Model):
    """An address a key was used from (the 'new IP' alert of an IP-restricted key)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="addresses")
    address = models.GenericIPAddressField()
    first_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "address"], name="key_address_unique")
        ]

    def __str__(self) -> str:
        return self.address


class KeyUsageBucket(models.Model):
    """A key's requests and errors in one 5-minute bucket (access/alerts.py)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage")
    start = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "start"], name="key_usage_unique")]

    def __str__(self) -> str:
        return f"{self.key_id} {self.start:%Y-%m-%d %H:%M}"


class PrivateCatalog(models.Model):
    """A catalog with this row is private: visible only to staff, to its members and to the
    keys granted it (`ApiKey.catalogs`); everyone else gets 404."""

    catalog = models.OneToOneField(
        "materials.Catalog", on_delete=models.CASCADE, related_name="privacy"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="private_catalogs"
    )

    def __str__(self) -> str:
        return f"{self.catalog} (private)"


class UsageAlert(models.Model):
    KINDS = [
        ("rate_spike", "Request rate far above the key's baseline"),
        ("error_spike", "Error rate spike"),
        ("new_ip", "A new address for an IP-restricted key"),
        ("near_expiry", "Used close to its expiry"),
    ]
    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=KINDS)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["key", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"
