"""The one package that talks HTTP out (nothing else imports `requests`; downloads: `.download`).

Each provider gets its own hardened session (`provider_session`; limits first: `.limited`): its
own timeouts, bounded retries with full-jitter exponential backoff that honour the server's
`Retry-After` / `x-ratelimit-reset`, a bound on the total time of one call, and logs without
secrets (Authorization headers, keys, image data URLs). Every failure is a `ProviderError`:

| what happened                         | code             | retried |
|---------------------------------------|------------------|---------|
| connect/read timeout, 408             | timeout          | yes     |
| 429 (Together: dynamic_request_limited)| rate_limited    | yes, after the stated wait |
| 500, 502, 503, 504, refused connection| unavailable / connection_error | yes |
| 401, 403                              | unauthorized     | no      |
| other 4xx                             | bad_request      | no      |
| 2xx that is not JSON                  | bad_response     | no      |

Where each part lives: the session and its retries `.session`, the status table above
`.errors`, the redaction of logs `.redaction`, the outbound limits `.limited`.
"""

from analysis.http.errors import RETRY_STATUSES
from analysis.http.redaction import RedactingFilter, redact
from analysis.http.session import (
    USER_AGENT,
    HttpPolicy,
    JsonResponse,
    ProviderSession,
    provider_session,
)

__all__ = [
    "RETRY_STATUSES",
    "USER_AGENT",
    "HttpPolicy",
    "JsonResponse",
    "ProviderSession",
    "RedactingFilter",
    "provider_session",
    "redact",
]
