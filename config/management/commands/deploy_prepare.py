from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Prepare the database for a new release, once per deployment (the Procfile's `release` "
        "process, the compose file's `release` service): migrate, and create the database "
        "cache table (used without Redis). Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("createcachetable", verbosity=verbosity)
        self.stdout.write("release prepared: migrated, cache table present")
