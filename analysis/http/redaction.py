"""Logs without secrets: `redact` takes known secret values, bearer tokens, key=value
credentials and base64 image payloads out of a text; `RedactingFilter`, installed on the
`swatch.http` logger, applies it to whatever is logged there (an exception's text too)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

logger = logging.getLogger("swatch.http")

_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,[A-Za-z0-9+/=_-]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',}]+")
_KEY_FIELD = re.compile(
    r"(?i)([\"']?(?:api[_-]?key|authorization|x-api-key|access[_-]?token|secret)[\"']?"
    r"\s*[:=]\s*[\"']?)[^\s\"',}&]+"
)


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """`text` with secrets and image payloads removed: known secret values, bearer tokens,
    key=value / "key": "value" credentials and base64 data URLs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _DATA_URL.sub(lambda m: f"data:{m.group(1)};base64,[{len(m.group(0))} chars]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _KEY_FIELD.sub(r"\1[redacted]", text)


class RedactingFilter(logging.Filter):
    """Installed on the `swatch.http` logger: whatever is logged there, by whom, leaves
    without secrets, even from an exception text that echoes a request."""

    def __init__(self, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message, secrets=self._secrets())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), secrets=self._secrets()
            )
            record.exc_info = None
        return True


_KNOWN_SECRETS: set[str] = set()
_FILTER = RedactingFilter(lambda: tuple(_KNOWN_SECRETS))
if not any(isinstance(f, RedactingFilter) for f in logger.filters):
    logger.addFilter(_FILTER)


def secrets_known(secrets: Iterable[str]) -> None:
    """Secret values (a provider's key) the logger's filter takes out from now on."""
    _KNOWN_SECRETS.update(s for s in secrets if s)
