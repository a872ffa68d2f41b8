"""Request parsers of the API. JSON nested deeper than Python's recursion limit makes the
standard library raise `RecursionError` (a 500 before this): here it is a 400 like any other
malformed body. Sizes are bounded before parsing (config/request_limits.py) and each field's
depth and counts after it (search/bounds.py)."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
