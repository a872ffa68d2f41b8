"""Issue 14: API keys made, listed, rotated and revoked by `manage.py api_keys` and the admin."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from access.models import ApiKey
from access.selectors import key_check

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_makes_lists_rotates_and_revokes_keys(owner):
    out, err = _run("create", "--name", "shop", "--owner", "integrator", "--scopes", "search",
                    "--ips", "10.0.0.0/8", "--origins", "https://Shop.example/")  # fmt: skip
    secret = out.strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert "not shown again" in err
    assert key_check(secret=secret).key == key
    assert (key.scopes, key.allowed_ips, key.allowed_origins) == (
        ["search"], ["10.0.0.0/8"], ["https://shop.example"])  # fmt: skip

    out, err = _run("rotate", key.prefix)
    new_secret = out.strip().splitlines()[-1]
    new = key_check(secret=new_secret).key
    assert new.scopes == ["search"]
    assert new.allowed_ips == ["10.0.0.0/8"]
    assert f"The old key {key.prefix} works until" in err
    assert key_check(secret=secret).problem is None  # the grace

    listing, _ = _run("list")
    assert f"{key.prefix}\tshop\tintegrator\tsearch\tstandard\trotated: valid until" in listing
    assert f"{new.prefix}\tshop\tintegrator\tsearch\tstandard\tactive" in listing

    _run("revoke", new.prefix)
    assert key_check(secret=new_secret).problem == "api_key_revoked"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "search,admin"], "unknown scope 'admin'"),
        (["--ips", "10.0.0.300"], "'10.0.0.300' is not an IP address or CIDR"),
        (["--origins", "app.example.com"], "is not a web origin"),
        (["--tier", "gold"], "unknown tier 'gold'"),
        (["--catalogs", "nope"], "no catalog 'nope'"),
    ],
)
def test_the_command_refuses_unusable_settings_clearly(owner, args, message):
    with pytest.raises(CommandError, match=message):
        _run("create", "--name", "x", "--owner", "integrator", *args)
    assert not ApiKey.objects.exists()


def test_the_admin_shows_a_new_key_once_and_rotates(admin_client, owner):
    response = admin_client.post("/admin/access/apikey/add/", {
        "name": "from admin", "owner": owner.pk, "scopes": "search,catalog:read",
        "tier": "standard", "allowed_ips": "", "allowed_origins": ""}, follow=True)  # fmt: skip
    shown = [str(m) for m in response.context["messages"]]
    key = ApiKey.objects.get()
    assert any(key.prefix + "." in m and "not be able to see it again" in m for m in shown)

    response = admin_client.post("/admin/access/apikey/", {
        "action": "rotate", "_selected_action": [key.pk]}, follow=True)  # fmt: skip
    shown = [str(m) for m in response.context["messages"]]
    assert ApiKey.objects.count() == 2
    assert any("New key for from admin" in m and "works until" in m for m in shown)
    listing = admin_client.get("/admin/access/apikey/").content.decode()
    assert "rotated: valid until" in listing
