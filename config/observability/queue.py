"""The task queue as the broker holds it: how many tasks wait, and how long the oldest has."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone


@dataclass(frozen=True)
class QueueState:
    broker: str
    depth: int
    oldest_age_seconds: float  # 0 when empty


def _started(payload) -> float:
    """Seconds since a queued task's package was made (django-q2 stamps `started` then)."""
    from django_q.signing import SignedPackage

    try:
        started = SignedPackage.loads(payload).get("started")
    except Exception:  # noqa: BLE001 - an unreadable package says nothing about age
        return 0.0
    return max(0.0, (timezone.now() - started).total_seconds()) if started else 0.0


def queue_state() -> QueueState:
    """Depth and oldest task age of this deployment's queue (Redis list or the ORM table).
    Raises whatever the broker raises when it is unreachable."""
    from django_q.brokers import get_broker

    broker = get_broker()
    name = broker.__class__.__name__
    depth = int(broker.queue_size() or 0)
    if not depth:
        return QueueState(name, 0, 0.0)
    if name == "ORM":
        from django_q.models import OrmQ

        oldest = (
            OrmQ.objects.filter(key=broker.list_key, lock__lte=timezone.now())
            .order_by("id")
            .values_list("payload", flat=True)
            .first()
        )
    elif name == "Redis":
        oldest = broker.connection.lindex(broker.list_key, 0)  # rpush in, blpop out
    else:
        oldest = None
    return QueueState(name, depth, _started(oldest) if oldest is not None else 0.0)
