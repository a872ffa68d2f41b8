from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from analysis.queueing import analysis_reap_stuck


class Command(BaseCommand):
    help = (
        "Return analyses whose task was lost to the queue, with the options they were queued "
        "with: 'running' ones of a killed or timed-out worker, 'pending' ones whose task is no "
        "longer in the broker's queue. Mark them failed once their attempts are used up. The "
        "worker also runs this on a schedule."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="Seconds in 'running' (or queued and 'pending') before an analysis counts as "
            "stuck (default: SWATCH_Q_TIMEOUT for running, SWATCH_Q_RETRY for pending).",
        )

    def handle(self, *args, **options) -> None:
        seconds = options["older_than"]
        if seconds is not None and seconds < 0:
            raise CommandError("--older-than must be 0 or more seconds.")
        reaped = analysis_reap_stuck(
            older_than=timedelta(seconds=seconds) if seconds is not None else None
        )
        self.stdout.write(f"requeued {len(reaped.requeued)}, failed {len(reaped.failed)}")
