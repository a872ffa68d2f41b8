"""The curator group with exactly the permissions curation needs (see analysis.curation.roles).

`manage.py ensure_curator_group` repairs it later (e.g. after permissions change)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q


def curator_group_create(apps, schema_editor):
    from analysis.curation.roles import CURATOR_GROUP, CURATOR_PERMISSIONS

    # Permissions are normally made after all migrations: make them now for these apps.
    for label in sorted({app for app, _ in CURATOR_PERMISSIONS}):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Q()
    for app, codename in CURATOR_PERMISSIONS:
        wanted |= Q(content_type__app_label=app, codename=codename)
    group, _ = Group.objects.get_or_create(name=CURATOR_GROUP)
    group.permissions.set(Permission.objects.filter(wanted))


def curator_group_delete(apps, schema_editor):
    from analysis.curation.roles import CURATOR_GROUP

    apps.get_model("auth", "Group").objects.filter(name=CURATOR_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0004_curation"),
        ("materials", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(curator_group_create, curator_group_delete)]
