"""The search domain's one exception: the API maps it to a 4xx JSON error, commands to a
message."""

from __future__ import annotations


class SearchError(Exception):
    """A query Swatch refuses, with a stable `code`, a message for people and the field at
    fault (dotted, e.g. `filters.colour`), so a client can point at it."""

    def __init__(
        self, code: str, message: str, *, field: str | None = None, status: int = 400
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
