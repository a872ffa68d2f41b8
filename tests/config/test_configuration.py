"""Configuration: one documented place, production-safe defaults."""

import os
import subprocess
import sys
from pathlib import Path

from config import env
from config.configuration_doc import configuration_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_lists_every_variable_and_is_current():
    doc = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    assert doc == configuration_markdown(), "run: python manage.py config_doc"
    for name in env.REGISTRY:
        assert f"`{name}`" in doc


def test_only_config_env_reads_the_environment():
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "tests", "var", "bench"} or rel.parts[:2] == ("config", "env"):
            continue
        text = path.read_text()
        if "os.environ" in text.replace('os.environ.setdefault("DJANGO_SETTINGS_MODULE"', ""):
            offenders.append(str(rel))
        if "os.getenv" in text:
            offenders.append(str(rel))
    assert offenders == []


def _settings_in_subprocess(**overrides: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SWATCH_")}
    environment.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
         "'config.settings'; from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_in_subprocess(SWATCH_ENV="production", DATABASE_URL="postgres://x@h/db")
    assert result.returncode != 0
    assert "SWATCH_SECRET_KEY is required" in result.stderr


def test_debug_is_off_unless_asked():
    result = _settings_in_subprocess(
        SWATCH_ENV="production", SWATCH_SECRET_KEY="k" * 50, DATABASE_URL="postgres://x@h/db"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_queue_retry_must_exceed_timeout():
    result = _settings_in_subprocess(
        SWATCH_ENV="development", SWATCH_Q_TIMEOUT="300", SWATCH_Q_RETRY="200",
        DATABASE_URL="postgres://x@h/db",
    )  # fmt: skip
    assert result.returncode != 0
    assert "SWATCH_Q_RETRY must be larger" in result.stderr
