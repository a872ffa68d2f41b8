"""Outbound limits of the model APIs, enforced before each request.

Each provider with limits (`SWATCH_LIMITS["PROVIDERS"]`: the vision endpoint, remote CLIP) has
up to three windows — requests a minute, tokens an hour, embeddings a day. A request is
counted *before* it is sent (`outbound.outbound_reserve`), in counters every process shares
(`store`: one Lua script on Redis, one locked transaction in PostgreSQL without it), and only
if every window has room: otherwise `OverLimit` says how long until it has. Tokens are counted
by an estimate (`estimate`) and corrected from the answer's `usage` (`outbound_settle`).

What happens over a limit depends on who asks (`mode`): background work (ingestion,
re-analysis) is deferred — its task rescheduled for when the window has room
(`analysis.deferral`) — and interactive work (a search's refinement) is answered at once by
the offline provider, the answer saying why (`refinement: "budget"`).
"""
