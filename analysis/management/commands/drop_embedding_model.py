from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from analysis.registry.selectors import UnknownModel, model_get
from analysis.registry.switch import SwitchRefused, model_drop


class Command(BaseCommand):
    help = "Delete a model's vectors, its index and its registry row (not while it serves)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", choices=["image", "description"])

    def handle(self, *args, **options) -> None:
        try:
            row = model_get(name=options["name"], kind=options["kind"])
            deleted = model_drop(model=row)
        except (UnknownModel, SwitchRefused) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"dropped {row.name} ({row.kind}): {deleted} vectors and its index")
