from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analysis.curation.curators import curator_grant, curator_group_ensure
from analysis.curation.roles import CURATOR_GROUP
from analysis.curation.services import CurationError


class Command(BaseCommand):
    help = (
        f"Create or repair the {CURATOR_GROUP!r} group (exactly the permissions curation "
        "needs) and optionally make users curators (staff + group, never superusers)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--add", nargs="*", default=[], metavar="USERNAME", help="Users to make curators."
        )

    def handle(self, *args, **options) -> None:
        users = []
        for name in options["add"]:
            user = get_user_model().objects.filter(username=name).first()
            if user is None:
                raise CommandError(f"no user named {name!r}.")
            users.append(user)
        try:
            group = curator_group_ensure()
            for user in users:
                curator_grant(user=user)
        except CurationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"group {group.name!r}: {group.permissions.count()} permissions; "
            f"curators added: {', '.join(u.get_username() for u in users) or 'none'}"
        )
