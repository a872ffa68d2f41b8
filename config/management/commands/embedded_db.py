from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.database import embedded_server


class Command(BaseCommand):
    help = "Show or stop the embedded PostgreSQL (used when DATABASE_URL is not set)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, *args, **options) -> None:
        if settings.DATABASES["default"].get("ENGINE") and not str(
            settings.DATABASES["default"].get("HOST", "")
        ).startswith("/"):
            raise CommandError("DATABASE_URL is set: there is no embedded server to manage.")
        server = embedded_server(settings.EMBEDDED_PGDATA)
        info = server.get_postmaster_info()
        if options["action"] == "status":
            self.stdout.write(
                f"running: pid {info.pid}, data {settings.EMBEDDED_PGDATA}, "
                f"socket {info.socket_dir}"
            )
            return
        from pgserver import pg_ctl

        pg_ctl(["-w", "stop"], pgdata=settings.EMBEDDED_PGDATA, user=server.system_user)
        self.stdout.write("stopped")
