"""Bounds of everything a search request carries, checked before any work starts: sizes,
nesting depth, counts, integer ranges and NUL bytes (which Postgres text cannot hold). What
breaks one is a `SearchError` naming the field, never a 500 or a slow query: a thousand
colours are refused, not compared."""

from __future__ import annotations

from typing import Any

from search.errors import SearchError

BIGINT_MAX = 2**63 - 1  # ids are Postgres bigints
MAX_RESULTS_DEPTH = 400  # limit × page: the deepest result a search ranks (20 pages of 20)
MAX_FILTER_VALUES = 20  # values of one list filter (catalogs, categories, colours…)
MAX_JSON_DEPTH = 5  # nesting of the filters object (`filters.properties.a.b…`)
MAX_JSON_ITEMS = 50  # keys and list items in all of one filter object
MAX_STRING = 200  # characters of one string inside filters


def _too(field: str, message: str) -> SearchError:
    return SearchError("out_of_bounds", message, field=field)


def text_check(value: str, *, field: str, max_length: int = MAX_STRING) -> str:
    if "\x00" in value:
        raise SearchError("invalid_character", f"{field} contains a NUL byte.", field=field)
    if len(value) > max_length:
        raise _too(field, f"{field} is longer than {max_length} characters.")
    return value


def id_check(value: Any, *, field: str) -> int:
    """A database id: an integer from 1 to the bigint maximum."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= BIGINT_MAX:
        raise SearchError(
            "invalid_id", f"{field} must be an id from 1 to {BIGINT_MAX}.", field=field
        )
    return value


def catalog_ref(item: Any, *, field: str) -> int | str:
    """A catalog by id (an integer, or a string of the digits 0-9) or by name."""
    if isinstance(item, bool) or not isinstance(item, int | str) or item == "":
        raise SearchError(
            "invalid_filter",
            f"{field} must be a catalog id or name, or a list of them.",
            field=field,
        )
    if isinstance(item, str) and item.isdigit():
        if not item.isascii():  # "²", "٣": digits to str.isdigit, not to int()
            raise SearchError(
                "invalid_filter", f"{field}: write a catalog id with the digits 0-9.", field=field
            )
        item = int(item)
    return id_check(item, field=field) if isinstance(item, int) else item


def values_check(values: list, *, field: str) -> list:
    if len(values) > MAX_FILTER_VALUES:
        raise _too(field, f"{field} takes at most {MAX_FILTER_VALUES} values.")
    return values


def json_check(value: Any, *, field: str) -> Any:
    """A JSON value from a client: at most `MAX_JSON_DEPTH` deep, `MAX_JSON_ITEMS` keys and
    items in all, `MAX_STRING` characters a string, no NUL byte anywhere (keys included)."""
    budget = [MAX_JSON_ITEMS]

    def walk(node: Any, depth: int, path: str) -> None:
        if depth > MAX_JSON_DEPTH:
            raise _too(path, f"{field} is nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(node, str):
            text_check(node, field=path)
        elif isinstance(node, dict | list):
            budget[0] -= len(node)
            if budget[0] < 0:
                raise _too(path, f"{field} has more than {MAX_JSON_ITEMS} keys and values.")
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                child_path = f"{path}.{key}" if isinstance(node, dict) else path
                if isinstance(key, str):
                    text_check(key, field=child_path)
                walk(child, depth + 1, child_path)
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > BIGINT_MAX:
            raise _too(path, f"{path} is beyond the largest integer Swatch stores.")

    walk(value, 0, field)
    return value


def depth_check(*, limit: int, page: int) -> None:
    if limit * page > MAX_RESULTS_DEPTH:
        raise SearchError(
            "out_of_bounds",
            f"limit × page may be at most {MAX_RESULTS_DEPTH} (results beyond the "
            f"{MAX_RESULTS_DEPTH}th are not ranked).",
            field="page",
        )


def query_check(query: Any, *, max_text: int) -> None:
    """A search query's own fields (its filters and weights are checked as they are parsed)."""
    depth_check(limit=query.limit, page=query.page)
    if query.material_id is not None:
        id_check(query.material_id, field="material_id")
    text_check(query.text, field="text", max_length=max_text)
    text_check(query.negative_text, field="negative_text", max_length=max_text)
