"""Where stored catalog images live: the local folder, or an S3-compatible object store."""

from __future__ import annotations

from config.env.registry import declare

MEDIA_STORAGE = declare(
    "SWATCH_MEDIA_STORAGE",
    "filesystem",
    "`filesystem` (stored images in `SWATCH_MEDIA_ROOT`) or `s3`: an S3-compatible object "
    "store (AWS S3, Cloudflare R2, Google Cloud Storage's XML API, MinIO…) through "
    "django-storages, set by the `SWATCH_S3_*` variables; every node then shares the images.",
)
S3_BUCKET = declare("SWATCH_S3_BUCKET", None, "The bucket of the stored images (`s3` only).")
S3_ENDPOINT_URL = declare(
    "SWATCH_S3_ENDPOINT_URL",
    None,
    "The object store's endpoint (`https://<account>.r2.cloudflarestorage.com`, a MinIO "
    "address). Unset: AWS S3 of `SWATCH_S3_REGION`.",
)
S3_REGION = declare("SWATCH_S3_REGION", None, "The bucket's region (`eu-west-1`).")
S3_ACCESS_KEY_ID = declare(
    "SWATCH_S3_ACCESS_KEY_ID",
    None,
    "Access key of the object store. Unset: boto3's own chain (instance role, AWS_* variables).",
    secret=True,
)
S3_SECRET_ACCESS_KEY = declare(
    "SWATCH_S3_SECRET_ACCESS_KEY", None, "Secret of that access key.", secret=True
)
S3_PREFIX = declare(
    "SWATCH_S3_PREFIX", "", "A folder in the bucket for this deployment's images (`swatch/`)."
)
MEDIA_CDN_DOMAIN = declare(
    "SWATCH_MEDIA_CDN_DOMAIN",
    None,
    "A CDN host in front of the bucket (`media.example.com`): public catalogs' image URLs "
    "point there, unsigned (give the CDN read access to the public prefixes only, never "
    "`private/`: docs/DEPLOYMENT.md). Unset: signed URLs to the bucket itself.",
)
S3_URL_SECONDS = declare(
    "SWATCH_S3_URL_SECONDS",
    "3600",
    "How long a signed image URL stays valid (no CDN domain).",
)
PRIVATE_MEDIA_URL_SECONDS = declare(
    "SWATCH_PRIVATE_MEDIA_URL_SECONDS",
    "3600",
    "How long a private catalog's image URL (signed `/media/…?expires=&signature=`, or S3 "
    "presigned) stays valid at least; on the file system it stays the same for that long, "
    "so browsers cache it.",
)
MEDIA_SENDFILE = declare(
    "SWATCH_MEDIA_SENDFILE",
    "",
    "Who sends a stored image's bytes once Django has checked who may see it (file system "
    "storage): empty, Django itself; `x-accel-redirect`, nginx (from the `internal` location "
    "`SWATCH_MEDIA_INTERNAL_URL`); `x-sendfile`, Apache's mod_xsendfile or lighttpd (the "
    "file's path). Never serve `SWATCH_MEDIA_ROOT` directly: private catalogs' images are in it.",
)
MEDIA_INTERNAL_URL = declare(
    "SWATCH_MEDIA_INTERNAL_URL",
    "/internal-media/",
    "With `x-accel-redirect`: the nginx `internal` location aliased to `SWATCH_MEDIA_ROOT`.",
)
