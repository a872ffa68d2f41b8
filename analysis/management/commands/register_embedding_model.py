from __future__ import annotations

import json

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError

from analysis.embedding_models import EmbeddingModel
from analysis.registry.embedders import embedder_for
from analysis.registry.indexes import IndexBuildError, index_build


def _options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--option {pair!r}: give KEY=VALUE.")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


class Command(BaseCommand):
    help = (
        "Register an embedding model (name, kind, dimensions, the provider class that makes "
        "it) and build its partial HNSW index CONCURRENTLY (no write lock on the catalog)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", choices=["image", "description"], required=True)
        parser.add_argument("--dimensions", type=int, required=True)
        parser.add_argument(
            "--provider", default="", help="Dotted path of the embedder class ('' = the chain)."
        )
        parser.add_argument("--option", action="append", default=[], help="KEY=VALUE (JSON).")
        parser.add_argument("--no-index", action="store_true", help="Build the index later.")

    def handle(self, *args, **options) -> None:
        if options["dimensions"] < 1:
            raise CommandError("--dimensions must be at least 1.")
        row = EmbeddingModel(
            name=options["name"],
            kind=options["kind"],
            dimensions=options["dimensions"],
            provider=options["provider"],
            options=_options(options["option"]),
        )
        try:
            row.full_clean()
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        try:
            embedder_for(row)  # the provider is there and makes what the row says
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        row.save()
        self.stdout.write(f"registered {row}")
        if not options["no_index"]:
            try:
                outcome = index_build(row)
            except IndexBuildError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"index of {row.name}: {outcome}")
