"""What counts as an outage: the database or the cache (Redis) not answering. Those are a
`503` with `Retry-After` (the client may simply try again), not a 500 (a bug of ours)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Outage:
    code: str  # database_unavailable | cache_unavailable
    message: str
    retry_after: int = RETRY_AFTER_SECONDS


DATABASE = Outage(
    "database_unavailable",
    "The database is not reachable right now; nothing was changed. Try again in a few seconds.",
)
CACHE = Outage(
    "cache_unavailable",
    "The shared cache is not reachable right now. Try again in a few seconds.",
)


def _cache_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    errors: list[type[BaseException]] = [RedisConnectionError, RedisTimeoutError]
    try:
        from django_redis.exceptions import ConnectionInterrupted

        errors.append(ConnectionInterrupted)
    except ImportError:  # pragma: no cover - django-redis is a requirement
        pass
    return tuple(errors)


CACHE_ERRORS = _cache_errors()


def outage_of(exc: BaseException | None) -> Outage | None:
    """The outage `exc` means, following its causes, or None for any other error."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError | InterfaceError):
            return DATABASE
        if isinstance(exc, CACHE_ERRORS):
            return CACHE
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None
