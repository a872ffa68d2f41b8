"""The shared store: state every process of a deployment must see alike — search queries and
their cached answers, the descriptions revision, the circuit breakers, rate-limit counters.

One small interface (`protocol.Store`), two implementations — Redis (`redis.RedisStore`) and
a table of our own in Postgres (`database.DatabaseStore`) — and `store()`, which picks one
once from settings (`choice`). Callers never ask which one they have.
"""

from config.store.choice import store
from config.store.protocol import Counters, Counts, Entry, Incr, Store

__all__ = ["Counters", "Counts", "Entry", "Incr", "Store", "store"]
