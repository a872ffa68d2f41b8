"""Unusual usage of an API key is noticed: a request rate far above the key's own recent
baseline, a spike of errors, a call from a new address of an IP-restricted key, use close to
the key's expiry. Each becomes a `UsageAlert` row (the admin), a WARNING log line, and a mail
to ADMINS and/or a POST to `SWATCH_ALERT_WEBHOOK_URL` when configured; one alert of a kind per
key per `DEDUP` (a day for expiry). Counts are 5-minute buckets per key (`KeyUsageBucket`),
on the clock of config/clock.py (tests move it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.db.models import F

from access.models import ApiKey, KeyAddress, KeyUsageBucket, UsageAlert
from config.clock import clock_now

logger = logging.getLogger("swatch.access")
BUCKET = 300  # seconds
BASELINE_BUCKETS = 12  # the hour before the current bucket
MIN_HISTORY = 3  # buckets with use before a baseline means anything
DEDUP = timedelta(hours=1)


def _now() -> datetime:
    return datetime.fromtimestamp(clock_now(), tz=UTC)


def _bucket(now: datetime) -> datetime:
    start = int(now.timestamp()) // BUCKET * BUCKET
    return datetime.fromtimestamp(start, tz=UTC)


def _count(key: ApiKey, start: datetime, error: bool) -> KeyUsageBucket:
    changes = {"requests": F("requests") + 1, "errors": F("errors") + (1 if error else 0)}
    if not KeyUsageBucket.objects.filter(key=key, start=start).update(**changes):
        try:
            with transaction.atomic():
                KeyUsageBucket.objects.create(key=key, start=start, requests=1, errors=int(error))
        except IntegrityError:  # another request made it first
            KeyUsageBucket.objects.filter(key=key, start=start).update(**changes)
    return KeyUsageBucket.objects.get(key=key, start=start)


def alert_raise(key: ApiKey, kind: str, message: str, now: datetime, **details) -> bool:
    """Record and send an alert, unless one of this kind was raised for the key lately."""
    window = timedelta(days=1) if kind == "near_expiry" else DEDUP
    if UsageAlert.objects.filter(key=key, kind=kind, created_at__gt=now - window).exists():
        return False
    UsageAlert.objects.create(key=key, kind=kind, message=message, details=details, created_at=now)
    text = f"API key {key.prefix} ({key.name}, {key.owner}): {message}"
    logger.warning("usage alert %s: %s", kind, text)
    if settings.ADMINS:
        mail_admins(f"Swatch API key alert: {kind}", text, fail_silently=True)
    url = settings.SWATCH_ALERT_WEBHOOK_URL
    if url:
        payload = {"kind": kind, "key": key.prefix, "name": key.name, "message": message,
                   "details": details, "at": now.isoformat()}  # fmt: skip
        try:
            requests.post(url, json=payload, timeout=5)
        except requests.RequestException as exc:
            logger.warning("usage alert webhook failed: %s", exc.__class__.__name__)
    return True


def _rate_and_errors(key: ApiKey, bucket: KeyUsageBucket, now: datetime) -> None:
    earlier = KeyUsageBucket.objects.filter(
        key=key, start__lt=bucket.start,
        start__gte=bucket.start - timedelta(seconds=BUCKET * BASELINE_BUCKETS),
    ).values_list("requests", flat=True)  # fmt: skip
    history = list(earlier)
    if len(history) >= MIN_HISTORY:
        baseline = sum(history) / BASELINE_BUCKETS
        threshold = max(
            settings.SWATCH_ALERT_RATE_MIN, settings.SWATCH_ALERT_RATE_FACTOR * baseline
        )
        if bucket.requests >= threshold:
            alert_raise(key, "rate_spike", f"{bucket.requests} requests in 5 minutes, against "
                        f"a baseline of {baseline:.1f}", now, requests=bucket.requests,
                        baseline=round(baseline, 2))  # fmt: skip
    share = bucket.errors / bucket.requests
    if (
        bucket.errors >= settings.SWATCH_ALERT_ERROR_MIN
        and share >= settings.SWATCH_ALERT_ERROR_SHARE
    ):
        message = f"{bucket.errors} of {bucket.requests} requests in 5 minutes were errors"
        alert_raise(
            key, "error_spike", message, now, errors=bucket.errors, requests=bucket.requests
        )


def _new_address(key: ApiKey, address: str, now: datetime) -> None:
    if not key.allowed_ips or not address:
        return
    known = key.addresses.exists()
    _, made = KeyAddress.objects.get_or_create(
        key=key, address=address, defaults={"first_seen": now}
    )
    if made and known:
        alert_raise(key, "new_ip", f"used from a new address, {address}", now, address=address)


def _near_expiry(key: ApiKey, now: datetime) -> None:
    if key.expiry_date is None or key.replaced_by_id is not None:
        return  # a rotated key's end is known to its owner
    left = key.expiry_date - now
    if left <= timedelta(days=settings.SWATCH_ALERT_EXPIRY_DAYS):
        message = f"still in use {left.days} days before it expires ({key.expiry_date:%Y-%m-%d})"
        alert_raise(key, "near_expiry", message, now, expires=key.expiry_date.isoformat())


def usage_record(*, key: ApiKey, address: str, status: int) -> None:
    """Count one answered request of `key` and raise what it makes unusual."""
    now = _now()
    bucket = _count(key, _bucket(now), error=status >= 400)
    _rate_and_errors(key, bucket, now)
    _new_address(key, address, now)
    _near_expiry(key, now)
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
