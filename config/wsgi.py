import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.static_manifest import static_manifest_require  # noqa: E402 - after setup

static_manifest_require()  # a production server without its static files does not start
