"""Shared fixtures. The tests run on the embedded PostgreSQL + pgvector (or DATABASE_URL)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

os.environ.setdefault("SWATCH_ENV", "test")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "materials"
if not SHARED_DATA.is_dir():  # the project may also sit beside shared/ under another name
    SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "materials"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Stored images go to a temporary folder, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True, scope="session")
def _strategy_threads_closed(django_db_setup):
    """The search's strategy threads hold connections to the test database: closed before
    it is dropped."""
    yield
    from search.side_by_side import side_by_side_close

    side_by_side_close()


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
