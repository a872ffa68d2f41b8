"""Every answer to a request made with an API key is counted for the key's usage alerts
(access/alerts.py); counting never fails the answer."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from access.alerts import usage_record
from config.client_address import client_address

logger = logging.getLogger("swatch.access")


class KeyUsageMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        key = getattr(request, "swatch_api_key", None)  # access.authentication
        if key is not None:
            try:
                usage_record(key=key, address=client_address(request), status=response.status_code)
            except DatabaseError as exc:
                logger.warning("key usage not counted (%s)", exc.__class__.__name__)
        return response
