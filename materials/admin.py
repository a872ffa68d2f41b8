"""The catalog in the Django admin: materials with thumbnails, search, filters, inline images."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from materials.models import Catalog, Material, MaterialImage


def _thumbnail(image: MaterialImage | None, size: int = 64) -> str:
    if image is None or not (image.thumbnail or image.image):
        return "—"
    source = image.thumbnail or image.image
    return format_html(
        '<img src="{}" alt="{}" width="{}" height="{}" style="object-fit:cover;border-radius:4px">',
        source.url,
        f"Thumbnail of {image.material.name}",
        size,
        size,
    )


@admin.register(Catalog)
class CatalogAdmin(admin.ModelAdmin):
    list_display = ["name", "material_count", "created_at"]
    search_fields = ["name"]

    @admin.display(description="materials")
    def material_count(self, obj: Catalog) -> int:
        return obj.materials.count()


class MaterialImageInline(admin.TabularInline):
    model = MaterialImage
    fk_name = "material"
    extra = 0
    fields = ["preview", "sha256", "width", "height", "original_format", "is_primary"]
    readonly_fields = ["preview", "sha256", "width", "height", "original_format"]
    can_delete = True
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        # Images enter through intake (import command, API) so they are validated and hashed.
        return False

    @admin.display(description="image")
    def preview(self, obj: MaterialImage) -> str:
        return _thumbnail(obj, 96)


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "name", "sku", "category", "catalog", "supplier", "updated_at"]
    list_display_links = ["thumbnail", "name"]
    list_filter = ["catalog", "category", "supplier"]
    search_fields = ["name", "sku", "category", "supplier"]
    list_select_related = ["catalog"]
    inlines = [MaterialImageInline]
    readonly_fields = ["created_at", "updated_at"]
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("images")

    @admin.display(description="image")
    def thumbnail(self, obj: Material) -> str:
        return _thumbnail(obj.primary_image)


@admin.register(MaterialImage)
class MaterialImageAdmin(admin.ModelAdmin):
    list_display = ["preview_small", "material", "catalog", "width", "height", "is_primary"]
    list_filter = ["catalog", "is_primary", "original_format"]
    search_fields = ["material__name", "material__sku", "sha256"]
    list_select_related = ["material", "catalog"]
    readonly_fields = [
        "preview", "material", "sha256", "width", "height", "original_format", "original_filename",
        "created_at",
    ]  # fmt: skip
    fields = ["preview", "material", "is_primary", *readonly_fields[2:]]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="image")
    def preview_small(self, obj: MaterialImage) -> str:
        return _thumbnail(obj)

    @admin.display(description="preview")
    def preview(self, obj: MaterialImage) -> str:
        if not obj.image:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" style="max-width:512px;max-height:512px">',
            obj.image.url,
            f"Image of {obj.material.name}",
        )
