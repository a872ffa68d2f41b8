"""Rate limits: atomic window counters in the shared cache and the decisions built on them.

- `counters`: one round trip counts a hit in several windows and reads their previous windows
  — Redis (`INCR` + `EXPIRE … NX` in one MULTI), or a Postgres table without Redis (one upsert,
  whose expiry is set when a window's row is made and never moved by a later hit), or, while
  Redis is unreachable, this process's own memory with a conservative share of each limit.
- `windows`: the sliding-window estimate over those counters (`rate_consume`), per scope
  (`search`, `lookup`) and identity (user, or the client's address: config/client_address.py).
"""
