"""HTTP calls of the API tests: `requests` with a timeout (a hung server fails the test)."""

from __future__ import annotations

import requests

TIMEOUT = 120


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=TIMEOUT, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return requests.post(url, timeout=TIMEOUT, **kwargs)


def options(url: str, **kwargs) -> requests.Response:
    return requests.options(url, timeout=TIMEOUT, **kwargs)
