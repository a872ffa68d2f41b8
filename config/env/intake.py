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

# --- demo -----------------------------------------------------------------------------
DEMO_CATALOG = declare(
    "SWATCH_DEMO_CATALOG", "demo", "Catalog name the run command imports the demo images into."
)
