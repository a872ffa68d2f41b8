"""Downloading catalog images from URLs (`analysis.http.download`): SSRF refusals, redirects
checked hop by hop, the size cap before the body is read, retries and timeouts. Real HTTP to a
local server on loopback; private addresses are refused before any connection is made."""

from __future__ import annotations

import socket

import pytest

from analysis.http.download import DownloadError, DownloadPolicy, url_fetch
from tests.conftest import make_image_bytes
from tests.fakes.image_server import image_server

PNG = make_image_bytes()
LOCAL = frozenset({"127.0.0.1"})  # the tests' server, allowed as an intranet host would be


@pytest.fixture
def server():
    with image_server({"a.png": PNG}) as running:
        yield running


def _refused(url: str, code: str = "url_blocked", **policy) -> DownloadError:
    with pytest.raises(DownloadError) as raised:
        url_fetch(url, policy=DownloadPolicy(**policy), sleep=lambda s: None)
    assert raised.value.code == code, raised.value.message
    return raised.value


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://10.0.0.1/x.png",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url):
    error = _refused(url)
    assert "private, loopback or link-local" in error.message


def test_the_local_server_is_refused_unless_allow_listed(server):
    # given the tests' own server on loopback, when it is not allow-listed, then it is refused
    # and never reached
    _refused(server.image_url("a.png"))
    assert server.hits["/img/a.png"] == 0
    # when it is allow-listed, then it serves
    assert url_fetch(server.image_url("a.png"), policy=DownloadPolicy(allowed_hosts=LOCAL)) == PNG


def test_a_host_name_that_resolves_to_a_private_address_is_refused(server, monkeypatch):
    # a real name for loopback: localhost (the allow-list names 127.0.0.1, not it)
    _refused(server.image_url("a.png").replace("127.0.0.1", "localhost"), allowed_hosts=LOCAL)
    assert server.hits["/img/a.png"] == 0

    # and an intranet name: this machine has no DNS server to hold one, so the resolver
    # answers 10.1.2.3 for it here (the only stand-in in this file)
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "images.intranet.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    error = _refused("http://images.intranet.example/a.png")
    assert "10.1.2.3" in error.message


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data", "http://localhost:{port}/img/a.png"]
)
def test_a_redirect_to_a_private_address_is_refused(server, target):
    # given an allowed server that redirects to a private address
    port = server.url.rsplit(":", 1)[1]
    url = f"{server.url}/redirect?to={target.format(port=port)}"
    # when it is fetched, then the redirect is followed only as far as the check
    _refused(url, allowed_hosts=LOCAL)
    assert server.hits["/redirect"] == 1
    assert server.hits["/img/a.png"] == 0


def test_a_redirect_to_an_allowed_host_is_followed(server):
    url = f"{server.url}/redirect?to={server.image_url('a.png')}"
    assert url_fetch(url, policy=DownloadPolicy(allowed_hosts=LOCAL)) == PNG


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(url):
    error = _refused(url, code="url_scheme")
    assert "only http and https" in error.message


def test_an_answer_over_the_size_cap_is_refused_before_its_body_is_read(server):
    # a declared length over the cap: refused from the header
    error = _refused(f"{server.url}/declared-huge", "too_large", allowed_hosts=LOCAL)
    assert "1000000000 bytes" in error.message
    # a body without a length: abandoned once it passes the cap
    error = _refused(f"{server.url}/endless", "too_large", allowed_hosts=LOCAL, max_bytes=200_000)
    assert "more than 200000 bytes" in error.message


def test_a_failing_server_is_tried_again_and_a_silent_one_times_out(server):
    waits: list[float] = []
    policy = DownloadPolicy(allowed_hosts=LOCAL, max_attempts=3)
    # 503 once, then the image
    assert url_fetch(f"{server.url}/flaky", policy=policy, sleep=waits.append) == PNG
    assert (server.hits["/flaky"], len(waits)) == (2, 1)
    # a server that never answers: each attempt ends at the read timeout, then it gives up
    silent = DownloadPolicy(allowed_hosts=LOCAL, max_attempts=2, read_timeout=0.2)
    with pytest.raises(DownloadError) as raised:
        url_fetch(f"{server.url}/silent", policy=silent, sleep=waits.append)
    assert raised.value.code == "timeout"
    assert server.hits["/silent"] == 2


def test_a_name_that_resolves_elsewhere_when_connecting_is_refused_at_the_connection(
    server, monkeypatch
):
    # given a name that resolves to a public address when checked and to loopback when
    # connected to (DNS rebinding: no DNS server here to stage it, so the resolver answers
    # the first time for it, then the real loopback address)
    real = socket.getaddrinfo
    answers = iter([("93.184.216.34", 80)])
    port = int(server.url.rsplit(":", 1)[1])

    def resolve(host, *args, **kwargs):
        if host == "rebinding.example":
            address = next(answers, ("127.0.0.1", port))
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", address)]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    # when it is fetched, then the connection's own address is refused before the request
    error = _refused(f"http://rebinding.example:{port}/img/a.png", max_attempts=1)
    assert "connected to 127.0.0.1" in error.message
    assert server.hits["/img/a.png"] == 0
