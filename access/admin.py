"""API keys in the admin: made (the key shown once), listed with their state, rotated (the
old key kept for the grace period) and revoked; private catalogs; usage alerts."""

from __future__ import annotations

from django.contrib import admin, messages
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from access.models import ApiKey, PrivateCatalog, UsageAlert
from access.privacy import catalog_privacy_set
from access.selectors import key_status
from access.services import KeySettingsError, key_revoke, key_rotate, key_settings_check

admin.site.unregister(APIKey)  # the library's own model; Swatch's keys are `ApiKey`


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = ("prefix", "name", "owner", "scopes", "tier", "status", "last_used_at")
    list_filter = ("tier", "revoked", "created")
    search_fields = ("name", "prefix", "owner__username")
    filter_horizontal = ("catalogs",)
    actions = ["rotate", "revoke"]
    fields = (
        "prefix", "name", "owner", "scopes", "tier", "expiry_date", "allowed_ips",
        "allowed_origins", "catalogs", "revoked", "replaced_by", "last_used_at",
    )  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "replaced_by", "last_used_at")

    @admin.display(description="state")
    def status(self, key: ApiKey) -> str:
        return key_status(key)

    def save_model(self, request, obj, form, change):
        try:
            checked = key_settings_check(
                scopes=obj.scopes,
                allowed_ips=obj.allowed_ips,
                allowed_origins=obj.allowed_origins,
                tier=obj.tier,
            )
        except KeySettingsError as exc:
            messages.error(request, f"Not saved: {exc}.")
            return
        for name, value in checked.items():
            setattr(obj, name, value)
        super().save_model(request, obj, form, change)

    @admin.action(description="Rotate: a new key, the old one kept for the grace period")
    def rotate(self, request, queryset):
        for key in queryset:
            try:
                issued = key_rotate(key=key)
            except KeySettingsError as exc:
                messages.error(request, str(exc))
                continue
            key.refresh_from_db()
            messages.warning(
                request,
                f"New key for {key.name}: {issued.secret} (store it now: it is not shown "
                f"again). The old key {key.prefix} works until {key.expiry_date:%Y-%m-%d %H:%M}"
                " UTC.",
            )

    @admin.action(description="Revoke (cannot be undone)")
    def revoke(self, request, queryset):
        for key in queryset:
            key_revoke(key=key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")


@admin.register(PrivateCatalog)
class PrivateCatalogAdmin(admin.ModelAdmin):
    """Adding a row makes its catalog private, deleting one makes it public: both through
    `catalog_privacy_set`, which moves the catalog's files too."""

    list_display = ("catalog",)
    filter_horizontal = ("members",)

    def get_readonly_fields(self, request, obj=None):
        return ("catalog",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        obj.pk = catalog_privacy_set(catalog=obj.catalog, private=True).row.pk
        obj._state.adding = False  # the members are then saved on the service's row

    def delete_model(self, request, obj):
        catalog_privacy_set(catalog=obj.catalog, private=False)

    def delete_queryset(self, request, queryset):
        for row in queryset.select_related("catalog"):
            catalog_privacy_set(catalog=row.catalog, private=False)


@admin.register(UsageAlert)
class UsageAlertAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "key", "message")
    list_filter = ("kind",)
    readonly_fields = ("created_at", "kind", "key", "message", "details")
