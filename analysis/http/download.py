"""Downloading a catalog image from a URL (`import_catalog` with a `url` column, the catalog
API), refusing what would make Swatch a proxy into its own network (SSRF).

- only `http` and `https`; at most `max_redirects` redirects, each followed by hand and checked
  like the first URL;
- the host is resolved first and refused when any of its addresses is private, loopback,
  link-local, multicast, reserved or unspecified (10.0.0.1, 127.0.0.1, 169.254.169.254, a name
  resolving to one…); the address actually connected to is checked again before the request
  is sent (`_PeerChecked`: a name that resolves differently the second time gains nothing). Hosts in
  `allowed_hosts` (an intranet; the tests' local server) skip the address check;
- connect/read timeouts, a bound on the total time, bounded retries with full-jitter backoff on
  timeouts, refused connections, 408/429/5xx;
- `Content-Length` above `max_bytes` is refused before the body is read, and the body is read
  in chunks and abandoned as soon as it passes `max_bytes`.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from analysis.resilience.backoff import backoff_delay

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "swatch/1.0 (+catalog import)"


class DownloadError(Exception):
    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


@dataclass(frozen=True)
class DownloadPolicy:
    max_bytes: int = 25 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_total_seconds: float = 60.0
    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 5.0
    max_redirects: int = 3
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls) -> DownloadPolicy:
        conf = settings.SWATCH["URL_IMPORT"]
        return cls(
            max_bytes=int(conf["MAX_BYTES"]),
            connect_timeout=float(conf["CONNECT_TIMEOUT"]),
            read_timeout=float(conf["READ_TIMEOUT"]),
            max_total_seconds=3 * float(conf["READ_TIMEOUT"]),
            max_attempts=max(1, int(conf["MAX_ATTEMPTS"])),
            allowed_hosts=frozenset(h.lower() for h in conf["ALLOWED_HOSTS"]),
        )


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def checked_url(url: str, policy: DownloadPolicy) -> str:
    """`url` if it may be fetched; else `DownloadError` saying why. Resolves the host."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise DownloadError("url_scheme", f"only http and https URLs are fetched, not {url!r}.")
    host = (parts.hostname or "").lower()
    if not host:
        raise DownloadError("url_invalid", f"{url!r} names no host.")
    if host in policy.allowed_hosts:
        return url
    try:
        infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise DownloadError("url_unresolved", f"{host} does not resolve ({exc}).") from exc
    blocked = sorted({info[4][0] for info in infos if _blocked(info[4][0])})
    if blocked:
        raise DownloadError(
            "url_blocked",
            f"{host} is a private, loopback or link-local address ({', '.join(blocked)}): "
            "not fetched (SWATCH_URL_IMPORT_ALLOWED_HOSTS allows an intranet host).",
        )
    return url


class _PeerChecked:
    """A urllib3 connection that checks the address it connected to before any byte of the
    request is sent (a name that resolves elsewhere the second time gains nothing)."""

    allowed: frozenset[str] = frozenset()

    def connect(self) -> None:
        super().connect()
        if self.host.lower() in self.allowed:
            return
        address = self.sock.getpeername()[0]
        if _blocked(address):
            self.close()
            raise DownloadError("url_blocked", f"{self.host} connected to {address}: not fetched.")


def _session(policy: DownloadPolicy) -> requests.Session:
    """A session whose connections are `_PeerChecked`; retries and redirects are ours."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(max_retries=0)
    classes = {}
    for scheme, pool, connection in (
        ("http", HTTPConnectionPool, HTTPConnection),
        ("https", HTTPSConnectionPool, HTTPSConnection),
    ):
        checked = type(f"Checked{connection.__name__}", (_PeerChecked, connection), {})
        checked.allowed = policy.allowed_hosts
        classes[scheme] = type(f"Checked{pool.__name__}", (pool,), {"ConnectionCls": checked})
    adapter.poolmanager.pool_classes_by_scheme = classes
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _body(response: requests.Response, policy: DownloadPolicy) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise DownloadError(
            "too_large", f"the image is {int(declared)} bytes, more than {policy.max_bytes}."
        )
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > policy.max_bytes:
            raise DownloadError("too_large", f"the image is more than {policy.max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _once(session: requests.Session, url: str, policy: DownloadPolicy, deadline: float) -> bytes:
    """One attempt, following redirects by hand (each hop checked)."""
    for _ in range(policy.max_redirects + 1):
        checked_url(url, policy)
        read = max(min(policy.read_timeout, deadline - time.monotonic()), 0.05)
        with session.get(
            url, timeout=(policy.connect_timeout, read), stream=True, allow_redirects=False
        ) as response:
            if response.status_code in REDIRECTS and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status_code != 200:
                raise DownloadError(
                    "http_status",
                    f"{url} answered {response.status_code}.",
                    retryable=response.status_code in RETRY_STATUSES,
                )
            return _body(response, policy)
    raise DownloadError("too_many_redirects", f"more than {policy.max_redirects} redirects.")


def url_fetch(
    url: str,
    *,
    policy: DownloadPolicy | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """The bytes at `url`, or `DownloadError` (code, message) once retries are spent."""
    policy = policy or DownloadPolicy.from_settings()
    own = session is None
    session = session or _session(policy)
    deadline = time.monotonic() + policy.max_total_seconds
    try:
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return _once(session, url, policy, deadline)
            except requests.Timeout as exc:
                error = DownloadError(
                    "timeout", f"{url}: no answer in time ({exc}).", retryable=True
                )
            except requests.ConnectionError as exc:
                error = DownloadError("connection_error", f"{url}: {exc}"[:300], retryable=True)
            except requests.RequestException as exc:
                raise DownloadError("url_invalid", f"{url}: {exc}"[:300]) from exc
            except DownloadError as exc:
                error = exc
            wait = backoff_delay(attempt=attempt, base=policy.backoff_base, cap=policy.backoff_max)
            if not error.retryable or attempt == policy.max_attempts:
                raise error
            if time.monotonic() + wait >= deadline:
                raise DownloadError(error.code, f"{error.message} (out of time)")
            sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        if own:
            session.close()


def catalog_fetch(url: str) -> bytes:
    """`url_fetch` as the catalog's importer calls it: a refusal is an `ImageIntakeError`."""
    from materials.errors import ImageIntakeError

    try:
        return url_fetch(url)
    except DownloadError as exc:
        raise ImageIntakeError(exc.code, exc.message) from exc
