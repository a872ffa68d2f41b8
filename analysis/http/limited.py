"""The HTTP session of a model API, with its limits checked before every request (retries
included: each one is a request the provider counts). The money budget is checked once per
call, by `analysis.providers.fallback.guarded_call`."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings

from analysis.limits.estimate import request_amounts, used_tokens
from analysis.limits.outbound import outbound_reserve, outbound_settle

logger = logging.getLogger("swatch.limits")


class LimitedSession(requests.Session):
    """`requests.Session` whose JSON POSTs first pass the provider's limits."""

    def __init__(self, provider: str) -> None:
        super().__init__()
        self.provider = provider

    def post(self, url: str, data: Any = None, json: Any = None, **kwargs: Any):  # noqa: A002
        payload = json if isinstance(json, dict) else {}
        amounts = request_amounts(payload, image_tokens=settings.SWATCH_LIMITS["IMAGE_TOKENS"])
        reservation = outbound_reserve(self.provider, requests=1, **amounts)
        response = super().post(url, data=data, json=json, **kwargs)
        if reservation is not None and "tokens" in reservation.amounts:
            tokens = 0  # a refused request used none
            if response.ok:
                try:
                    tokens = used_tokens(response.json())
                except ValueError:
                    tokens = None  # not JSON: the estimate stands
            outbound_settle(reservation, tokens=tokens)
        return response
