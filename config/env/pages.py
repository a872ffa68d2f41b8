"""The search pages."""

from __future__ import annotations

from config.env.registry import declare

PAGES_PAGE_SIZE = declare(
    "SWATCH_PAGES_PAGE_SIZE",
    "12",
    "Results per page on the search page `/` (the page fetches up to 96 results once and "
    "pages through them by query id).",
)
PAGES_SIMILAR = declare(
    "SWATCH_PAGES_SIMILAR",
    "8",
    "Similar materials shown on a material's page `/materials/{id}/`.",
)
