from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from analysis.registry.indexes import IndexBuildError, index_build, model_index
from analysis.registry.selectors import UnknownModel, model_get


class Command(BaseCommand):
    help = (
        "Build a registered model's partial HNSW index with CREATE INDEX CONCURRENTLY (writes "
        "go on meanwhile); an invalid index left by a failed build is dropped and built again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", choices=["image", "description"])
        parser.add_argument("--m", type=int, default=None, help="Default: SWATCH_HNSW_M.")
        parser.add_argument(
            "--ef-construction",
            type=int,
            default=None,
            help="Default: SWATCH_HNSW_EF_CONSTRUCTION.",
        )

    def handle(self, *args, **options) -> None:
        try:
            row = model_get(name=options["name"], kind=options["kind"])
            outcome = index_build(row, m=options["m"], ef_construction=options["ef_construction"])
        except (UnknownModel, IndexBuildError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{model_index(row).name}: {outcome}")
