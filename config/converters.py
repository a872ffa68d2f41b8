"""URL converters. `<id:…>`: a database id (1 to the bigint maximum); anything else does not
match the route (a 404), where Django's `<int:…>` would pass 10**30 on to a query."""

from __future__ import annotations

from django.urls import register_converter

BIGINT_MAX = 2**63 - 1


class DatabaseIdConverter:
    regex = "[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > BIGINT_MAX:
            raise ValueError("beyond bigint")  # Django then tries the next route: a 404
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


register_converter(DatabaseIdConverter, "id")
