"""Observability: the metrics endpoint, readiness, log format."""

from __future__ import annotations

from config.env.registry import declare

METRICS_TOKEN = declare(
    "SWATCH_METRICS_TOKEN",
    None,
    "Bearer token that opens `/metrics` (`Authorization: Bearer …`) from any address. Unset: "
    "only the addresses of SWATCH_METRICS_ALLOWED_IPS get in.",
    secret=True,
)
METRICS_ALLOWED_IPS = declare(
    "SWATCH_METRICS_ALLOWED_IPS",
    None,
    "Comma-separated client addresses or CIDRs (`10.0.0.0/8,::1`) that may read `/metrics` "
    "without the token. Default: loopback in development, nobody otherwise. The address is "
    "the connection's, never a client-supplied header.",
)
PROMETHEUS_MULTIPROC_DIR = declare(
    "PROMETHEUS_MULTIPROC_DIR",
    None,
    "A folder shared by every process of one node (web workers, task workers): set, metrics "
    "are counted across them (prometheus-client's multiprocess mode) and `/metrics` adds them "
    "up. Must be empty when the node starts; `./swatch up` uses `$SWATCH_VAR_DIR/metrics`.",
)
READY_HEARTBEAT_MAX_AGE = declare(
    "SWATCH_READY_HEARTBEAT_MAX_AGE",
    "300",
    "Seconds since the task worker's last heartbeat after which `/readyz` answers 503.",
)
LOG_FORMAT = declare(
    "SWATCH_LOG_FORMAT",
    "json",
    "`json` (one JSON object a line: time, level, logger, message, request id, route, status, "
    "duration) or `plain` (human-readable).",
)
ACCESS_LOG = declare(
    "SWATCH_ACCESS_LOG",
    "true",
    "Write the access line (`swatch.access`) for every request. `./swatch up` turns it off, "
    "so its console shows only what needs reading (warnings and errors still do).",
)
