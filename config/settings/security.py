"""Security and reliability: proxies, rate-limit fallback, and production hardening."""

from __future__ import annotations

from config import env

# --- clients behind proxies, rate limits --------------------------------------------------
# config/client_address.py: X-Forwarded-For is read only from these.
TRUSTED_PROXIES = tuple(env.get_list(env.TRUSTED_PROXIES))
# search/ratelimit/windows.py: the share of each limit a process allows while Redis is down.
SWATCH_RATE_FALLBACK_SHARE = min(1.0, max(0.0, env.get_float(env.RATE_FALLBACK_SHARE)))
# config/clock.py: tests move the clock of rate limits and alerts (SWATCH_ENV=test only).
SWATCH_TEST_CLOCK_FILE = env.get_str(env.TEST_CLOCK_FILE)
