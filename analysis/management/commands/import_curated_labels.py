from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analysis.curation.labels import LabelFileError, curated_labels_import
from analysis.curation.services import CurationError


class Command(BaseCommand):
    help = (
        "Import curated labels from a CSV written by export_curated_labels: each row's "
        "description becomes the curated description of the stored images with that sha256 "
        "(source curated, approved, embedding recomputed, audited). Rows whose image is not "
        "stored are skipped; bad rows are reported and skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("csv", help="CSV file (columns image_sha256, description, …).")
        parser.add_argument("--user", help="Record the import in the audit trail as this user.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and match rows; write nothing."
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["csv"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"no user named {options['user']!r}.")
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                summary = curated_labels_import(
                    handle=handle, actor=actor, dry_run=options["dry_run"]
                )
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc.reason}") from exc
        except LabelFileError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        except CurationError as exc:
            raise CommandError(exc.message) from exc
        for problem in summary.problems[:50]:
            self.stderr.write(problem)
        if len(summary.problems) > 50:
            self.stderr.write(f"… and {len(summary.problems) - 50} more")
        prefix = "dry run: " if options["dry_run"] else ""
        self.stdout.write(f"{prefix}{summary.line()}")
