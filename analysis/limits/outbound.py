"""The outbound limits of each provider: reserve before a request, correct after it.

`outbound_reserve(provider, requests=1, tokens=…, items=…)` admits a request — counted in
every window of the provider — or raises `OverLimit` with the seconds until the windows have
room; `outbound_settle` replaces the token estimate by what the answer's `usage` says.
`outbound_use` reads each window's use for `/healthz` and the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from analysis.limits import store
from analysis.limits.clock import limits_now
from analysis.providers.protocols import ProviderError

# Window name → its length; the settings give each provider's limit per window.
WINDOW_SECONDS = {"requests": 60, "tokens": 3600, "items": 86400}
WINDOW_LABELS = {"requests": "requests/minute", "tokens": "tokens/hour", "items": "embeddings/day"}


class OverLimit(ProviderError):
    """The request would exceed a window: not sent. `retry_after`: seconds until it fits."""

    def __init__(self, provider: str, window: str, limit: int, retry_after: float) -> None:
        super().__init__(
            f"{provider}: over its limit of {limit} {WINDOW_LABELS.get(window, window)} "
            f"(room again in {retry_after:.0f} s): not sent",
            retryable=True,
            code="over_limit",
        )
        self.provider = provider
        self.window = window
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reservation:
    provider: str
    at: float
    amounts: dict[str, int] = field(default_factory=dict)


def provider_limits(provider: str) -> dict[str, int]:
    """The provider's windows with a limit (name → limit); empty: not limited."""
    configured = settings.SWATCH_LIMITS["PROVIDERS"].get(provider) or {}
    return {name: int(v) for name, v in configured.items() if name in WINDOW_SECONDS and v}


def _windows(provider: str, amounts: dict[str, int]) -> list[store.Window]:
    return [
        store.Window(
            key=f"limit:{provider}:{name}",
            limit=limit,
            seconds=WINDOW_SECONDS[name],
            # A single request bigger than the whole window still goes, alone in it.
            amount=min(max(int(amounts.get(name, 0)), 0), limit),
        )
        for name, limit in provider_limits(provider).items()
    ]


def _wait(window: store.Window, counts: list[int], now: float) -> float:
    """Seconds until enough of the oldest buckets have left the window for `amount`."""
    total, first = sum(counts), window.bucket(now) - store.BUCKETS
    for offset, count in enumerate(counts):
        total -= count
        if total + window.amount <= window.limit:
            leaves = (first + offset + store.BUCKETS + 1) * window.bucket_seconds
            return max(leaves - now, 0.001)
    return float(window.seconds)


def outbound_reserve(
    provider: str, *, requests: int = 1, tokens: int = 0, items: int = 0, now: float | None = None
) -> Reservation | None:
    """Count a request against the provider's windows, or raise `OverLimit` (nothing
    counted). None when the provider has no limits."""
    amounts = {"requests": requests, "tokens": tokens, "items": items}
    windows = _windows(provider, amounts)
    if not windows:
        return None
    now = limits_now() if now is None else now
    counted = store.reserve(windows, now)
    if counted.admitted:
        return Reservation(provider, now, {w.key.rsplit(":", 1)[1]: w.amount for w in windows})
    waits = [
        (_wait(w, counts, now), w)
        for w, counts in zip(windows, counted.buckets, strict=True)
        if w.amount and sum(counts) + w.amount > w.limit
    ]
    wait, window = max(waits, key=lambda pair: pair[0])
    raise OverLimit(provider, window.key.rsplit(":", 1)[1], window.limit, wait)


def outbound_settle(reservation: Reservation | None, *, tokens: int | None) -> None:
    """Correct the reservation's token estimate by the tokens the answer says it used."""
    if reservation is None or tokens is None or "tokens" not in reservation.amounts:
        return
    delta = int(tokens) - reservation.amounts["tokens"]
    if delta:
        window = store.Window(f"limit:{reservation.provider}:tokens", 1, WINDOW_SECONDS["tokens"])
        key = f"{window.key}:{window.bucket(reservation.at)}"
        store.add(key, delta, 2 * window.seconds + 60)


def defer_until(provider: str, retry_after: float, *, now: float | None = None) -> float:
    """When deferred work over `provider`'s limits should run: after `retry_after`, and one
    request's share of the minute after the last deferral, so they do not all wake at once."""
    now = limits_now() if now is None else now
    rpm = provider_limits(provider).get("requests") or 60
    # A minute's window is checked over 61 s (see `store`): one request's share of that.
    interval = WINDOW_SECONDS["requests"] * (store.BUCKETS + 1) / store.BUCKETS / rpm
    return store.next_slot(
        f"limit:{provider}:deferred", earliest=now + retry_after, interval=interval, ttl=2 * 86400
    )


def outbound_use(*, now: float | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each limited provider's windows: limit, used (in the last window), share."""
    now = limits_now() if now is None else now
    use: dict[str, list[dict[str, Any]]] = {}
    for provider in settings.SWATCH_LIMITS["PROVIDERS"]:
        windows = _windows(provider, {})
        if not windows:
            continue
        counted = store.reserve(windows, now)  # amounts 0: a read
        use[provider] = [
            {
                "window": w.key.rsplit(":", 1)[1],
                "label": WINDOW_LABELS[w.key.rsplit(":", 1)[1]],
                "limit": w.limit,
                "used": sum(counts),
                "share": round(sum(counts) / w.limit, 4),
            }
            for w, counts in zip(windows, counted.buckets, strict=True)
        ]
    return use
