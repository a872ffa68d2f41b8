import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from config.database import embedded_server

# After a process is killed its server sessions end once the server notices: a short wait.
OTHER_SESSIONS_WAIT_SECONDS = 2.0


def _other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


class Command(BaseCommand):
    help = "Show or stop the embedded PostgreSQL (used when DATABASE_URL is not set)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["status", "stop"])
        parser.add_argument(
            "--if-unused",
            action="store_true",
            help="stop: only when no other process is connected (else leave it running).",
        )

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
        if options["if_unused"] and not self._unused():
            return
        connection.close()
        from pgserver import pg_ctl

        pg_ctl(["-w", "stop"], pgdata=settings.EMBEDDED_PGDATA, user=server.system_user)
        self.stdout.write("stopped the embedded PostgreSQL")

    def _unused(self) -> bool:
        deadline = time.monotonic() + OTHER_SESSIONS_WAIT_SECONDS
        while (others := _other_sessions()) and time.monotonic() < deadline:
            time.sleep(0.1)
        if others:
            self.stdout.write(
                f"left the embedded PostgreSQL running: {others} other connection(s) use it "
                "(`manage.py embedded_db stop` stops it)"
            )
        return not others
