import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_a_first_run_gets_an_admin_login_that_works(client):
    line = _run().strip()
    assert line.endswith(" (created now)")
    username, password = line.removesuffix(" (created now)").split(": ", 1)[1].split(" / ")
    assert client.login(username=username, password=password)
    assert client.get("/admin/").status_code == 200


def test_an_existing_superuser_is_left_alone():
    get_user_model().objects.create_superuser("boss", "", "a-long-password-1")
    line = _run()
    assert line.startswith("login: boss (made earlier")
    assert "changepassword boss" in line
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
