from django.apps import AppConfig


class SwatchConfig(AppConfig):
    name = "config"
    verbose_name = "Swatch configuration"
