"""`manage.py api_keys create|list|rotate|revoke`: API keys from the command line. A made or
rotated key is printed once; only its prefix is known afterwards."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access.models import DEFAULT_SCOPES, ApiKey
from access.selectors import key_status
from access.services import KeySettingsError, key_create, key_revoke, key_rotate
from materials.models import Catalog


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


class Command(BaseCommand):
    help = "Make, list, rotate and revoke API keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a key (printed once)")
        create.add_argument("--name", required=True)
        create.add_argument("--owner", required=True, help="username")
        create.add_argument("--scopes", default=",".join(DEFAULT_SCOPES))
        create.add_argument("--expires-days", type=int, default=None)
        create.add_argument("--ips", default="", help="allowed IPs/CIDRs, comma-separated")
        create.add_argument("--origins", default="", help="allowed web origins, comma-separated")
        create.add_argument("--tier", default="standard")
        create.add_argument("--catalogs", default="", help="private catalogs granted (names)")
        listing = sub.add_parser("list", help="list keys")
        listing.add_argument("--owner", default=None)
        rotate = sub.add_parser("rotate", help="new key; the old one kept for the grace")
        rotate.add_argument("prefix")
        rotate.add_argument("--grace-days", type=float, default=None)
        revoke = sub.add_parser("revoke", help="revoke a key now")
        revoke.add_argument("prefix")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except KeySettingsError as exc:
            raise CommandError(str(exc)) from exc

    def _key(self, prefix: str) -> ApiKey:
        key = ApiKey.objects.filter(prefix=prefix.partition(".")[0]).first()
        if key is None:
            raise CommandError(f"no key with prefix {prefix!r}")
        return key

    def _create(self, options):
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {options['owner']!r}")
        names = _split(options["catalogs"])
        catalogs = list(Catalog.objects.filter(name__in=names))
        missing = sorted(set(names) - {c.name for c in catalogs})
        if missing:
            raise CommandError(f"no catalog {missing[0]!r}")
        days = options["expires_days"]
        issued = key_create(
            name=options["name"],
            owner=owner,
            scopes=_split(options["scopes"]),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            allowed_ips=_split(options["ips"]),
            allowed_origins=_split(options["origins"]),
            tier=options["tier"],
            catalogs=catalogs,
        )
        self.stdout.write(f"key {issued.key.prefix} ({issued.key.name}) for {owner.username}:")
        self.stdout.write(issued.secret)
        self.stderr.write("Store it now: it is not shown again.")

    def _list(self, options):
        keys = ApiKey.objects.select_related("owner").order_by("owner__username", "-created")
        if options["owner"]:
            keys = keys.filter(owner__username=options["owner"])
        for key in keys:
            self.stdout.write(
                f"{key.prefix}\t{key.name}\t{key.owner.username}\t{','.join(key.scopes)}\t"
                f"{key.tier}\t{key_status(key)}"
            )

    def _rotate(self, options):
        key = self._key(options["prefix"])
        days = options["grace_days"]
        issued = key_rotate(key=key, grace=timedelta(days=days) if days is not None else None)
        key.refresh_from_db()
        self.stdout.write(f"new key {issued.key.prefix} ({key.name}):")
        self.stdout.write(issued.secret)
        self.stderr.write(
            f"Store it now. The old key {key.prefix} works until "
            f"{key.expiry_date:%Y-%m-%d %H:%M} UTC."
        )

    def _revoke(self, options):
        key = key_revoke(key=self._key(options["prefix"]))
        self.stdout.write(f"revoked {key.prefix} ({key.name})")
