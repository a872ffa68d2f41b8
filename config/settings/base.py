"""Core Django settings: secrets, hosts, apps, middleware, templates, auth, static and media."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config import env
from config.storage import media_storage

BASE_DIR = env.BASE_DIR


ENVIRONMENT = env.get_str(env.ENVIRONMENT)
DEBUG = env.get_bool(env.DEBUG)
_DEV_SECRET = "swatch-development-only-not-secret"  # noqa: S105 - public by design
SECRET_KEY = env.get_optional(env.SECRET_KEY) or ""
if not SECRET_KEY:
    if DEBUG or ENVIRONMENT in {"development", "test"}:
        SECRET_KEY = _DEV_SECRET
    else:
        raise ImproperlyConfigured(
            "SWATCH_SECRET_KEY is required in production (or set SWATCH_ENV=development)."
        )

ALLOWED_HOSTS = env.get_list(env.ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env.get_list(env.CSRF_TRUSTED_ORIGINS)

VAR_DIR = Path(env.get_str(env.VAR_DIR))
VAR_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # Before django_q: its `qcluster` command is config's (waits for the broker).
    "config.apps.SwatchConfig",
    "django_q",
    "materials",
    "analysis",
    "search",
    "access",
]

MIDDLEWARE = [
    # First: every answer and log line of the request carries its id (config/request_id.py).
    "config.request_id.RequestIdMiddleware",
    # One JSON access line per request: method, route, status, duration (with the id).
    "config.observability.logs.AccessLogMiddleware",
    # A request that changed the catalog pins its client's searches to the primary.
    "config.replicas.ReplicaPinMiddleware",
    # https ended by a trusted proxy (X-Forwarded-Proto), before the redirect to https.
    "config.forwarded.ForwardedSchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (config/settings/hardening.py).
    "csp.middleware.CSPMiddleware",
    # 413 from Content-Length, before the body is read (config/request_limits.py).
    "config.request_limits.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # CORS only for the API and the origins of usable keys (access/cors.py).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # RateLimit-* on every answer of the API and the pages (search/ratelimit/headers.py).
    "search.ratelimit.headers.RateLimitHeadersMiddleware",
    # An API key's answers counted for its usage alerts (access/alerts.py).
    "access.middleware.KeyUsageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- auth, i18n, static -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    # Stored catalog images: a local folder, or an S3-compatible object store (config/storage.py).
    "default": media_storage(),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or ENVIRONMENT == "test"
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.get_optional(env.MEDIA_ROOT) or VAR_DIR / "media")
SERVE_MEDIA = env.get_bool(env.SERVE_MEDIA)
# Stored images go through access.views.media_file, which checks private catalogs
# (access/media.py); the bytes are sent by Django or, after the check, by the web server.
SWATCH_PRIVATE_MEDIA_URL_SECONDS = max(60, env.get_int(env.PRIVATE_MEDIA_URL_SECONDS))
SWATCH_MEDIA_SENDFILE = env.get_str(env.MEDIA_SENDFILE).strip().lower()
if SWATCH_MEDIA_SENDFILE not in ("", "x-accel-redirect", "x-sendfile"):
    raise ImproperlyConfigured(
        "SWATCH_MEDIA_SENDFILE must be empty, `x-accel-redirect` or `x-sendfile`, "
        f"not {SWATCH_MEDIA_SENDFILE!r}."
    )
SWATCH_MEDIA_INTERNAL_URL = "/" + env.get_str(env.MEDIA_INTERNAL_URL).strip("/") + "/"
if any(MEDIA_ROOT.resolve().is_relative_to(p.resolve()) for p in (STATIC_ROOT, *STATICFILES_DIRS)):
    # WhiteNoise would serve every stored image, private catalogs' too, without a check.
    raise ImproperlyConfigured("SWATCH_MEDIA_ROOT must not be inside the static files' folders.")

# Uploads stay in memory up to the intake cap, whatever the view: query images are never
# written to disk (config/uploads.py). A request body past MAX_REQUEST_BYTES is refused (413)
# from its Content-Length before it is read (config/request_limits.py).
MAX_UPLOAD_BYTES = env.get_int(env.MAX_UPLOAD_BYTES)
MAX_REQUEST_BYTES = int(env.get_optional(env.MAX_REQUEST_BYTES) or MAX_UPLOAD_BYTES + 1_048_576)
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_HANDLERS = ["config.uploads.MemoryOnlyUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

if not DEBUG and ENVIRONMENT == "production":
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
