"""The curator role: the group with exactly `CURATOR_PERMISSIONS`, and making people curators."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from django.db.models import Q

from analysis.curation.roles import CURATOR_GROUP, CURATOR_PERMISSIONS
from analysis.curation.services import CurationError


def curator_group_ensure() -> Group:
    """Create or repair the curator group: exactly `CURATOR_PERMISSIONS`, nothing else."""
    for label in sorted({app for app, _ in CURATOR_PERMISSIONS}):
        # Permissions appear after `migrate`; a fresh database may not have them yet.
        create_permissions(django_apps.get_app_config(label), verbosity=0)
    wanted = Q()
    for app, codename in CURATOR_PERMISSIONS:
        wanted |= Q(content_type__app_label=app, codename=codename)
    permissions = list(Permission.objects.filter(wanted))
    found = {(p.content_type.app_label, p.codename) for p in permissions}
    missing = sorted(set(CURATOR_PERMISSIONS) - found)
    if missing:
        raise CurationError(
            "permissions_missing", f"permissions not found (run migrate first): {missing}"
        )
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=CURATOR_GROUP)
        group.permissions.set(permissions)
    return group


def curator_grant(*, user: AbstractBaseUser) -> None:
    """Make `user` a curator: staff (to reach the admin) and in the curator group; never a
    superuser."""
    group = curator_group_ensure()
    with transaction.atomic():
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(group)
