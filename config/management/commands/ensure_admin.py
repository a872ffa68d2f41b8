import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create a superuser 'admin' with a fresh random password when there is no superuser yet, "
        "and print the login (the run command repeats it in its final banner)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **options) -> None:
        users = get_user_model()
        existing = users.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            name = existing.get_username()
            self.stdout.write(
                f"login: {name} (made earlier, password shown then; a new one: "
                f".venv/bin/python manage.py changepassword {name})"
            )
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(options["username"], "", password)
        self.stdout.write(f"login: {options['username']} / {password} (created now)")
