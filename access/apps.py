from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "API access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from access import (
            cors,  # noqa: F401 - connects the CORS origin check
            openapi,  # noqa: F401 - the API key's scheme in the OpenAPI schema
        )
