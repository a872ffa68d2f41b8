"""The worker's repeating schedules (the reaper, the heartbeat), installed after `migrate`."""

from __future__ import annotations

from django.db import connections


def repeating_schedule_ensure(*, name: str, func: str, minutes: int, using: str) -> None:
    """Install (or update) django-q2's schedule `name` running `func` every `minutes`; nothing
    while django_q is not migrated (yet)."""
    from django_q.models import Schedule

    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return
    Schedule.objects.using(using).update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
