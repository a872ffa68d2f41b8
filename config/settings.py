"""Django settings. Every value comes from `config.env`, the one module that reads the
environment; see docs/CONFIGURATION.md."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config import env
from config.database import database_config

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "config.apps.SwatchConfig",
    "materials",
    "analysis",
    "search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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

# --- database -----------------------------------------------------------------------------
EMBEDDED_PGDATA = Path(env.get_optional(env.EMBEDDED_PGDATA) or VAR_DIR / "pgdata")
DATABASES = {
    "default": database_config(
        url=env.get_optional(env.DATABASE_URL),
        pgdata=EMBEDDED_PGDATA,
        name=env.get_str(env.DB_NAME),
    )
}
DATABASES["default"]["TEST"] = {
    # A run of its own per process: parallel test runs on one server never collide.
    "NAME": env.get_optional(env.TEST_DB_NAME) or f"test_swatch_{os.getpid()}",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, queue -------------------------------------------------------------------------
REDIS_URL = env.get_optional(env.REDIS_URL)
CACHE_PREFIX = env.get_str(env.CACHE_PREFIX)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_PREFIX,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    # Shared by every process (web, worker, commands), unlike the local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",  # UNLOGGED: migration search.0003
            "KEY_PREFIX": CACHE_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

Q_TIMEOUT = env.get_int(env.Q_TIMEOUT)
Q_RETRY = env.get_int(env.Q_RETRY)
if Q_RETRY <= Q_TIMEOUT:
    raise ImproperlyConfigured("SWATCH_Q_RETRY must be larger than SWATCH_Q_TIMEOUT.")
Q_CLUSTER = {
    "name": env.get_str(env.Q_NAME),
    "workers": env.get_int(env.Q_WORKERS),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": env.get_int(env.Q_MAX_ATTEMPTS),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "sync": env.get_bool(env.Q_SYNC),
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

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
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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

# Uploads stay in memory up to the intake cap: query images are never written to disk.
MAX_UPLOAD_BYTES = env.get_int(env.MAX_UPLOAD_BYTES)
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1_048_576

if not DEBUG and ENVIRONMENT == "production":
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# --- Swatch -------------------------------------------------------------------------------
SWATCH = {
    "MAX_IMAGE_PIXELS": env.get_int(env.MAX_IMAGE_PIXELS),
    "MAX_UPLOAD_BYTES": MAX_UPLOAD_BYTES,
    "MIN_IMAGE_SIDE": env.get_int(env.MIN_IMAGE_SIDE),
    "STORED_IMAGE_MAX_SIDE": env.get_int(env.STORED_IMAGE_MAX_SIDE),
    "ALLOWED_IMAGE_FORMATS": tuple(f.upper() for f in env.get_list(env.ALLOWED_IMAGE_FORMATS)),
    "DEMO_CATALOG": env.get_str(env.DEMO_CATALOG),
}

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Swatch API",
    "DESCRIPTION": "Visual material search: find materials by how they look.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page serves swagger-ui/redoc from static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "swatch": {"handlers": ["console"], "level": env.get_str(env.LOG_LEVEL)},
        "django_q": {"handlers": ["console"], "level": "WARNING"},
    },
}

# --- search -------------------------------------------------------------------------------
# Parsed and checked by `search.conf` (weights "name=value", rates "N/Ss").
SWATCH_SEARCH = {
    "SIMILARITY_THRESHOLD": env.get_float(env.SEARCH_SIMILARITY_THRESHOLD),
    "CANDIDATES": env.get_int(env.SEARCH_CANDIDATES),
    "EF_SEARCH": env.get_int(env.SEARCH_EF_SEARCH),
    "SEMANTIC_EF_SEARCH": env.get_int(env.SEARCH_SEMANTIC_EF_SEARCH),
    "MAX_SCAN_TUPLES": env.get_int(env.SEARCH_MAX_SCAN_TUPLES),
    "EXACT_SCAN_MAX_ROWS": env.get_int(env.SEARCH_EXACT_SCAN_MAX_ROWS),
    "FUSION": env.get_str(env.SEARCH_FUSION),
    "WEIGHTS": env.get_str(env.SEARCH_WEIGHTS),
    "RRF_K": env.get_int(env.SEARCH_RRF_K),
    "VERIFY_TOP": env.get_int(env.SEARCH_VERIFY_TOP),
    "VERIFY_WEIGHT": env.get_float(env.SEARCH_VERIFY_WEIGHT),
    "NEGATIVE_WEIGHT": env.get_float(env.SEARCH_NEGATIVE_WEIGHT),
    "RESULT_CACHE_SECONDS": env.get_int(env.SEARCH_RESULT_CACHE_SECONDS),
    "QUERY_TTL_SECONDS": env.get_int(env.SEARCH_QUERY_TTL_SECONDS),
    "REFINE_WORKERS": env.get_int(env.SEARCH_REFINE_WORKERS),
    "STRATEGY_WORKERS": env.get_int(env.SEARCH_STRATEGY_WORKERS),
    "RATES": {
        "burst": env.get_str(env.SEARCH_RATE_BURST),
        "minute": env.get_str(env.SEARCH_RATE_MINUTE),
        "hour": env.get_str(env.SEARCH_RATE_HOUR),
    },
}
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "search.api.errors.api_exception_handler"

# --- model providers, resilience, cost ledger ---------------------------------------------
# Read by `analysis.providers.factory`, `analysis.http`, `analysis.resilience` and
# `analysis.ledger`; tests override single keys with the `settings` fixture.
SWATCH_PROVIDERS = {
    "VISION": env.get_str(env.VISION_PROVIDER),
    "IMAGE_EMBEDDER": env.get_str(env.IMAGE_EMBEDDER),
    "TEXT_EMBEDDER": env.get_str(env.TEXT_EMBEDDER),
    "VISION_BASE_URL": env.get_str(env.VISION_BASE_URL),
    "VISION_MODEL": env.get_str(env.VISION_MODEL),
    "VISION_API_KEY": env.get_optional(env.VISION_API_KEY),
    "VISION_TIMEOUT": (
        env.get_float(env.VISION_CONNECT_TIMEOUT),
        env.get_float(env.VISION_READ_TIMEOUT),
    ),
    "VISION_MAX_TOKENS": env.get_int(env.VISION_MAX_TOKENS),
    "VISION_IMAGE_MAX_SIDE": env.get_int(env.VISION_IMAGE_MAX_SIDE),
    "CLIP_WEIGHTS_DIR": env.get_optional(env.CLIP_WEIGHTS_DIR),
    "CLIP_REMOTE_URL": env.get_optional(env.CLIP_REMOTE_URL),
    "CLIP_REMOTE_MODEL": env.get_str(env.CLIP_REMOTE_MODEL),
    "CLIP_REMOTE_API_KEY": env.get_optional(env.CLIP_REMOTE_API_KEY),
    "CLIP_TIMEOUT": (env.get_float(env.CLIP_CONNECT_TIMEOUT), env.get_float(env.CLIP_READ_TIMEOUT)),
    "HTTP_MAX_ATTEMPTS": env.get_int(env.HTTP_MAX_ATTEMPTS),
    "HTTP_BACKOFF_BASE": env.get_float(env.HTTP_BACKOFF_BASE),
    "HTTP_BACKOFF_MAX": env.get_float(env.HTTP_BACKOFF_MAX),
    "HTTP_MAX_RETRY_AFTER": env.get_float(env.HTTP_MAX_RETRY_AFTER),
    "HTTP_MAX_TOTAL_SECONDS": env.get_float(env.HTTP_MAX_TOTAL_SECONDS),
    "BREAKER_FAILURES": env.get_int(env.BREAKER_FAILURES),
    "BREAKER_COOLDOWN": env.get_float(env.BREAKER_COOLDOWN),
    "BREAKER_WINDOW": env.get_int(env.BREAKER_WINDOW),
    "BREAKER_CACHE": "default",
    "MODEL_PRICES": env.get_str(env.MODEL_PRICES),
    # The offline providers, by dotted path (built lazily: they load weights on first use).
    "OFFLINE_DESCRIBER": "analysis.providers.offline_analyser.OfflineAnalyser",
    "OFFLINE_IMAGE_EMBEDDER": "analysis.providers.offline_image.EfficientNetLite0Embedder",
    "OFFLINE_TEXT_EMBEDDER": "analysis.providers.offline_text.MiniLMTextEmbedder",
}


# --- ingestion pipeline -------------------------------------------------------------------
SWATCH.update(
    {
        "REVIEW_CONFIDENCE": env.get_float(env.REVIEW_CONFIDENCE),
        "EMBEDDING_CACHE_TTL": env.get_int(env.EMBEDDING_CACHE_TTL),
        "ANALYSIS_CACHE_TTL": env.get_int(env.ANALYSIS_CACHE_TTL),
        "INGEST_BATCH_SIZE": max(1, env.get_int(env.INGEST_BATCH_SIZE)),
        "PIPELINE_PROVIDERS": env.get_str(env.PIPELINE_PROVIDERS),
        "REAP_EVERY_MINUTES": max(1, env.get_int(env.REAP_EVERY_MINUTES)),
        # Called by `import_catalog` with the ids of new images (materials must not import
        # analysis: the dependency points the other way).
        "AFTER_IMPORT": "analysis.services.analysis_queue_for_images",
    }
)

# --- search pages -------------------------------------------------------------------------
SWATCH_PAGES = {
    "PAGE_SIZE": max(1, env.get_int(env.PAGES_PAGE_SIZE)),
    "SIMILAR": max(1, env.get_int(env.PAGES_SIMILAR)),
}

# --- offline models -----------------------------------------------------------------------
# Read by `analysis.offline.weights` (the offline embedders and analyser).
SWATCH_OFFLINE = {
    "THREADS": max(0, env.get_int(env.OFFLINE_THREADS)),
    "BATCH": max(1, env.get_int(env.OFFLINE_BATCH)),
    "WEIGHTS_DIR": env.get_optional(env.OFFLINE_WEIGHTS_DIR),
}

# --- search speed -------------------------------------------------------------------------
# Read by `search.prepared`.
SWATCH_SEARCH["PREPARED_STATEMENTS"] = env.get_bool(env.SEARCH_PREPARED_STATEMENTS)
