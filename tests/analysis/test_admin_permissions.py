"""Every custom admin view checks the model's permissions as the model admin does: a staff user
without permissions gets 403 on each one (found from the admin's URLs, so a view added later is
checked too), and a user with the model's view permission gets it."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from tests.analysis.pipeline_support import pending_analyses, store_images

# The model admin's own views: Django checks their permissions itself.
STANDARD = ("_changelist", "_add", "_history", "_delete", "_autocomplete")


def _custom_views() -> list[tuple[type, str, bool]]:
    """(model, url name, takes an object id) of every view a model admin adds to the standard."""
    found = []
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}"
        for pattern in model_admin.get_urls():
            name = pattern.name or ""
            if not name.startswith(prefix) or name.endswith(STANDARD) or name == f"{prefix}_change":
                continue
            found.append((model, name, bool(pattern.pattern.regex.groupindex)))
    return found


@pytest.fixture
def staff_without_permissions(client):
    user = User.objects.create_user("staff-nobody", password="x", is_staff=True)
    client.force_login(user)
    return user


def _url(model, name: str, takes_id: bool) -> str:
    if not takes_id:
        return reverse(f"admin:{name}")
    pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    assert pk is not None, f"no {model.__name__} to open {name} with"
    return reverse(f"admin:{name}", args=[pk])


@pytest.mark.django_db
def test_there_are_custom_admin_views_to_check():
    names = {name for _, name, _ in _custom_views()}
    assert {"analysis_visualanalysis_failed", "analysis_modelcall_costs"} <= names


@pytest.mark.django_db
def test_a_staff_user_without_permissions_gets_403_on_every_custom_admin_view(
    client, staff_without_permissions, shared_data
):
    (image,) = store_images(shared_data, 1, catalog="admin-permissions")
    (analysis_id,) = pending_analyses([image])
    for model, name, takes_id in _custom_views():
        response = client.get(_url(model, name, takes_id))
        assert response.status_code == 403, name
    # the review page (the analysis' change view, rebuilt) too
    for model_name in ("visualanalysis", "reviewqueueitem"):
        response = client.get(reverse(f"admin:analysis_{model_name}_change", args=[analysis_id]))
        assert response.status_code == 403, model_name


@pytest.mark.django_db
def test_the_failed_analyses_need_the_view_permission_and_show_with_it(
    client, staff_without_permissions, shared_data
):
    # given a failed analysis (its reason names a server path)
    from analysis.models import AnalysisStatus, VisualAnalysis

    (image,) = store_images(shared_data, 1, catalog="admin-failed")
    (analysis_id,) = pending_analyses([image])
    VisualAnalysis.objects.filter(pk=analysis_id).update(
        status=AnalysisStatus.FAILED, error_reason="image unreadable: /srv/media/secret.png"
    )
    url = reverse("admin:analysis_visualanalysis_failed")
    # then a staff user without permissions is refused, and sees no path
    response = client.get(url)
    assert response.status_code == 403
    assert b"/srv/media" not in response.content
    # and with the view permission of analyses the list shows
    staff_without_permissions.user_permissions.add(
        Permission.objects.get(codename="view_visualanalysis")
    )
    response = client.get(url)
    assert response.status_code == 200
    assert b"/srv/media/secret.png" in response.content
