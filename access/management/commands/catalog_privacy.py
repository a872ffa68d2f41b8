"""`manage.py catalog_privacy <catalog> private|public`: make a catalog private or public and
move its stored files to the prefix that goes with it (access/privacy.py). Run it again after
a failure to finish the move."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from access.privacy import catalog_privacy_set
from materials.models import Catalog


class Command(BaseCommand):
    help = "Make a catalog private or public (its files move to the matching prefix)."

    def add_arguments(self, parser):
        parser.add_argument("catalog", help="the catalog's name")
        parser.add_argument("privacy", choices=("private", "public"))

    def handle(self, *args, **options):
        catalog = Catalog.objects.filter(name=options["catalog"]).first()
        if catalog is None:
            raise CommandError(f"no catalog {options['catalog']!r}")
        change = catalog_privacy_set(catalog=catalog, private=options["privacy"] == "private")
        self.stdout.write(
            f"{catalog.name}: {options['privacy']}, {change.images_moved} image(s) moved"
        )
