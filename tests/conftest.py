"""Shared fixtures. The tests run on the embedded PostgreSQL + pgvector (or DATABASE_URL)."""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

os.environ.setdefault("SWATCH_ENV", "test")

# Fixtures shared across test folders: the search tests' catalog and providers (used by the
# API and reliability tests too) and the embedding-model registry (analysis and reliability).
pytest_plugins = ("tests.search.catalog_support", "tests.analysis.registry_support")


def _live_media_through_the_project() -> None:
    """Django's live server puts a test-only handler in front of the project that serves
    MEDIA_ROOT to anyone; turned off, `/media/` goes through the project's own view as in
    production (access/views.py: private catalogs' files only for those who may see them)."""
    from django.test import testcases

    testcases._MediaFilesHandler._should_handle = lambda self, path: False


_live_media_through_the_project()

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "materials"
if not SHARED_DATA.is_dir():  # the project may also sit beside shared/ under another name
    SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "materials"


ML_REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements-ml.txt"
ML_MODULES = ("torch", "transformers")


@pytest.hookimpl(trylast=True)  # after -k / -m have deselected what does not run
def pytest_collection_modifyitems(session, config, items) -> None:
    """torch and transformers (requirements-ml.txt, a large download) are installed only when
    a selected test needs them (`needs_ml`) and they are missing."""
    if not any(item.get_closest_marker("needs_ml") for item in items):
        return
    if all(importlib.util.find_spec(name) for name in ML_MODULES):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"installing {ML_REQUIREMENTS.name} for the tests marked needs_ml")
    subprocess.run(  # noqa: S603 - this interpreter's pip, our own requirements file
        [sys.executable, "-m", "pip", "install", "-q", "-r", str(ML_REQUIREMENTS)], check=True
    )
    importlib.invalidate_caches()


@pytest.fixture(autouse=True)
def _outbound_limits_per_test(settings):
    """No outbound limits unless a test sets its own (`tests/analysis/limits_support.py`): the
    suite's many fake-provider calls must not share one real minute's budget."""
    settings.SWATCH_LIMITS = {**settings.SWATCH_LIMITS, "PROVIDERS": {}}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Stored images go to a temporary folder, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True, scope="session")
def _strategy_threads_closed(django_db_setup):
    """The search's strategy and background threads hold connections to the test database:
    closed before it is dropped."""
    yield
    from search.background import background_close
    from search.side_by_side import side_by_side_close

    side_by_side_close()
    background_close()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def make_image_bytes(
    size: tuple[int, int] = (64, 48), color=(120, 80, 40), fmt: str = "PNG", **save_kwargs
) -> bytes:
    image = Image.new("RGB", size, color)
    # A little structure, so that encoders do not collapse the image to nothing.
    for x in range(0, size[0], 8):
        for y in range(size[1]):
            image.putpixel((x, y), (255 - color[0], 255 - color[1], 255 - color[2]))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


@pytest.fixture
def image_bytes():
    return make_image_bytes
