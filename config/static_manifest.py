"""A production web process serves static files from WhiteNoise's manifest (hashed names,
built by `collectstatic`). Without the manifest every page would be a 500 (and stay one after a
late `collectstatic`, the storage having read no manifest); so the process refuses to start and
says what to run."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages


def static_manifest_require() -> None:
    if not isinstance(storages["staticfiles"], ManifestFilesMixin):
        return  # development and tests: files served as they are
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.is_file():
        raise ImproperlyConfigured(
            f"The static files are not built: {manifest} is missing. Run `python manage.py "
            "collectstatic --noinput` (the image's static stage and `./swatch up` do) before "
            "starting the web server."
        )
