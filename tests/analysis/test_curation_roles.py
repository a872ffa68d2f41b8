"""The curator role: a group with exactly the permissions curation needs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from analysis.curation.roles import CURATOR_GROUP, CURATOR_PERMISSIONS
from analysis.models import AnalysisStatus
from tests.analysis.curation_support import (
    analysed_catalog,
    client_for,
    make_curator,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline_settings")]


def _codes(group: Group) -> set[tuple[str, str]]:
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_migrate_creates_the_curator_group_with_exactly_its_permissions():
    group = Group.objects.get(name=CURATOR_GROUP)
    assert _codes(group) == set(CURATOR_PERMISSIONS)
    assert not {code for _, code in _codes(group) if code.startswith("delete_")}
    assert not {app for app, _ in _codes(group)} & {"auth", "admin", "django_q"}


def test_a_curator_reviews_but_cannot_delete_catalogs_or_manage_users(shared_data):
    # given a curator and an unsure analysis
    (analysis,) = analysed_catalog(shared_data, [("stone", 0.5, 1)])
    curator = make_curator()
    client = client_for(curator)
    catalog = analysis.image.catalog
    assert curator.is_staff
    assert not curator.is_superuser

    # then the queue, the review page, the costs and the audit trail open
    for url in (
        "/admin/analysis/reviewqueueitem/",
        f"/admin/analysis/reviewqueueitem/{analysis.pk}/change/",
        "/admin/analysis/modelcall/costs/",
        "/admin/analysis/analysisauditentry/",
        f"/admin/materials/catalog/{catalog.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    # and a review decision is allowed
    client.post(f"/admin/analysis/reviewqueueitem/{analysis.pk}/change/", {"_action": "approve"})
    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.APPROVED

    # but deleting a catalog, changing the catalog and managing users are not
    assert client.get(f"/admin/materials/catalog/{catalog.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/materials/catalog/{catalog.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/materials/catalog/{catalog.pk}/change/", {"name": "renamed"}
        ).status_code
        == 403
    )
    catalog.refresh_from_db()
    assert catalog.name == "curation"
    for url in ("/admin/auth/user/", "/admin/auth/user/add/", "/admin/auth/group/"):
        assert client.get(url).status_code == 403, url
    # and no analysis can be deleted by anyone through the admin
    assert client.get(f"/admin/analysis/visualanalysis/{analysis.pk}/delete/").status_code == 403


def test_a_plain_staff_user_sees_no_curation():
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_user("sam", is_staff=True)
    client = client_for(staff)
    assert client.get("/admin/analysis/reviewqueueitem/").status_code == 403
    assert client.get("/admin/analysis/modelcall/costs/").status_code == 403


def test_ensure_curator_group_repairs_the_group_and_adds_curators(django_user_model):
    # given a group someone widened and narrowed by hand
    group = Group.objects.get(name=CURATOR_GROUP)
    group.permissions.add(Permission.objects.get(codename="delete_catalog"))
    group.permissions.remove(Permission.objects.get(codename="change_visualanalysis"))
    user = django_user_model.objects.create_user("cleo")

    # when the command runs
    call_command("ensure_curator_group", "--add", "cleo")

    # then the group is exactly right again, and the user is a curator (staff, not superuser)
    assert _codes(Group.objects.get(name=CURATOR_GROUP)) == set(CURATOR_PERMISSIONS)
    user.refresh_from_db()
    assert user.is_staff
    assert not user.is_superuser
    assert user.groups.filter(name=CURATOR_GROUP).exists()
    assert user.has_perm("analysis.change_visualanalysis")
    assert not user.has_perm("materials.delete_catalog")


def test_ensure_curator_group_refuses_an_unknown_user():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("ensure_curator_group", "--add", "ghost")
