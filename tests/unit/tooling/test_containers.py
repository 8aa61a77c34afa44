"""The containers users run match what the project tests: ``docker-compose.yml`` is valid for
the Compose specification (its JSON schema, ``tests/helpers/compose-spec.json``, copied from
github.com/compose-spec/compose-spec at 170098b, Apache-2.0 — no Docker engine here to ask), no
container installs anything when it starts, the portal image's packages are the lock's with
their hashes, and the portal gets every setting it needs in production."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from collecte_kc import production
from portal import defaults
from portal.web.app import OPTIONAL_SECRETS, REQUIRED_SECRETS

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "tests" / "helpers" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_compose_file_is_valid_for_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_no_container_installs_packages_when_it_starts(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        command = json.dumps(service.get("command", ""))
        assert "pip install" not in command, name
        # only the stores and the servers configured from this repository mount anything
        assert "volumes" not in service or name in {"postgres", "redis", "keycloak", "proxy"}, name


def test_every_image_is_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = str(service.get("image", ""))
        if "build" in service:
            continue  # built here, from pinned bases (checked below for the portal)
        assert re.search(r":\d+(\.\d+)*([-@].*)?$", image), (name, image)
    base = re.search(r"^FROM (\S+)", (ROOT / "portal" / "Dockerfile").read_text(), re.M)
    assert base is not None
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base.group(1)), base.group(1)


def test_the_portal_image_installs_the_lock_with_its_hashes() -> None:
    dockerfile = (ROOT / "portal" / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile
    assert "-r portal/requirements.lock" in dockerfile
    assert re.search(r"^RUN pip install ", dockerfile, re.M)


def locked() -> dict[str, tuple[str, int]]:
    """Package → (version, number of hashes) in portal/requirements.lock."""
    text = (ROOT / "portal" / "requirements.lock").read_text()
    found: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block)
        if match:
            found[canonicalize_name(match.group(1))] = (match.group(2), block.count("--hash="))
    return found


def test_the_lock_pins_every_dependency_of_pyproject_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["redis"]]
    pins = locked()
    for line in wanted:
        requirement = Requirement(line)
        version, hashes = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), (line, version)
        assert hashes >= 1, requirement.name
    assert all(hashes >= 1 for _, hashes in pins.values())


def test_the_portal_gets_its_production_settings(compose: dict[str, Any]) -> None:
    environment = compose["services"]["portal"]["environment"]
    for setting in (
        "PORTAL_URL",
        "KEYCLOAK_URL",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_STARTTLS",
        "SMTP_USER",
        "SMTP_PASSWORD",
        "MAIL_FROM",
        "SUPPORT_EMAIL",
        # the hosts' shared store: sessions, import jobs, abuse-limit counters
        "SESSION_REDIS_URL",
        "TASKS_REDIS_URL",
        "RATE_LIMIT_STORAGE_URI",
        *REQUIRED_SECRETS,
    ):
        assert f"COLLECTE_{setting}" in environment, setting
    # the task queue's consumers read the same settings as the portal they serve
    worker = compose["services"]["worker"]
    assert worker["command"] == ["python", "-m", "portal.worker"]
    assert {**worker["environment"], "COLLECTE_PORTAL_WORKERS": "4"} == environment
    # and names nothing the portal would not read (a typo would be silently ignored)
    known = {name for name in vars(defaults) if name.isupper()} | {
        *REQUIRED_SECRETS,
        *OPTIONAL_SECRETS,
        "PORTAL_WORKERS",  # portal/gunicorn_conf.py
    }
    for variable in environment:
        assert variable.removeprefix("COLLECTE_") in known, variable


def test_two_of_each_behind_the_proxy_on_the_shared_template(compose: dict[str, Any]) -> None:
    """As the topology that the production tests start: two Keycloak replicas, two portal hosts
    and their consumers, nginx filled in from the same template."""
    services = compose["services"]
    for name in ("keycloak", "portal", "worker"):
        assert services[name]["deploy"]["replicas"] == 2, name
    proxy = services["proxy"]
    assert (
        "./keycloak/proxy/collecte.conf.template:/etc/nginx/templates/collecte.conf.template:ro"
        in proxy["volumes"]
    )
    template = (ROOT / "keycloak" / "proxy" / "collecte.conf.template").read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", template))
    assert placeholders == set(proxy["environment"]), placeholders
    assert (
        "./keycloak/conf/quarkus.properties:/opt/keycloak/conf/quarkus.properties:ro"
        in services["keycloak"]["volumes"]
    )


#: Every value docker-compose.yml requires from its .env (a placeholder each).
PRODUCTION_ENV = {
    "KC_DB_PASSWORD": "base",
    "COLLECTE_REDIS_PASSWORD": "redis",
    "COLLECTE_PORTAL_URL": "https://collecte.example.fr",
    "COLLECTE_PUBLIC_HOSTNAME": "collecte.example.fr",
    "COLLECTE_BOOTSTRAP_CLIENT_SECRET": "amorcage",
    "COLLECTE_OIDC_CLIENT_SECRET": "oidc",
    "COLLECTE_ADMIN_CLIENT_SECRET": "admin",
    "COLLECTE_SECRET_KEY": "cle",
    "COLLECTE_SMTP_HOST": "smtp.example.fr",
    "COLLECTE_SMTP_FROM": "ne-pas-repondre@example.fr",
    "COLLECTE_SMTP_USER": "relais",
    "COLLECTE_SMTP_PASSWORD": "relais",
    "COLLECTE_SUPPORT_EMAIL": "support@example.fr",
}
COMPOSE_CHECK = ROOT / ".cache" / "compose-check" / "compose-check"


def compose_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Docker Compose's own loader (compose-go, keycloak/tools/compose-check, built by the
    bootstrap) on docker-compose.yml, with only ``env`` in the environment."""
    assert COMPOSE_CHECK.exists(), "./keycloak/bootstrap.sh --browser construit compose-check"
    return subprocess.run(
        [str(COMPOSE_CHECK), str(ROOT / "docker-compose.yml")],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_docker_composes_own_loader_accepts_the_file() -> None:
    loaded = compose_check(PRODUCTION_ENV)
    assert loaded.returncode == 0, loaded.stderr
    assert sorted(loaded.stdout.split()) == [
        "keycloak",
        "portal",
        "postgres",
        "provision",
        "proxy",
        "redis",
        "worker",
    ]


def test_docker_composes_own_loader_refuses_it_without_each_secret() -> None:
    for name in PRODUCTION_ENV:
        missing = compose_check({k: v for k, v in PRODUCTION_ENV.items() if k != name})
        assert missing.returncode == 1, name
        assert f"required variable {name} is missing a value" in missing.stderr, name


def test_each_keycloak_container_has_a_memory_limit_the_topology_heap_follows(
    compose: dict[str, Any],
) -> None:
    """kc.sh sizes Keycloak's heap from its container's memory (70 % at most, 50 % at start):
    without a limit each replica could take 70 % of the host. The production topology, run
    without containers, gives its nodes the heap the container would get."""
    limit = compose["services"]["keycloak"]["deploy"]["resources"]["limits"]["memory"]
    mebibytes = int(limit.removesuffix("g")) * 1024
    expected = f"-Xms{mebibytes * 50 // 100}m -Xmx{round(mebibytes * 0.7)}m"
    assert expected == production.CONTAINER_HEAP


@pytest.mark.parametrize(
    ("asked", "heap"), [(None, production.CONTAINER_HEAP), ("-Xmx3g", "-Xmx3g")]
)
def test_topology_nodes_get_the_containers_heap_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asked: str | None, heap: str
) -> None:
    started: dict[str, str] = {}

    def popen(command: list[str], env: dict[str, str], **kwargs: Any) -> None:
        started.update(env)

    monkeypatch.setattr(production.subprocess, "Popen", popen)
    node = production.Node("a", tmp_path / "home", 1, 2, 3)
    node.start({"JAVA_OPTS_KC_HEAP": asked} if asked else {}, [])
    assert started["JAVA_OPTS_KC_HEAP"] == heap
