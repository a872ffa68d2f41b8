from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from search.feedback.labels import feedback_labels, judgement_lines


class Command(BaseCommand):
    help = (
        "Write the positive and negative judgements of real searches (votes, clicks, "
        "conversions) as JSON lines that `evaluate_search --judgements` reads. Image searches "
        "are left out: their image is never stored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", type=Path, help="The JSON-lines file to write ('-': stdout).")
        parser.add_argument("--days", type=int, help="Only searches of the last N days.")
        parser.add_argument("--catalog", help="Only feedback on this catalog's materials.")

    def handle(self, *args, **options) -> None:
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more.")
        since = timezone.now() - dt.timedelta(days=days) if days else None
        lines, summary = feedback_labels(since=since, catalog=options["catalog"])
        text = "".join(line + "\n" for line in judgement_lines(lines))
        out: Path = options["out"]
        if str(out) == "-":
            self.stdout.write(text, ending="")
        else:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text)
            except OSError as exc:
                raise CommandError(f"{out}: cannot write ({exc.strerror}).") from exc
        self.stderr.write(
            f"{summary.queries} queries, {summary.judgements} judgements written; "
            f"{summary.skipped_image_searches} image searches left out (no stored image)."
        )
