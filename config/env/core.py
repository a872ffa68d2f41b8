"""Core: secrets, hosts, run-time folders, logs."""

from __future__ import annotations

from config.env.registry import BASE_DIR, declare

DEBUG = declare("SWATCH_DEBUG", "false", "Django DEBUG. Never on in production.")
SECRET_KEY = declare(
    "SWATCH_SECRET_KEY",
    None,
    "Django secret key. Required unless SWATCH_DEBUG is on or SWATCH_ENV=development "
    "(then a fixed development key is used).",
    secret=True,
)
ENVIRONMENT = declare(
    "SWATCH_ENV",
    "production",
    "`development`, `test` or `production`. Development and test allow a built-in secret key.",
)
ALLOWED_HOSTS = declare(
    "SWATCH_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", "Comma-separated host names served."
)
CSRF_TRUSTED_ORIGINS = declare(
    "SWATCH_CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins trusted for CSRF (https://…)."
)
VAR_DIR = declare(
    "SWATCH_VAR_DIR", str(BASE_DIR / "var"), "Where run-time state lives (database, media, logs)."
)
MEDIA_ROOT = declare(
    "SWATCH_MEDIA_ROOT", None, "Stored catalog images. Default: `$SWATCH_VAR_DIR/media`."
)
SERVE_MEDIA = declare(
    "SWATCH_SERVE_MEDIA",
    "true",
    "Serve stored images from Django itself (single-machine setups). Turn off behind a CDN "
    "or object store.",
)
LOG_LEVEL = declare("SWATCH_LOG_LEVEL", "INFO", "Log level of the `swatch` loggers.")
