"""The search's own limits, shared by the API and the pages: whose hits (`rate_ident`: the
user when signed in, else the client's address) and which scope — `search` for new searches
(burst, minute, hour: `SWATCH_SEARCH_RATE_*`), `lookup` for reading a stored search
(`SWATCH_SEARCH_RATE_LOOKUP`: polling for the refined answer, paging), `malformed` for
requests answered 400 (`SWATCH_SEARCH_RATE_MALFORMED`, never the search quota), `feedback` for
votes, clicks, conversions and flags (`SWATCH_FEEDBACK_RATE`). An API key has its own bucket,
its limits scaled by its rate tier (access/tiers.py)."""

from __future__ import annotations

from config.client_address import client_rate_ident
from search.conf import Rate, search_config
from search.ratelimit.windows import RateDecision, rate_decide, rate_peek

SCOPES = ("search", "lookup", "malformed", "feedback")


def rate_ident(*, user_id: int | None, address: str, key_prefix: str | None = None) -> str:
    """An API key's own bucket, else the signed-in user's, else the client address's."""
    if key_prefix is not None:
        return f"key:{key_prefix}"
    return f"user:{user_id}" if user_id is not None else f"ip:{client_rate_ident(address)}"


def scaled_rates(rates: dict[str, Rate], factor: float) -> dict[str, Rate]:
    """A rate tier's limits: each window's requests times `factor` (at least 1)."""
    if factor == 1.0:
        return rates
    return {
        name: Rate(requests=max(1, round(rate.requests * factor)), seconds=rate.seconds)
        for name, rate in rates.items()
    }


def search_rates(*, scope: str = "search", factor: float = 1.0) -> dict[str, Rate]:
    if scope not in SCOPES:
        raise ValueError(f"unknown rate-limit scope {scope!r}")
    config = search_config()
    if scope == "malformed":
        return config.malformed_rates
    rates = {"lookup": config.lookup_rates, "feedback": config.feedback_rates}.get(
        scope, config.rates
    )
    return scaled_rates(rates, factor)


def search_rate_decide(
    *, ident: str, scope: str = "search", now: float | None = None, factor: float = 1.0
) -> RateDecision:
    rates = search_rates(scope=scope, factor=factor)
    return rate_decide(ident=ident, rates=rates, scope=scope, now=now)


def rate_consume(*, ident: str, now: float | None = None, scope: str = "search") -> float | None:
    """Count one hit for `ident`; the seconds to wait when a limit is exceeded, else None."""
    return search_rate_decide(ident=ident, scope=scope, now=now).retry_after


def search_rate_peek(*, ident: str, scope: str = "search", factor: float = 1.0) -> RateDecision:
    """Where `ident` stands, without counting a hit."""
    return rate_peek(ident=ident, rates=search_rates(scope=scope, factor=factor), scope=scope)
