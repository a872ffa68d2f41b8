from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from analysis.services import analysis_reap_stuck


class Command(BaseCommand):
    help = (
        "Return analyses stuck in 'running' (worker killed or timed out) to the queue, or mark "
        "them failed once their attempts are used up. The worker also runs this on a schedule."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="Seconds in 'running' before an analysis counts as stuck "
            "(default: SWATCH_Q_TIMEOUT).",
        )

    def handle(self, *args, **options) -> None:
        seconds = options["older_than"]
        if seconds is not None and seconds < 0:
            raise CommandError("--older-than must be 0 or more seconds.")
        reaped = analysis_reap_stuck(
            older_than=timedelta(seconds=seconds) if seconds is not None else None
        )
        self.stdout.write(f"requeued {len(reaped.requeued)}, failed {len(reaped.failed)}")
