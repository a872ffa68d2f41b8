"""Security and reliability: request size, client addresses behind proxies, rate-limit
fallback, and the production hardening (`check --deploy`)."""

from __future__ import annotations

from config.env.registry import declare

# --- requests ---------------------------------------------------------------------------
MAX_REQUEST_BYTES = declare(
    "SWATCH_MAX_REQUEST_BYTES",
    None,
    "Largest request body, in bytes; larger ones get `413 payload_too_large` from their "
    "Content-Length before the body is read. Default: SWATCH_MAX_UPLOAD_BYTES + 1 MiB (one "
    "image file plus the form's fields; base64 in JSON takes 4/3 of the file's size).",
)
TRUSTED_PROXIES = declare(
    "SWATCH_TRUSTED_PROXIES",
    "",
    "Comma-separated IPs or CIDRs of the reverse proxies in front of Swatch (e.g. "
    "`127.0.0.1,10.0.0.0/8`). Only when a request comes from one of them is its "
    "`X-Forwarded-For` read (right to left, skipping these) for the client's address and its "
    "`X-Forwarded-Proto` for https. Empty: the connection's own address, never a header.",
)

# --- rate limits ------------------------------------------------------------------------
SEARCH_RATE_LOOKUP = declare(
    "SWATCH_SEARCH_RATE_LOOKUP",
    "120/60s",
    "Look-ups of a stored search (`GET /api/v1/search/{id}/`, the page's refinement poll) per "
    "user (or IP when anonymous).",
)
FEEDBACK_RATE = declare(
    "SWATCH_FEEDBACK_RATE",
    "60/60s",
    "Feedback posts (votes, result clicks, conversions, description flags) per user (or IP when "
    "anonymous); more are refused with 429.",
)
SEARCH_RATE_MALFORMED = declare(
    "SWATCH_SEARCH_RATE_MALFORMED",
    "30/60s",
    "Malformed search requests (answered 400) per key, user or IP: counted apart from the search "
    "limits (they never use up the search quota), so a broken client cannot hammer the server; "
    "over it, 429 `malformed_rate_limited` still names the request's own error.",
)
TEST_CLOCK_FILE = declare(
    "SWATCH_TEST_CLOCK_FILE",
    "",
    "Tests only (ignored unless SWATCH_ENV=test): a file holding a Unix time that is the clock "
    "of rate limits and usage alerts in every process reading it (config/clock.py).",
)
RATE_FALLBACK_SHARE = declare(
    "SWATCH_RATE_FALLBACK_SHARE",
    "0.5",
    "While the shared cache (Redis) is unreachable, each web process counts limits on its own, "
    "allowing this share of every limit (at least 1): conservative, since several processes "
    "each allow it. `/healthz` says `degraded` meanwhile.",
)
CACHE_TIMEOUT = declare(
    "SWATCH_CACHE_TIMEOUT",
    "0.5",
    "Seconds to connect to Redis, and to wait for one of its answers, before a cache call "
    "counts as failed (a miss; limits fall back to per-process counts).",
)

# --- production hardening (config/settings/hardening.py; docs/DEPLOYMENT.md) -----------------
SSL_REDIRECT = declare(
    "SWATCH_SSL_REDIRECT",
    None,
    "Redirect plain-HTTP requests to https (not `/healthz`, `/readyz`, `/metrics`). Default: on "
    "in production. Behind a proxy that ends TLS, list it in SWATCH_TRUSTED_PROXIES: its "
    "`X-Forwarded-Proto: https` is believed, nobody else's.",
)
SECURE_COOKIES = declare(
    "SWATCH_SECURE_COOKIES",
    None,
    "Session and CSRF cookies only over https. Default: on in production.",
)
HSTS_SECONDS = declare(
    "SWATCH_HSTS_SECONDS",
    "31536000",
    "Strict-Transport-Security max-age in production (sent on https answers only; 0: none). "
    "Browsers then refuse plain HTTP to the host for that long: serve https first.",
)
HSTS_INCLUDE_SUBDOMAINS = declare(
    "SWATCH_HSTS_INCLUDE_SUBDOMAINS", "true", "HSTS covers the host's subdomains too."
)
HSTS_PRELOAD = declare(
    "SWATCH_HSTS_PRELOAD",
    "true",
    "Add `preload` to HSTS (a host is on browsers' preload lists only once submitted).",
)
