"""Production hardening (`manage.py check --deploy`): HTTPS only (a redirect, HSTS, secure
cookies), behind a proxy that ends TLS (config/forwarded.py), and a Content-Security-Policy
(django-csp) on every answer. Each has a variable; in production they default to on."""

from __future__ import annotations

from csp.constants import NONE, SELF

from config import env
from config.settings.base import DEBUG, ENVIRONMENT

PRODUCTION = ENVIRONMENT == "production" and not DEBUG


def _on(var: env.Var) -> bool:
    """A switch that is on in production unless set, off elsewhere unless set."""
    return env.get_bool(var) if env.get_optional(var) is not None else PRODUCTION


SECURE_SSL_REDIRECT = _on(env.SSL_REDIRECT)
# Probes of the orchestrator and Prometheus ask over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.get_int(env.HSTS_SECONDS) if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool(env.HSTS_INCLUDE_SUBDOMAINS)
SECURE_HSTS_PRELOAD = env.get_bool(env.HSTS_PRELOAD)
SESSION_COOKIE_SECURE = _on(env.SECURE_COOKIES)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Pages load their own scripts and styles only; images may be the page's own previews
# (blob:, data:). Inline style attributes are allowed (the colour swatches), inline scripts
# are not. The Swagger UI page (/api/docs/) runs an inline script of drf-spectacular's: exempt.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
