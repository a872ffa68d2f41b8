"""Image intake (catalog and query images) and the demo catalog."""

from __future__ import annotations

from config.env.registry import declare

# --- image intake ---------------------------------------------------------------------
MAX_IMAGE_PIXELS = declare(
    "SWATCH_MAX_IMAGE_PIXELS",
    "40000000",
    "Most pixels (width × height) an image is decoded to: a bigger PNG or WebP is refused "
    "before it is decoded; a bigger JPEG (a 48–54 MP phone photo) is decoded at 1/2, 1/4 or "
    "1/8 of each side (JPEG draft mode) to fit, and refused if even that does not. Pillow's "
    "own bomb guard refuses anything over ~179 MP.",
)
MAX_UPLOAD_BYTES = declare(
    "SWATCH_MAX_UPLOAD_BYTES", "26214400", "Largest accepted image file, in bytes (25 MiB)."
)
MIN_IMAGE_SIDE = declare("SWATCH_MIN_IMAGE_SIDE", "16", "Smallest accepted width or height.")
STORED_IMAGE_MAX_SIDE = declare(
    "SWATCH_STORED_IMAGE_MAX_SIDE",
    "2048",
    "Stored images are scaled down to this long side (the original is not kept).",
)
ALLOWED_IMAGE_FORMATS = declare(
    "SWATCH_ALLOWED_IMAGE_FORMATS",
    "JPEG,PNG,WEBP",
    "Image formats accepted, by Pillow format name.",
)

DECODE_MEMORY_MB = declare(
    "SWATCH_DECODE_MEMORY_MB",
    "512",
    "Decoded-image memory one process may hold at once (MiB; width × height × 4 bytes each, "
    "reserved from the header before decoding). Uploads past it wait for the decoder instead "
    "of piling up in memory; an image larger than all of it waits to decode alone.",
)

# --- demo -----------------------------------------------------------------------------
DEMO_CATALOG = declare(
    "SWATCH_DEMO_CATALOG", "demo", "Catalog name the run command imports the demo images into."
)

# --- images from URLs (import_catalog's `url` column, the catalog API) ----------------
URL_IMPORT_ALLOWED_HOSTS = declare(
    "SWATCH_URL_IMPORT_ALLOWED_HOSTS",
    "",
    "Comma-separated host names that image URLs may name even though they resolve to a "
    "private, loopback or link-local address (an intranet image server). Every other such "
    "address is refused (SSRF), as are schemes other than http and https.",
)
URL_IMPORT_CONCURRENCY = declare(
    "SWATCH_URL_IMPORT_CONCURRENCY", "4", "Image downloads of one import at a time."
)
URL_IMPORT_CONNECT_TIMEOUT = declare(
    "SWATCH_URL_IMPORT_CONNECT_TIMEOUT", "5", "Seconds to connect to an image URL's server."
)
URL_IMPORT_READ_TIMEOUT = declare(
    "SWATCH_URL_IMPORT_READ_TIMEOUT",
    "20",
    "Seconds an image server may stay silent; a download also ends after three times this.",
)
URL_IMPORT_MAX_ATTEMPTS = declare(
    "SWATCH_URL_IMPORT_MAX_ATTEMPTS",
    "3",
    "Tries of one download (timeouts, refused connections, 408/429/5xx), with jittered backoff.",
)
