from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from config.configuration_doc import configuration_markdown


class Command(BaseCommand):
    help = "Write docs/CONFIGURATION.md from the variables declared in config/env/."

    def handle(self, *args, **options) -> None:
        target = Path(settings.BASE_DIR) / "docs" / "CONFIGURATION.md"
        target.write_text(configuration_markdown(), encoding="utf-8")
        self.stdout.write(f"wrote {target.relative_to(settings.BASE_DIR)}")
