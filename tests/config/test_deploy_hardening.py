"""Production hardening: `check --deploy` passes with the production environment that
docs/DEPLOYMENT.md documents (read from the document, so the two cannot drift); HTTPS only
behind a trusted proxy; a Content-Security-Policy on pages."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
HEADING = "### The production environment"


def documented_production_environment() -> dict[str, str]:
    """The `env` block under the heading in docs/DEPLOYMENT.md; `<…>` values are secrets the
    operator chooses: a random one each."""
    text = (ROOT / "docs" / "DEPLOYMENT.md").read_text()
    assert HEADING in text
    block = re.search(r"```env\n(.*?)```", text.split(HEADING, 1)[1], re.S)
    assert block, "no ```env block under the heading"
    values = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = secrets.token_urlsafe(48) if value.startswith("<") else value
    return values


def _check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SWATCH_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**clean, **environment}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_check_deploy_passes_with_the_documented_production_environment():
    environment = documented_production_environment()
    assert environment["SWATCH_ENV"] == "production"
    result = _check_deploy(environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_fails_when_production_turns_https_off():
    # the check is real: the same environment with the redirect and secure cookies off fails
    environment = {
        **documented_production_environment(),
        "SWATCH_SSL_REDIRECT": "false",
        "SWATCH_SECURE_COOKIES": "false",
    }
    result = _check_deploy(environment)
    assert result.returncode != 0
    for code in ("security.W008", "security.W012", "security.W016"):
        assert code in result.stdout + result.stderr


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.TRUSTED_PROXIES = ("10.0.0.5",)


@pytest.mark.django_db
def test_a_plain_request_is_redirected_to_https_whatever_header_it_brings(client, https_only):
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.django_db
def test_https_ended_by_a_trusted_proxy_is_served_with_hsts(client, https_only):
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_health_probes_answer_over_plain_http(client, https_only):
    assert client.get("/healthz", REMOTE_ADDR="10.0.0.9").status_code in (200, 503)


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_scripts(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def _import_wsgi(var_dir: Path) -> subprocess.CompletedProcess:
    environment = {
        **documented_production_environment(),
        "SWATCH_VAR_DIR": str(var_dir),
        "SWATCH_SSL_REDIRECT": "false",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SWATCH_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT, env={**clean, **environment}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_a_production_server_without_its_static_manifest_refuses_to_start_and_says_why(tmp_path):
    result = _import_wsgi(tmp_path / "var")
    assert result.returncode != 0
    assert "static files are not built" in result.stderr
    assert "collectstatic --noinput" in result.stderr
    # once the manifest is there, it starts
    (tmp_path / "var" / "static" / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    assert _import_wsgi(tmp_path / "var").returncode == 0
