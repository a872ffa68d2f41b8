"""`qcluster` that waits for its broker: django-q2's own exits at once when Redis does not
answer (its sentinel dies), so a worker started during a Redis outage (or before Redis, in a
compose file or after a reboot) would stay down. This one pings the broker first, logging
while it waits with a growing pause (up to 30 s), then starts the cluster as django-q2 does.
Found before django-q2's command because the `config` app is listed before `django_q`."""

from __future__ import annotations

import logging
import time

from django_q.brokers import get_broker
from django_q.management.commands.qcluster import Command as DjangoQCommand

logger = logging.getLogger("swatch.worker")
MAX_PAUSE = 30.0


def broker_wait(*, pause: float = 1.0, sleep=time.sleep) -> int:
    """Block until the broker answers a ping; the number of failed pings before it did."""
    failures = 0
    while True:
        try:
            if get_broker().ping():
                return failures
        except Exception as exc:  # noqa: BLE001 - any failure to reach the broker: wait
            error = exc
        else:
            error = RuntimeError("no answer")
        failures += 1
        logger.warning(
            "the task broker does not answer (%s: %s); waiting %.0f s before trying again",
            type(error).__name__, error, pause,
        )  # fmt: skip
        sleep(pause)
        pause = min(MAX_PAUSE, pause * 2)


class Command(DjangoQCommand):
    help = "Starts the django-q2 cluster once its broker (Redis or the database) answers."

    def handle(self, *args, **options):
        failures = broker_wait()
        if failures:
            logger.warning("the task broker answers again: starting the worker")
        return super().handle(*args, **options)
