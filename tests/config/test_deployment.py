"""The deployment files, checked without Docker (it cannot run here): the compose file is valid
by the Compose Specification's JSON schema (the one `check-jsonschema` ships), every variable
it gives Swatch's containers is a declared setting, the Dockerfile (parsed by BuildKit's own
parser, the `dockerfile` package) is multi-stage, non-root, health-checked and runs the
Procfile's commands through its entrypoint, and those commands exist and start."""

from __future__ import annotations

import copy
import importlib.resources
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dockerfile
import jsonschema
import pytest
import yaml
from django.core.management import call_command, get_commands
from django.urls import resolve

from config.env.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _compose_schema() -> dict:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendored / "compose-spec.json").read_text())


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def _entrypoint_command(process: str) -> str:
    done = subprocess.run(
        [str(ROOT / "docker" / "entrypoint.sh"), "--print", process],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _swatch_services(compose: dict) -> dict[str, dict]:
    """The services that run Swatch's own image (the others are PostgreSQL and Redis)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if "build" in service or str(service.get("image", "")).startswith("swatch")
    }


def _stages() -> list[list]:
    stages: list[list] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            stages.append([])
        stages[-1].append(command)
    return stages


def _final_stage() -> dict[str, list]:
    by_instruction: dict[str, list] = {}
    for command in _stages()[-1]:
        by_instruction.setdefault(command.cmd, []).append(command)
    return by_instruction


def test_the_compose_file_is_valid_by_the_compose_specification():
    # given the Compose Specification's schema, and a validator that can fail
    validator = jsonschema.Draft202012Validator(_compose_schema())
    broken = copy.deepcopy(_compose())
    broken["services"]["web"]["ports"] = {"8000": "8000"}  # a mapping where a list belongs
    broken["services"]["worker"]["depends_on"] = {"release": {"condition": "when-it-likes"}}

    # when
    errors = [error.message for error in validator.iter_errors(_compose())]
    broken_errors = list(validator.iter_errors(broken))

    # then our file passes and the broken copy does not
    assert errors == []
    assert len(broken_errors) >= 2


def test_compose_runs_web_worker_postgres_with_pgvector_and_redis():
    services = _compose()["services"]

    assert services["db"]["image"].startswith("pgvector/pgvector:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert services["release"]["command"] == ["release"]
    # web and worker start after the release step migrated the database
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["release"] == {
            "condition": "service_completed_successfully"
        }


def test_every_variable_compose_gives_swatch_is_a_declared_setting():
    services = _swatch_services(_compose())
    assert set(services) == {"release", "web", "worker"}
    for name, service in services.items():
        names = set(service["environment"])
        undeclared = sorted(names - set(REGISTRY))
        assert not undeclared, f"{name}: {undeclared} are not declared in config/env/"
        assert {"DATABASE_URL", "REDIS_URL", "SWATCH_SECRET_KEY"} <= names


def test_the_dockerfile_is_multi_stage_non_root_and_health_checked():
    stages = _stages()
    final = _final_stage()

    assert len(stages) >= 2
    user = final["USER"][-1].value[0]
    assert user not in {"root", "0"}
    assert any("useradd" in c.value[0] and user in c.value[0] for c in final["RUN"])
    healthcheck = " ".join(final["HEALTHCHECK"][-1].value)
    assert "/healthz" in healthcheck
    assert resolve("/healthz").url_name == "healthz"
    # nothing from the build stage but the virtualenv: no compiler, no pip cache
    copied_from = {flag for c in final["COPY"] for flag in c.flags if flag.startswith("--from=")}
    assert copied_from <= {"--from=build", "--from=static"}


def test_the_offline_model_files_are_inside_the_image():
    final = _final_stage()
    env = dict(zip(*[iter(value for c in final["ENV"] for value in c.value)] * 2, strict=True))
    weights = env["SWATCH_OFFLINE_WEIGHTS_DIR"]
    # the code is copied whole into /app, and .dockerignore keeps the weights in it
    assert any(c.value == (".", "/app") for c in final["COPY"])
    assert weights.startswith("/app/")
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    local = ROOT / weights.removeprefix("/app/")
    assert not any(local.relative_to(ROOT).as_posix().startswith(p) for p in ignored if p)
    assert {p.suffix for p in local.iterdir()} >= {".onnx", ".json", ".npz"}
    # and every Swatch setting the image sets is a declared one
    ours = [name for name in env if name.startswith("SWATCH_") or name.endswith("_URL")]
    assert ours
    assert not sorted(set(ours) - set(REGISTRY))


def test_the_entrypoint_runs_the_procfiles_commands():
    final = _final_stage()
    procfile = _procfile()

    assert final["ENTRYPOINT"][-1].value == ("/app/docker/entrypoint.sh",)
    assert final["CMD"][-1].value == ("web",)
    for process in ("web", "worker", "release"):
        assert _entrypoint_command(process) == procfile[process]
    # `./swatch up` starts the same web server with the same settings module
    script = " ".join((ROOT / "swatch").read_text().replace("\\\n", " ").split())
    assert re.search(r'gunicorn"? -c config/gunicorn\.py config\.wsgi:application', script)


def test_the_worker_and_release_commands_exist():
    procfile = _procfile()
    commands = get_commands()

    assert procfile["worker"] == "python manage.py qcluster"
    assert "qcluster" in commands
    assert procfile["release"] == "python manage.py deploy_prepare"
    assert "deploy_prepare" in commands


@pytest.mark.django_db(transaction=True)
def test_the_release_step_migrates_and_creates_the_cache_table(capsys):
    call_command("deploy_prepare", verbosity=0)

    assert "release prepared" in capsys.readouterr().out


def _gunicorn_config(extra_env: dict[str, str]) -> dict[str, str]:
    """gunicorn itself loads the settings module and the WSGI application (`--check-config`
    imports the app), then prints the settings it would run with."""
    environment = {**os.environ, **extra_env}
    command = [str(GUNICORN), "-c", "config/gunicorn.py", "config.wsgi:application"]
    subprocess.run([*command, "--check-config"], cwd=ROOT, env=environment, check=True)
    printed = subprocess.run(
        [*command, "--print-config"], cwd=ROOT, env=environment, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    pairs = (line.split("=", 1) for line in printed.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_web_command_starts_gunicorn_sized_from_the_cpu_count():
    web = _procfile()["web"].split()
    assert web[:3] == ["gunicorn", "-c", "config/gunicorn.py"]
    cores = len(os.sched_getaffinity(0))

    sized = _gunicorn_config({"SWATCH_WEB_WORKERS": "", "SWATCH_HOST": "0.0.0.0"})  # noqa: S104
    chosen = _gunicorn_config({"SWATCH_WEB_WORKERS": "3", "SWATCH_PORT": "8123"})

    assert sized["workers"] == str(2 * cores + 1)
    assert sized["bind"] == "['0.0.0.0:8000']"
    assert sized["worker_class"] == "gthread"
    assert chosen["workers"] == "3"
    assert chosen["bind"] == "['127.0.0.1:8123']"
