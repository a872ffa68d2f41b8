"""The database a search reads from: a read replica or the primary (`config.replicas`).

The search hot path writes plain SQL through `connection` from this module, a proxy like
`django.db.connection` that resolves to the running search's database: the primary outside a
search, a replica inside one when `DATABASE_REPLICA_URLS` names some. `replica_reads` wraps
the search service's entry points: it chooses the database, and a search that fails on a
replica (gone, or a query cancelled by the replica's recovery) runs again on the primary.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.utils.connection import ConnectionProxy

from config.replicas import current_read_alias, replica_failed, search_reads

logger = logging.getLogger("swatch.search")
T = TypeVar("T")


class _SearchConnection(ConnectionProxy):
    def __init__(self) -> None:
        super().__init__(connections, DEFAULT_DB_ALIAS)

    def __getattribute__(self, name: str):
        if name == "_alias":
            return current_read_alias()
        return super().__getattribute__(name)


connection = _SearchConnection()


def replica_reads(func: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> T:
        with search_reads() as alias:
            if alias == DEFAULT_DB_ALIAS:
                return func(*args, **kwargs)
            try:
                return func(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                logger.warning("search failed on replica %s (%s): again on the primary", alias, exc)
                replica_failed(alias)
        with search_reads(DEFAULT_DB_ALIAS):
            return func(*args, **kwargs)

    return wrapper
