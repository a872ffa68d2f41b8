"""Query images: the bytes a request sent, decoded in memory by the intake rules
(`materials.intake`: formats, byte and pixel caps, orientation) and never stored. The API's
image field, the pages' upload and inline preview and the evaluation all decode here."""

from __future__ import annotations

import base64

from materials.intake import image_decode, sha256_hex
from search.query import QueryImage


def query_image_decode(raw: bytes) -> QueryImage:
    """The image of these bytes (`ImageIntakeError` when the intake refuses them), named by
    the hash of the bytes as received: its cached vectors and analysis key on it."""
    return QueryImage(pixels=image_decode(data=raw), sha256=sha256_hex(raw))


def base64_bytes(text: str) -> bytes:
    """Base64 text, with or without a `data:` URL's header, as bytes (`ValueError` when it is
    not base64)."""
    body = text.split(",", 1)[1] if text.startswith("data:") else text
    return base64.b64decode(body, validate=True)  # binascii.Error is a ValueError
