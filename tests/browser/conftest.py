"""Real-browser fixtures: a live server on loopback and headless Debian Chromium (Selenium).

General on purpose (pages and curation tests use them):
- `live_url`: the base URL of a live server that shares the test database. Unlike
  pytest-django's `live_server`, it does not make each test transactional (a flush after every
  test would wipe module-scoped catalogs), so data a test writes stays: tests here create their
  own rows (unique names) or use `analysed_catalog`.
- `browser`: a Chromium driver, one per session, with cookies and window size reset per test;
  `nojs_browser`: the same with JavaScript disabled (the no-JS path).
- `make_user(**fields)`: a committed user (the server thread must see it), deleted after.
- `login(user, driver=browser)`: logs a user in by session cookie (no form round trip).
Tests here must not request `db`: its transaction would hide their rows from the server.
- `analysed_catalog`: a module-scoped catalog of a few real images from shared/data, analysed
  by the real pipeline, synchronously.
- `screenshot(driver, name)`: saves a PNG to a temporary folder, or to the folder
  `SWATCH_SCREENSHOTS_DIR` names (`docs/screenshots` refreshes the README's pictures), so a
  test run leaves the working tree as it was.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test.utils import override_settings

from tests.conftest import SHARED_DATA

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = (1366, 900)
PHONE = (390, 844)
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
# Browser searches would otherwise trip the per-IP limits (all requests come from 127.0.0.1).
REDIS_LOCATION = "redis://127.0.0.1:6379/0"
GENEROUS_RATES = {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "/tests/browser/" in str(item.fspath):
            # `django_db` makes pytest-django create the test database for these tests; the
            # per-test transaction it would bring is switched off below.
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.django_db)


@pytest.fixture
def _django_db_helper(_browser_db) -> None:
    """Overrides pytest-django's per-test transaction for the tests in this folder: the live
    server thread sees committed rows only, so browser tests commit (and use unique names)."""
    return None


@pytest.fixture(scope="session")
def _browser_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The live server thread and module-scoped fixtures reach the test database all session."""
    from django.db import connection

    with django_db_blocker.unblock():
        # Never the development database: only the one pytest-django made for this run.
        assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict
        yield


@pytest.fixture(scope="session")
def _browser_media(_browser_db) -> Iterator[Path]:
    """One media folder for the session: the server must find what module fixtures stored."""
    root = Path(tempfile.mkdtemp(prefix="swatch-browser-media-"))
    search = {**settings.SWATCH_SEARCH, "RATES": GENEROUS_RATES}
    # The shared cache (query state, vectors, rate counts) is Redis, as deployed; keys under a
    # prefix of this run's own, and only those are deleted.
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_LOCATION,
            "KEY_PREFIX": f"swatch-test-browser-{uuid.uuid4().hex[:12]}",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    with override_settings(MEDIA_ROOT=root, SWATCH_SEARCH=search, CACHES=caches):
        from django.core.cache import cache

        yield root
        cache.delete_pattern("*")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _media_root(_browser_media) -> Path:
    """Overrides the per-test media folder of tests/conftest.py (see `_browser_media`)."""
    return _browser_media


@pytest.fixture(scope="session")
def live_url(_browser_media) -> Iterator[str]:
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1:0")
    server._live_server_modified_settings.enable()
    yield server.url
    server._live_server_modified_settings.disable()
    server.stop()


def chromium(*, javascript: bool = True, size: tuple[int, int] = DESKTOP):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='swatch-chromium-')}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def _fresh(driver, live_url: str) -> None:
    driver.set_window_size(*DESKTOP)
    driver.get(f"{live_url}/static/robots.txt")  # any page of the origin, to clear its cookies
    driver.delete_all_cookies()


@pytest.fixture(scope="session")
def _chromium(live_url) -> Iterator:
    driver = chromium()
    yield driver
    driver.quit()


@pytest.fixture
def browser(_chromium, live_url):
    _fresh(_chromium, live_url)
    return _chromium


@pytest.fixture(scope="session")
def _nojs_chromium(live_url) -> Iterator:
    driver = chromium(javascript=False)
    yield driver
    driver.quit()


@pytest.fixture
def nojs_browser(_nojs_chromium, live_url):
    _fresh(_nojs_chromium, live_url)
    return _nojs_chromium


@pytest.fixture
def make_user(_browser_db) -> Iterator[Callable]:
    from django.contrib.auth import get_user_model

    made = []

    def make(**fields):
        fields.setdefault("username", f"user-{uuid.uuid4().hex[:10]}")
        password = fields.pop("password", "a-long-test-password")
        user = get_user_model().objects.create_user(**fields)
        user.set_password(password)
        user.save(update_fields=["password"])
        made.append(user)
        return user

    yield make
    for user in made:
        user.delete()


@pytest.fixture
def login(browser, live_url) -> Callable:
    """`login(user)`: the browser (or `driver=`) is then logged in as `user`."""
    from django.test import Client

    def log_in(user, driver=None) -> None:
        driver = driver or browser
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        driver.get(f"{live_url}/static/robots.txt")
        driver.add_cookie(
            {"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "path": "/"}
        )

    return log_in


@pytest.fixture
def screenshot(tmp_path) -> Callable[[object, str], Path]:
    chosen = os.environ.get("SWATCH_SCREENSHOTS_DIR")
    folder = Path(settings.BASE_DIR) / chosen if chosen else tmp_path

    def save(driver, name: str, *, full_page: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        if full_page:  # the whole results grid, not only the first screen
            size = driver.get_window_size()
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(size["width"], max(height, size["height"]))
            driver.save_screenshot(str(path))
            driver.set_window_size(size["width"], size["height"])
        else:
            driver.save_screenshot(str(path))
        return path

    return save


@dataclass
class AnalysedCatalog:
    catalog: object  # materials.models.Catalog
    materials: dict[str, object]  # file stem → Material
    categories: dict[str, str]  # file stem → labelled category
    files: dict[str, Path]  # file stem → image path


# A few images per category, spread over look-alike and distinct materials.
CATALOG_SAMPLE = {"wood": 3, "brick": 3, "grass": 2, "marble": 2, "fabric": 2, "metal": 2}


DEMO_LABELS = Path(settings.BASE_DIR) / "demo" / "labels.csv"


def _demo_names() -> dict[str, str]:
    """The demo catalog's supplier-style names by file name (the demo is a subset of
    shared/data): the pages, and their screenshots, show names as a catalog gives them."""
    with DEMO_LABELS.open(newline="") as handle:
        return {Path(r["path"]).name: r["name"] for r in csv.DictReader(handle)}


def _sample_rows(shared: Path, per_category: dict[str, int]) -> list[dict[str, str]]:
    with (shared / "labels.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = _demo_names()
    # Named (demo) images first, each with its name; then the others in the file's order.
    rows.sort(key=lambda row: Path(row["path"]).name not in names)
    for row in rows:
        row["name"] = names.get(Path(row["path"]).name, "")
    picked: list[dict[str, str]] = []
    for category, count in per_category.items():
        groups: set[str] = set()
        for row in rows:
            # One image per group: variants of one texture would make the search trivial.
            if row["category"] == category and row["group"] not in groups and len(groups) < count:
                groups.add(row["group"])
                picked.append(row)
    return picked


@pytest.fixture(scope="module")
def analysed_catalog(_browser_media) -> Iterator[AnalysedCatalog]:
    """Real images imported and analysed by the real pipeline; deleted after the module."""
    from analysis.ingest import analysis_run_batch
    from analysis.services import analysis_targets_prepare
    from materials.importer import ImportItem, catalog_import
    from materials.models import Material
    from materials.services import catalog_delete, catalog_get_or_create

    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}")
    rows = _sample_rows(SHARED_DATA, CATALOG_SAMPLE)
    catalog = catalog_get_or_create(name=f"Browser samples {uuid.uuid4().hex[:6]}")
    items = [
        ImportItem(path=SHARED_DATA / r["path"], row={"category": r["category"], "name": r["name"]})
        for r in rows
    ]
    summary = catalog_import(catalog=catalog, items=items)
    assert summary.failed == 0, summary.failures
    ids = analysis_targets_prepare(catalog=catalog)
    run = analysis_run_batch(analysis_ids=ids)
    assert run.failed == 0, run.reasons
    by_file = {
        m.images.first().original_filename.rsplit(".", 1)[0]: m
        for m in Material.objects.filter(catalog=catalog).prefetch_related("images")
    }
    yield AnalysedCatalog(
        catalog=catalog,
        materials=by_file,
        categories={Path(r["path"]).stem: r["category"] for r in rows},
        files={Path(r["path"]).stem: SHARED_DATA / r["path"] for r in rows},
    )
    catalog_delete(catalog=catalog)
